using System.Numerics.Tensors;
using Tensor = QGenEngine.Tensors.Tensor;

namespace QGenEngine.Kernels.Cpu;

// Reductions: sums and arg-reductions along an axis. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class CpuDevice
{
    private readonly record struct SumJob(float[] X, int Xo, float[] Y, int Yo, int Outer, int R, int Inner, float Scale, int Chunks);

    public void SumAxis(Tensor x, int outer, int r, int inner, Tensor y, float scale)
    {
        bool byOuter = outer >= CpuParallel.Threads || inner < 64;
        int chunks = byOuter ? Math.Min(outer, CpuParallel.Chunks(x.Numel, Grain)) : Math.Min(CpuParallel.Chunks(x.Numel, Grain), Math.Max(1, inner / 64));
        var job = new SumJob(A(x), (int)x.Offset, A(y), (int)y.Offset, outer, r, inner, scale, Math.Max(1, chunks));
        if (byOuter)
            CpuParallel.For(job.Chunks, job, static (j, c) =>
            {
                var (o0, o1) = CpuParallel.Range(j.Outer, j.Chunks, c);
                for (int o = o0; o < o1; o++) SumBlock(j, o, 0, j.Inner);
            });
        else
            CpuParallel.For(job.Chunks, job, static (j, c) =>
            {
                var (i0, i1) = CpuParallel.Range(j.Inner, j.Chunks, c);
                for (int o = 0; o < j.Outer; o++) SumBlock(j, o, i0, i1);
            });
    }

    private static void SumBlock(in SumJob j, int o, int i0, int i1)
    {
        var y = j.Y.AsSpan(j.Yo + o * j.Inner + i0, i1 - i0);
        if (j.Inner == 1) { y[0] = j.Scale * FixedReduce.Sum(j.X.AsSpan(j.Xo + o * j.R, j.R)); return; }
        j.X.AsSpan(j.Xo + o * j.R * j.Inner + i0, i1 - i0).CopyTo(y);
        for (int k = 1; k < j.R; k++) TensorPrimitives.Add(y, j.X.AsSpan(j.Xo + (o * j.R + k) * j.Inner + i0, i1 - i0), y);
        if (j.Scale != 1) TensorPrimitives.Multiply(y, j.Scale, y);
    }

    public void SumOfSquares(Tensor x, Tensor acc)
    {
        var s = S(x); double sum = 0;
        for (int i = 0; i < s.Length; i += 4096) sum += FixedReduce.SumOfSquares(s.Slice(i, Math.Min(4096, s.Length - i)));
        S(acc)[0] = (float)(S(acc)[0] + sum);
    }

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
}
