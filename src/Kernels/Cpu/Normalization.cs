using System.Numerics.Tensors;
using Tensor = QGenEngine.Tensors.Tensor;

namespace QGenEngine.Kernels.Cpu;

// Normalization: batch norm and softmax. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
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
            for (int i = 0; i < j.N; i++) sum += FixedReduce.Sum(j.X.AsSpan(j.Xo + (i * j.C + ch) * j.S, j.S));
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
}
