using ILGPU.Runtime;
using ILGPU;
using K = QGenEngine.Kernels.Gpu.GpuKernels;
using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Gpu;

// Elementwise: elementwise functions of one and two tensors. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class IlgpuDevice
{
    private Action<Index1D, ArrayView<float>, ArrayView<float>, UnaryArgs>? _unary;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, UnaryArgs>? _unaryBack;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BinaryArgs>? _binary;

    public void Unary(UnaryOp op, Tensor x, Tensor y, float a, float b)
    {
        if (x.Numel > 0) Auto(ref _unary, K.Unary)(CheckedInt(x.Numel), V(x), V(y), new UnaryArgs((int)op, a, b));
    }

    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float a, float b)
    {
        if (x.Numel > 0) Auto(ref _unaryBack, K.UnaryBackward)(CheckedInt(x.Numel), V(x), V(y), V(dy), V(dx), new UnaryArgs((int)op, a, b));
    }

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        if (y.Numel == 0) return;
        var (dims, sa, sb) = Broadcast.Collapse(y.Shape, a.Shape, b.Shape);
        if (dims.Length > 6) throw new NotSupportedException($"{Name}: broadcasting over {dims.Length} independent dimensions (at most 6)");
        Span<int> d = [1, 1, 1, 1, 1, 1], xa = stackalloc int[6], xb = stackalloc int[6];
        for (int i = 0; i < dims.Length; i++)
        {
            int slot = 6 - dims.Length + i;
            d[slot] = dims[i]; xa[slot] = CheckedInt(sa[i]); xb[slot] = CheckedInt(sb[i]);
        }
        var args = new BinaryArgs((int)op, d[0], d[1], d[2], d[3], d[4], d[5], xa[0], xa[1], xa[2], xa[3], xa[4], xa[5], xb[0], xb[1], xb[2], xb[3], xb[4], xb[5]);
        Auto(ref _binary, K.Binary)(CheckedInt(y.Numel), V(a), V(b), V(y), args);
    }
}

internal static partial class GpuKernels
{
    [Kernel]
    public static void Unary(Index1D i, ArrayView<float> x, ArrayView<float> y, UnaryArgs a)
    {
        float v = x[i];
        y[i] = (UnaryOp)a.Op switch
        {
            UnaryOp.Relu => v > 0 ? v : 0f,
            UnaryOp.LeakyRelu => v > 0 ? v : a.A * v,
            UnaryOp.Sigmoid => 1f / (1f + MathF.Exp(-v)),
            UnaryOp.Tanh => MathF.Tanh(v),
            UnaryOp.Exp => MathF.Exp(v),
            UnaryOp.Log => MathF.Log(v),
            UnaryOp.Softplus => MathF.Max(v, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(v))),
            UnaryOp.Clamp => MathF.Min(MathF.Max(v, a.A), a.B),
            UnaryOp.Affine => a.A * v + a.B,
            UnaryOp.Square => v * v,
            _ => MathF.Sqrt(v),
        };
    }

    [Kernel]
    public static void UnaryBackward(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, UnaryArgs a)
    {
        float v = x[i], g = dy[i];
        dx[i] = (UnaryOp)a.Op switch
        {
            UnaryOp.Relu => v > 0 ? g : 0f,
            UnaryOp.LeakyRelu => v > 0 ? g : a.A * g,
            UnaryOp.Sigmoid => g * y[i] * (1f - y[i]),
            UnaryOp.Tanh => g * (1f - y[i] * y[i]),
            UnaryOp.Exp => g * y[i],
            UnaryOp.Log => g / v,
            UnaryOp.Softplus => g / (1f + MathF.Exp(-v)),
            UnaryOp.Clamp => v >= a.A && v <= a.B ? g : 0f,
            UnaryOp.Affine => g * a.A,
            UnaryOp.Square => 2f * v * g,
            _ => 0.5f * g / y[i],
        };
    }

    private static void Step(ref int rem, ref int oa, ref int ob, int d, int sa, int sb)
    {
        int q = rem / d, k = rem - q * d;
        oa += k * sa; ob += k * sb; rem = q;
    }

    [Kernel]
    public static void Binary(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, BinaryArgs g)
    {
        int rem = i, oa = 0, ob = 0;
        Step(ref rem, ref oa, ref ob, g.D5, g.A5, g.B5);
        Step(ref rem, ref oa, ref ob, g.D4, g.A4, g.B4);
        Step(ref rem, ref oa, ref ob, g.D3, g.A3, g.B3);
        Step(ref rem, ref oa, ref ob, g.D2, g.A2, g.B2);
        Step(ref rem, ref oa, ref ob, g.D1, g.A1, g.B1);
        Step(ref rem, ref oa, ref ob, g.D0, g.A0, g.B0);
        float u = a[oa], v = b[ob];
        y[i] = (BinaryOp)g.Op switch { BinaryOp.Add => u + v, BinaryOp.Sub => u - v, BinaryOp.Mul => u * v, _ => u / v };
    }
}

internal readonly record struct UnaryArgs(int Op, float A, float B);

/// <summary>Broadcast geometry of a binary op: up to six collapsed output dims, right-aligned (unused dims are 1).</summary>
internal readonly record struct BinaryArgs(int Op,
    int D0, int D1, int D2, int D3, int D4, int D5,
    int A0, int A1, int A2, int A3, int A4, int A5,
    int B0, int B1, int B2, int B3, int B4, int B5);
