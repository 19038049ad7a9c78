using QGenEngine.Tensors;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Tensor = QGenEngine.Tensors.Tensor;

namespace QGenEngine.Kernels.Cpu;

// Elementwise: elementwise functions of one and two tensors. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class CpuDevice
{
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
}
