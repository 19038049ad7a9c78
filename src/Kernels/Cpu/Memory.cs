using QGenEngine.Tensors;
using Tensor = QGenEngine.Tensors.Tensor;

namespace QGenEngine.Kernels.Cpu;

// Memory: memory, copies and random fills. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class CpuDevice
{
    public Storage Allocate(long length) => new FloatStorage(this, FloatPool.Rent(checked((int)length)));
    public void Free(Storage storage) => FloatPool.Return(((FloatStorage)storage).Data);
    public void Upload(ReadOnlySpan<float> src, Tensor dst) => src.CopyTo(S(dst));
    public void Download(Tensor src, Span<float> dst) => S(src).CopyTo(dst);
    public void Fill(Tensor y, float value) => S(y).Fill(value);

    public void Copy2D(Tensor src, long so, long ss, Tensor dst, long dOff, long ds, int rows, int cols)
    {
        var s = A(src); var d = A(dst);
        for (int r = 0; r < rows; r++)
            s.AsSpan((int)(src.Offset + so + r * ss), cols).CopyTo(d.AsSpan((int)(dst.Offset + dOff + r * ds), cols));
    }

    private readonly record struct TransposeJob(float[] X, int Xo, float[] Y, int Yo, int Rows, int Cols);

    public void Transpose(Tensor x, int batch, int rows, int cols, Tensor y)
    {
        // 8×8 tiles keep both the reads and the writes within a few cache lines.
        CpuParallel.For(batch, new TransposeJob(A(x), (int)x.Offset, A(y), (int)y.Offset, rows, cols), static (j, b) =>
        {
            int xb = j.Xo + b * j.Rows * j.Cols, yb = j.Yo + b * j.Rows * j.Cols;
            for (int r0 = 0; r0 < j.Rows; r0 += 8)
                for (int c0 = 0; c0 < j.Cols; c0 += 8)
                    for (int r = r0; r < Math.Min(r0 + 8, j.Rows); r++)
                        for (int c = c0; c < Math.Min(c0 + 8, j.Cols); c++)
                            j.Y[yb + c * j.Rows + r] = j.X[xb + r * j.Cols + c];
        });
    }

    private readonly record struct RandomJob(float[] Y, int Off, int N, int Chunks, RandomKind Kind, ulong Seed, float A, float B);

    public void FillRandom(Tensor y, RandomKind kind, ulong seed, float a, float b)
    {
        int n = (int)y.Numel, chunks = CpuParallel.Chunks(n, Grain);
        CpuParallel.For(chunks, new RandomJob(A(y), (int)y.Offset, n, chunks, kind, seed, a, b), static (j, c) =>
        {
            var (s, e) = CpuParallel.Range(j.N, j.Chunks, c);
            var y = j.Y.AsSpan(j.Off);
            for (int i = s; i < e; i++)
                y[i] = j.Kind switch
                {
                    RandomKind.Uniform => j.A + (j.B - j.A) * CounterRng.Uniform(j.Seed, (ulong)i),
                    RandomKind.Normal => j.A + j.B * CounterRng.Normal(j.Seed, (ulong)i),
                    _ => CounterRng.Uniform(j.Seed, (ulong)i) < j.A ? 0f : 1f / (1f - j.A),
                };
        });
    }
}
