using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using QGenEngine.Tensors;
using Tensor = QGenEngine.Tensors.Tensor;

namespace QGenEngine.Kernels.Cpu;

// Batch norm, pooling, softmax, losses, indexing and optimiser updates.
public sealed partial class CpuDevice
{
    private readonly record struct BnJob(float[] X, int Xo, float[] Y, int Yo, float[] G, int Go, int N, int C, int S,
        Tensor Gamma, Tensor Beta, Tensor Rm, Tensor Rv, Tensor Mean, Tensor Inv, float Momentum, float Eps, Tensor? Dgamma);

    public void BatchNorm(Tensor x, int n, int c, int s, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                          Tensor saveMean, Tensor saveInvStd, float momentum, float eps, Tensor y)
    {
        var job = new BnJob(A(x), (int)x.Offset, A(y), (int)y.Offset, A(x), 0, n, c, s, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, momentum, eps, null);
        CpuParallel.For(c, job, static (j, ch) =>
        {
            int cnt = j.N * j.S;
            double sum = 0;
            for (int i = 0; i < j.N; i++) sum += TensorPrimitives.Sum(j.X.AsSpan(j.Xo + (i * j.C + ch) * j.S, j.S));
            double mean = sum / cnt, sq = 0;
            for (int i = 0; i < j.N; i++)
                foreach (float v in j.X.AsSpan(j.Xo + (i * j.C + ch) * j.S, j.S)) { double d = v - mean; sq += d * d; }
            double var = sq / cnt, inv = 1 / Math.Sqrt(var + j.Eps);
            S(j.Mean)[ch] = (float)mean; S(j.Inv)[ch] = (float)inv;
            S(j.Rm)[ch] = (float)((1 - j.Momentum) * S(j.Rm)[ch] + j.Momentum * mean);
            S(j.Rv)[ch] = (float)((1 - j.Momentum) * S(j.Rv)[ch] + j.Momentum * (cnt > 1 ? var * cnt / (cnt - 1) : var));
            float scale = (float)(inv * S(j.Gamma)[ch]), shift = (float)(S(j.Beta)[ch] - mean * inv * S(j.Gamma)[ch]);
            for (int i = 0; i < j.N; i++)
                Affine(j.X.AsSpan(j.Xo + (i * j.C + ch) * j.S, j.S), scale, shift, j.Y.AsSpan(j.Yo + (i * j.C + ch) * j.S, j.S));
        });
    }

    public void BatchNormBackward(Tensor x, Tensor dy, int n, int c, int s, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta)
    {
        var job = new BnJob(A(x), (int)x.Offset, A(dx), (int)dx.Offset, A(dy), (int)dy.Offset, n, c, s, gamma, dbeta, dbeta, dbeta, saveMean, saveInvStd, 0, 0, dgamma);
        CpuParallel.For(c, job, static (j, ch) =>
        {
            int cnt = j.N * j.S;
            float mean = S(j.Mean)[ch], inv = S(j.Inv)[ch], gm = S(j.Gamma)[ch];
            double sumDy = 0, sumDyXc = 0;
            for (int i = 0; i < j.N; i++)
            {
                int o = (i * j.C + ch) * j.S;
                var g = j.G.AsSpan(j.Go + o, j.S); var xs = j.X.AsSpan(j.Xo + o, j.S);
                float sd = 0, sdx = 0;
                for (int q = 0; q < j.S; q++) { sd += g[q]; sdx += g[q] * (xs[q] - mean); }
                sumDy += sd; sumDyXc += sdx;
            }
            S(j.Dgamma!)[ch] += (float)(sumDyXc * inv);
            S(j.Beta)[ch] += (float)sumDy;
            // dx = γ·inv·dy − γ·inv·ΣdY/cnt − (x − μ)·γ·inv³·Σ(dy·(x−μ))/cnt
            float k1 = gm * inv, k2 = (float)(gm * inv * sumDy / cnt), k3 = (float)(gm * (double)inv * inv * inv * sumDyXc / cnt);
            for (int i = 0; i < j.N; i++)
            {
                int o = (i * j.C + ch) * j.S;
                var g = j.G.AsSpan(j.Go + o, j.S); var xs = j.X.AsSpan(j.Xo + o, j.S); var d = j.Y.AsSpan(j.Yo + o, j.S);
                for (int q = 0; q < j.S; q++) d[q] = k1 * g[q] - k2 - (xs[q] - mean) * k3;
            }
        });
    }

    private readonly record struct PoolJob(float[] X, int Xo, float[] Y, int Yo, float[] Arg, int Ao, PoolGeometry G);

    public void MaxPool2d(Tensor x, Tensor y, Tensor argmax, PoolGeometry g)
    {
        CpuParallel.For(g.Batch * g.Channels, new PoolJob(A(x), (int)x.Offset, A(y), (int)y.Offset, A(argmax), (int)argmax.Offset, g), static (j, p) =>
        {
            var g = j.G;
            var src = j.X.AsSpan(j.Xo + p * g.InH * g.InW, g.InH * g.InW);
            for (int oh = 0; oh < g.OutH; oh++)
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    float best = float.NegativeInfinity; int arg = -1;
                    for (int kh = 0; kh < g.Kernel; kh++)
                    {
                        int ih = oh * g.Stride - g.Pad + kh;
                        if ((uint)ih >= (uint)g.InH) continue;
                        for (int kw = 0; kw < g.Kernel; kw++)
                        {
                            int iw = ow * g.Stride - g.Pad + kw;
                            if ((uint)iw >= (uint)g.InW) continue;
                            float v = src[ih * g.InW + iw];
                            if (v > best || arg < 0) { best = v; arg = ih * g.InW + iw; }
                        }
                    }
                    int o = j.Yo + (p * g.OutH + oh) * g.OutW + ow;
                    j.Y[o] = best; j.Arg[j.Ao - j.Yo + o] = arg;
                }
        });
    }

    public void MaxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, PoolGeometry g)
    {
        CpuParallel.For(g.Batch * g.Channels, new PoolJob(A(dy), (int)dy.Offset, A(dx), (int)dx.Offset, A(argmax), (int)argmax.Offset, g), static (j, p) =>
        {
            var g = j.G; int outPlane = g.OutH * g.OutW;
            var d = j.Y.AsSpan(j.Yo + p * g.InH * g.InW, g.InH * g.InW);
            d.Clear();
            for (int o = 0; o < outPlane; o++) d[(int)j.Arg[j.Ao + p * outPlane + o]] += j.X[j.Xo + p * outPlane + o];
        });
    }

    private readonly record struct SoftJob(float[] X, int Xo, float[] G, int Go, float[] Y, int Yo, int R, int Inner, bool Log);

    public void Softmax(Tensor x, int outer, int r, int inner, bool log, Tensor y)
    {
        CpuParallel.For(outer, new SoftJob(A(x), (int)x.Offset, A(x), 0, A(y), (int)y.Offset, r, inner, log), static (j, o) =>
        {
            for (int i = 0; i < j.Inner; i++)
            {
                int b = o * j.R * j.Inner + i;
                float max = float.NegativeInfinity;
                for (int k = 0; k < j.R; k++) max = MathF.Max(max, j.X[j.Xo + b + k * j.Inner]);
                double sum = 0;
                for (int k = 0; k < j.R; k++) sum += MathF.Exp(j.X[j.Xo + b + k * j.Inner] - max);
                float ls = (float)Math.Log(sum), inv = (float)(1 / sum);
                for (int k = 0; k < j.R; k++)
                {
                    float v = j.X[j.Xo + b + k * j.Inner] - max;
                    j.Y[j.Yo + b + k * j.Inner] = j.Log ? v - ls : MathF.Exp(v) * inv;
                }
            }
        });
    }

    public void SoftmaxBackward(Tensor y, Tensor dy, int outer, int r, int inner, bool log, Tensor dx)
    {
        CpuParallel.For(outer, new SoftJob(A(y), (int)y.Offset, A(dy), (int)dy.Offset, A(dx), (int)dx.Offset, r, inner, log), static (j, o) =>
        {
            for (int i = 0; i < j.Inner; i++)
            {
                int b = o * j.R * j.Inner + i;
                double dot = 0;
                for (int k = 0; k < j.R; k++) dot += j.Log ? j.G[j.Go + b + k * j.Inner] : (double)j.G[j.Go + b + k * j.Inner] * j.X[j.Xo + b + k * j.Inner];
                float d = (float)dot;
                for (int k = 0; k < j.R; k++)
                {
                    float yv = j.X[j.Xo + b + k * j.Inner], gv = j.G[j.Go + b + k * j.Inner];
                    j.Y[j.Yo + b + k * j.Inner] = j.Log ? gv - MathF.Exp(yv) * d : yv * (gv - d);
                }
            }
        });
    }

    public void BceWithLogits(Tensor x, Tensor t, Tensor y)
    {
        var X = S(x); var T = S(t); var Y = S(y);
        for (int i = 0; i < X.Length; i++) Y[i] = MathF.Max(X[i], 0) - X[i] * T[i] + MathF.Log(1 + MathF.Exp(-MathF.Abs(X[i])));
    }

    public void BceWithLogitsBackward(Tensor x, Tensor t, Tensor dy, Tensor dx, Tensor? dt)
    {
        var X = S(x); var T = S(t); var G = S(dy); var D = S(dx);
        TensorPrimitives.Sigmoid(X, D);
        TensorPrimitives.Subtract(D, T, D);
        TensorPrimitives.Multiply(D, G, D);
        if (dt is not null) { var DT = S(dt); TensorPrimitives.Multiply(X, G, DT); TensorPrimitives.Negate(DT, DT); }
    }

    public void IndexSelect(Tensor w, Tensor idx, Tensor y)
    {
        int d = w.Shape[1], v = w.Shape[0]; var W = S(w); var Y = S(y); var I = S(idx);
        for (int i = 0; i < I.Length; i++)
        {
            int r = (int)I[i];
            if ((uint)r >= (uint)v) throw new IndexOutOfRangeException($"index {I[i]} is outside [0, {v})");
            W.Slice(r * d, d).CopyTo(Y.Slice(i * d, d));
        }
    }

    public void IndexAdd(Tensor dy, Tensor idx, Tensor dw)
    {
        int d = dw.Shape[1]; var G = S(dy); var DW = S(dw); var I = S(idx);
        for (int i = 0; i < I.Length; i++)
        {
            int r = (int)I[i];
            TensorPrimitives.Add(DW.Slice(r * d, d), G.Slice(i * d, d), DW.Slice(r * d, d));
        }
    }

    public void Gather(Tensor x, int[] idx, Tensor y)
    {
        int c = x.Shape[1]; var X = S(x); var Y = S(y);
        for (int i = 0; i < idx.Length; i++)
        {
            if ((uint)idx[i] >= (uint)c) throw new IndexOutOfRangeException($"class index {idx[i]} is outside [0, {c})");
            Y[i] = X[i * c + idx[i]];
        }
    }

    public void GatherBackward(Tensor dy, int[] idx, Tensor dx)
    {
        int c = dx.Shape[1]; var G = S(dy); var DX = S(dx);
        for (int i = 0; i < idx.Length; i++) DX[i * c + idx[i]] += G[i];
    }

    private readonly record struct NearestJob(float[] Z, int Zo, float[] E, int Eo, float[] Idx, int Io, int D, int K);

    private readonly record struct ArgJob(float[] X, int Xo, float[] Y, int Yo, int R, int Inner, bool Min);

    public void ArgReduce(Tensor x, int outer, int r, int inner, bool min, Tensor idx)
    {
        CpuParallel.For(outer, new ArgJob(A(x), (int)x.Offset, A(idx), (int)idx.Offset, r, inner, min), static (j, o) =>
        {
            for (int i = 0; i < j.Inner; i++)
            {
                int b = j.Xo + o * j.R * j.Inner + i, arg = 0;
                float best = j.X[b];
                for (int k = 1; k < j.R; k++)
                {
                    float v = j.X[b + k * j.Inner];
                    if (j.Min ? v < best : v > best) { best = v; arg = k; }
                }
                j.Y[j.Yo + o * j.Inner + i] = arg;
            }
        });
    }

    private readonly record struct CategoricalJob(float[] L, int Lo, float[] Y, int Yo, int Classes, ulong Seed);

    public void SampleCategorical(Tensor logits, int rows, int classes, ulong seed, Tensor idx)
    {
        CpuParallel.For(rows, new CategoricalJob(A(logits), (int)logits.Offset, A(idx), (int)idx.Offset, classes, seed), static (j, i) =>
        {
            var l = j.L.AsSpan(j.Lo + i * j.Classes, j.Classes);
            float max = TensorPrimitives.Max(l);
            double total = 0;
            foreach (float v in l) total += MathF.Exp(v - max);
            double u = CounterRng.Uniform(j.Seed, (ulong)i) * total, acc = 0;
            int pick = j.Classes - 1;
            for (int c = 0; c < j.Classes; c++)
            {
                acc += MathF.Exp(l[c] - max);
                if (u < acc) { pick = c; break; }
            }
            j.Y[j.Yo + i] = pick;
        });
    }

    public void NearestRows(Tensor z, Tensor codebook, Tensor idxT)
    {
        var idx = A(idxT); int io = (int)idxT.Offset;
        // Exact squared distances row by row (a GEMM form ||z||² − 2z·e + ||e||² would be faster but can flip near-ties).
        CpuParallel.For(z.Shape[0], new NearestJob(A(z), (int)z.Offset, A(codebook), (int)codebook.Offset, idx, io, z.Shape[1], codebook.Shape[0]), static (j, i) =>
        {
            var zi = j.Z.AsSpan(j.Zo + i * j.D, j.D);
            float best = float.PositiveInfinity; int arg = 0;
            for (int k = 0; k < j.K; k++)
            {
                float dist = TensorPrimitives.Distance(zi, j.E.AsSpan(j.Eo + k * j.D, j.D));
                if (dist < best) { best = dist; arg = k; }
            }
            j.Idx[j.Io + i] = arg;
        });
    }

    private readonly record struct AdamJob(float[] P, int Po, float[] G, int Go, float[] M, int Mo, float[] V, int Vo, int N, int Chunks,
        float Lr, float B1, float B2, float Eps, float Wd, bool Decoupled, float Bc1, float Bc2Sqrt);

    public void AdamStep(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        int n = (int)p.Numel, chunks = CpuParallel.Chunks(n, Grain);
        float bc1 = 1 - MathF.Pow(beta1, step), bc2s = MathF.Sqrt(1 - MathF.Pow(beta2, step));
        var job = new AdamJob(A(p), (int)p.Offset, A(g), (int)g.Offset, A(m), (int)m.Offset, A(v), (int)v.Offset, n, chunks, lr, beta1, beta2, eps, weightDecay, decoupled, bc1, bc2s);
        CpuParallel.For(chunks, job, static (j, c) =>
        {
            var (s, e) = CpuParallel.Range(j.N, j.Chunks, c);
            var P = j.P.AsSpan(j.Po + s, e - s); var G = j.G.AsSpan(j.Go + s, e - s);
            var M = j.M.AsSpan(j.Mo + s, e - s); var V = j.V.AsSpan(j.Vo + s, e - s);
            float step = j.Lr / j.Bc1, inv = 1 / j.Bc2Sqrt, decay = j.Decoupled ? 1 - j.Lr * j.Wd : 1, l2 = j.Decoupled ? 0 : j.Wd;
            var vb1 = Vector256.Create(j.B1); var vb1c = Vector256.Create(1 - j.B1);
            var vb2 = Vector256.Create(j.B2); var vb2c = Vector256.Create(1 - j.B2);
            var vstep = Vector256.Create(step); var vinv = Vector256.Create(inv); var veps = Vector256.Create(j.Eps);
            var vdecay = Vector256.Create(decay); var vl2 = Vector256.Create(l2);
            int i = 0;
            for (; i <= P.Length - 8; i += 8)
            {
                var pv = Vector256.Create(P.Slice(i, 8)); var gv = Vector256.Create(G.Slice(i, 8)) + vl2 * pv;
                pv *= vdecay;
                var mv = vb1 * Vector256.Create(M.Slice(i, 8)) + vb1c * gv;
                var vv = vb2 * Vector256.Create(V.Slice(i, 8)) + vb2c * gv * gv;
                mv.CopyTo(M.Slice(i, 8)); vv.CopyTo(V.Slice(i, 8));
                (pv - vstep * mv / (Vector256.Sqrt(vv) * vinv + veps)).CopyTo(P.Slice(i, 8));
            }
            for (; i < P.Length; i++)
            {
                float gv = G[i] + l2 * P[i];
                P[i] *= decay;
                M[i] = j.B1 * M[i] + (1 - j.B1) * gv;
                V[i] = j.B2 * V[i] + (1 - j.B2) * gv * gv;
                P[i] -= step * M[i] / (MathF.Sqrt(V[i]) * inv + j.Eps);
            }
        });
    }

    public void SgdStep(Tensor p, Tensor g, Tensor? buf, float lr, float momentum, float weightDecay, bool nesterov, bool firstStep)
    {
        var P = S(p); var G = S(g);
        Span<float> B = buf is null ? default : S(buf);
        for (int i = 0; i < P.Length; i++)
        {
            float grad = G[i] + weightDecay * P[i];
            if (buf is not null)
            {
                B[i] = firstStep ? grad : momentum * B[i] + grad;
                grad = nesterov ? grad + momentum * B[i] : B[i];
            }
            P[i] -= lr * grad;
        }
    }
}
