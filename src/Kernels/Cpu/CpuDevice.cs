using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using QGenEngine.Tensors;
using Tensor = QGenEngine.Tensors.Tensor;

namespace QGenEngine.Kernels.Cpu;

/// <summary>
/// The fast CPU path: float32 storage from a pool (a training step in a <see cref="TensorScope"/>
/// allocates no tensor memory in steady state), SIMD through System.Numerics.Tensors and AVX
/// intrinsics, the packed <see cref="Sgemm"/>, convolutions as GEMM, and both cores through
/// <see cref="CpuParallel"/>. Results are deterministic and independent of the thread count.
/// </summary>
public sealed partial class CpuDevice : IDevice
{
    public static readonly CpuDevice Instance = new();
    public string Name => "cpu";
    internal const int Grain = 32 * 1024;

    internal sealed class FloatStorage(IDevice d, float[] data) : Storage(d, data.Length)
    {
        public readonly float[] Data = data;
    }

    internal static float[] A(Tensor t) => ((FloatStorage)t.Storage).Data;
    internal static Span<float> S(Tensor t) => A(t).AsSpan((int)t.Offset, (int)t.Numel);

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

    // ---- elementwise: split into chunks, each chunk a SIMD loop --------------------------------------
    private readonly record struct UnaryJob(UnaryOp Op, float[] X, int Xo, float[] Y, int Yo, float[]? G, int Go, float[]? D, int Do, int N, int Chunks, float A, float B);

    public void Unary(UnaryOp op, Tensor x, Tensor y, float a, float b)
    {
        int n = (int)x.Numel, chunks = CpuParallel.Chunks(n, Grain);
        CpuParallel.For(chunks, new UnaryJob(op, A(x), (int)x.Offset, A(y), (int)y.Offset, null, 0, null, 0, n, chunks, a, b), static (j, c) =>
        {
            var (s, e) = CpuParallel.Range(j.N, j.Chunks, c);
            UnaryForward(j.Op, j.X.AsSpan(j.Xo + s, e - s), j.Y.AsSpan(j.Yo + s, e - s), j.A, j.B);
        });
    }

    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float a, float b)
    {
        int n = (int)x.Numel, chunks = CpuParallel.Chunks(n, Grain);
        CpuParallel.For(chunks, new UnaryJob(op, A(x), (int)x.Offset, A(y), (int)y.Offset, A(dy), (int)dy.Offset, A(dx), (int)dx.Offset, n, chunks, a, b), static (j, c) =>
        {
            var (s, e) = CpuParallel.Range(j.N, j.Chunks, c);
            int len = e - s;
            UnaryGrad(j.Op, j.X.AsSpan(j.Xo + s, len), j.Y.AsSpan(j.Yo + s, len), j.G!.AsSpan(j.Go + s, len), j.D!.AsSpan(j.Do + s, len), j.A, j.B);
        });
    }

    private static void UnaryForward(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float a, float b)
    {
        switch (op)
        {
            case UnaryOp.Relu: TensorPrimitives.Max(x, 0f, y); break;
            case UnaryOp.LeakyRelu:
                {
                    int i = 0; var va = Vector256.Create(a);
                    for (; i <= x.Length - 8; i += 8)
                    {
                        var v = Vector256.Create(x.Slice(i, 8));
                        Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, v * va).CopyTo(y.Slice(i, 8));
                    }
                    for (; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : a * x[i];
                    break;
                }
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(x, y); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Softplus:
                for (int i = 0; i < x.Length; i++) y[i] = MathF.Max(x[i], 0) + MathF.Log(1 + MathF.Exp(-MathF.Abs(x[i])));
                break;
            case UnaryOp.Clamp: TensorPrimitives.Max(x, a, y); TensorPrimitives.Min(y, b, y); break;
            case UnaryOp.Affine: Affine(x, a, b, y); break;
            case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    /// <summary>y = a·x + b.</summary>
    internal static void Affine(ReadOnlySpan<float> x, float a, float b, Span<float> y)
    {
        int i = 0; var va = Vector256.Create(a); var vb = Vector256.Create(b);
        for (; i <= x.Length - 8; i += 8) (Vector256.Create(x.Slice(i, 8)) * va + vb).CopyTo(y.Slice(i, 8));
        for (; i < x.Length; i++) y[i] = a * x[i] + b;
    }

    private static void UnaryGrad(UnaryOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> d, float a, float b)
    {
        int i = 0;
        switch (op)
        {
            case UnaryOp.Relu:
            case UnaryOp.LeakyRelu:
                {
                    var slope = Vector256.Create(op == UnaryOp.Relu ? 0f : a);
                    for (; i <= x.Length - 8; i += 8)
                    {
                        var v = Vector256.Create(x.Slice(i, 8)); var gv = Vector256.Create(g.Slice(i, 8));
                        Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), gv, gv * slope).CopyTo(d.Slice(i, 8));
                    }
                    float s = op == UnaryOp.Relu ? 0f : a;
                    for (; i < x.Length; i++) d[i] = x[i] > 0 ? g[i] : s * g[i];
                    break;
                }
            case UnaryOp.Sigmoid: for (; i < x.Length; i++) d[i] = g[i] * y[i] * (1 - y[i]); break;
            case UnaryOp.Tanh: for (; i < x.Length; i++) d[i] = g[i] * (1 - y[i] * y[i]); break;
            case UnaryOp.Exp: TensorPrimitives.Multiply(g, y, d); break;
            case UnaryOp.Log: TensorPrimitives.Divide(g, x, d); break;
            case UnaryOp.Softplus: for (; i < x.Length; i++) d[i] = g[i] / (1 + MathF.Exp(-x[i])); break;
            case UnaryOp.Clamp: for (; i < x.Length; i++) d[i] = x[i] >= a && x[i] <= b ? g[i] : 0; break;
            case UnaryOp.Affine: TensorPrimitives.Multiply(g, a, d); break;
            case UnaryOp.Square: for (; i < x.Length; i++) d[i] = 2 * x[i] * g[i]; break;
            case UnaryOp.Sqrt: for (; i < x.Length; i++) d[i] = 0.5f * g[i] / y[i]; break;
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    // ---- broadcasting binary ops: collapse dims, then each innermost row is one SIMD call ------------
    private readonly record struct BinaryJob(BinaryOp Op, float[] A, int Ao, float[] B, int Bo, float[] Y, int Yo,
                                             int[] Dims, long[] Sa, long[] Sb, int Rows, int Len, int Chunks);

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        if (Shape.Equal(a.Shape, b.Shape) && Shape.Equal(a.Shape, y.Shape))
        {
            int n = (int)y.Numel, chunks = CpuParallel.Chunks(n, Grain);
            var job = new BinaryJob(op, A(a), (int)a.Offset, A(b), (int)b.Offset, A(y), (int)y.Offset, [n], [1], [1], 1, n, chunks);
            CpuParallel.For(chunks, job, static (j, c) =>
            {
                var (s, e) = CpuParallel.Range(j.Len, j.Chunks, c);
                Row(j.Op, j.A.AsSpan(j.Ao + s, e - s), 1, j.B.AsSpan(j.Bo + s, e - s), 1, j.Y.AsSpan(j.Yo + s, e - s));
            });
            return;
        }
        var (dims, sa, sb) = Broadcast.Collapse(y.Shape, a.Shape, b.Shape);
        int len = dims[^1], rows = (int)(y.Numel / Math.Max(1, len));
        int ch = CpuParallel.Chunks(y.Numel, Grain);
        var bj = new BinaryJob(op, A(a), (int)a.Offset, A(b), (int)b.Offset, A(y), (int)y.Offset, dims, sa, sb, rows, len, ch);
        CpuParallel.For(ch, bj, static (j, c) =>
        {
            var (r0, r1) = CpuParallel.Range(j.Rows, j.Chunks, c);
            int rank = j.Dims.Length;
            long saL = j.Sa[rank - 1], sbL = j.Sb[rank - 1];
            for (int r = r0; r < r1; r++)
            {
                long rem = r, oa = 0, ob = 0;
                for (int d = rank - 2; d >= 0; d--) { long i = rem % j.Dims[d]; rem /= j.Dims[d]; oa += i * j.Sa[d]; ob += i * j.Sb[d]; }
                var av = j.A.AsSpan((int)(j.Ao + oa), saL == 0 ? 1 : j.Len);
                var bv = j.B.AsSpan((int)(j.Bo + ob), sbL == 0 ? 1 : j.Len);
                Row(j.Op, av, saL, bv, sbL, j.Y.AsSpan(j.Yo + r * j.Len, j.Len));
            }
        });
    }

    private static void Row(BinaryOp op, ReadOnlySpan<float> a, long sa, ReadOnlySpan<float> b, long sb, Span<float> y)
    {
        if (sa != 0 && sb != 0)
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
                case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
                case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
                default: TensorPrimitives.Divide(a, b, y); break;
            }
        else if (sa != 0)
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(a, b[0], y); break;
                case BinaryOp.Sub: TensorPrimitives.Subtract(a, b[0], y); break;
                case BinaryOp.Mul: TensorPrimitives.Multiply(a, b[0], y); break;
                default: TensorPrimitives.Divide(a, b[0], y); break;
            }
        else if (sb != 0)
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(b, a[0], y); break;
                case BinaryOp.Sub: TensorPrimitives.Subtract(a[0], b, y); break;
                case BinaryOp.Mul: TensorPrimitives.Multiply(b, a[0], y); break;
                default: TensorPrimitives.Divide(a[0], b, y); break;
            }
        else
            y.Fill(op switch { BinaryOp.Add => a[0] + b[0], BinaryOp.Sub => a[0] - b[0], BinaryOp.Mul => a[0] * b[0], _ => a[0] / b[0] });
    }

    // ---- reductions ----------------------------------------------------------------------------------
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
        if (j.Inner == 1) { y[0] = j.Scale * TensorPrimitives.Sum(j.X.AsSpan(j.Xo + o * j.R, j.R)); return; }
        j.X.AsSpan(j.Xo + o * j.R * j.Inner + i0, i1 - i0).CopyTo(y);
        for (int k = 1; k < j.R; k++) TensorPrimitives.Add(y, j.X.AsSpan(j.Xo + (o * j.R + k) * j.Inner + i0, i1 - i0), y);
        if (j.Scale != 1) TensorPrimitives.Multiply(y, j.Scale, y);
    }

    public double SumOfSquares(Tensor x)
    {
        var s = S(x); double acc = 0;
        for (int i = 0; i < s.Length; i += 4096) acc += TensorPrimitives.SumOfSquares(s.Slice(i, Math.Min(4096, s.Length - i)));
        return acc;
    }

    public unsafe void Gemm(bool ta, bool tb, int batch, int m, int n, int k, float alpha, Tensor a, long strideA, Tensor b, long strideB, float beta, Tensor c, long strideC)
    {
        fixed (float* pa = A(a), pb = A(b), pc = A(c))
            for (int p = 0; p < batch; p++)
                Sgemm.Run(ta, tb, m, n, k, alpha, pa + a.Offset + p * strideA, pb + b.Offset + p * strideB, beta, pc + c.Offset + p * strideC);
    }
}
