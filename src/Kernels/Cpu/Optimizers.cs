using System.Runtime.Intrinsics;
using Tensor = QGenEngine.Tensors.Tensor;

namespace QGenEngine.Kernels.Cpu;

// Optimizers: optimiser updates. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class CpuDevice
{
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
