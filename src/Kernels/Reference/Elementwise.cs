using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Reference;

// Elementwise: elementwise functions of one and two tensors. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class ReferenceDevice
{
    public static double UnaryValue(UnaryOp op, double x, double a, double b) => op switch
    {
        UnaryOp.Relu => x > 0 ? x : 0,
        UnaryOp.LeakyRelu => x > 0 ? x : a * x,
        UnaryOp.Sigmoid => 1 / (1 + Math.Exp(-x)),
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Softplus => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x))),
        UnaryOp.Clamp => Math.Min(Math.Max(x, a), b),
        UnaryOp.Affine => a * x + b,
        UnaryOp.Square => x * x,
        UnaryOp.Sqrt => Math.Sqrt(x),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    public static double UnaryDerivative(UnaryOp op, double x, double a, double b) => op switch
    {
        UnaryOp.Relu => x > 0 ? 1 : 0,
        UnaryOp.LeakyRelu => x > 0 ? 1 : a,
        UnaryOp.Sigmoid => UnaryValue(op, x, a, b) * (1 - UnaryValue(op, x, a, b)),
        UnaryOp.Tanh => 1 - Math.Tanh(x) * Math.Tanh(x),
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => 1 / x,
        UnaryOp.Softplus => 1 / (1 + Math.Exp(-x)),
        UnaryOp.Clamp => x >= a && x <= b ? 1 : 0,
        UnaryOp.Affine => a,
        UnaryOp.Square => 2 * x,
        UnaryOp.Sqrt => 0.5 / Math.Sqrt(x),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    public void Unary(UnaryOp op, Tensor x, Tensor y, float a, float b)
    {
        var xs = Doubles(x); var ys = Doubles(y);
        for (int i = 0; i < xs.Length; i++) ys[i] = UnaryValue(op, xs[i], a, b);
    }

    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float a, float b)
    {
        var xs = Doubles(x); var g = Doubles(dy); var d = Doubles(dx);
        for (int i = 0; i < xs.Length; i++) d[i] = g[i] * UnaryDerivative(op, xs[i], a, b);
    }

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        int rank = y.Rank;
        Span<long> sa = stackalloc long[rank], sb = stackalloc long[rank];
        Shape.BroadcastStrides(a.Shape, rank, sa);
        Shape.BroadcastStrides(b.Shape, rank, sb);
        var av = Doubles(a); var bv = Doubles(b); var yv = Doubles(y);
        Span<int> idx = stackalloc int[rank];
        for (long i = 0; i < y.Numel; i++)
        {
            // Unravel i into a multi-index over y's shape.
            long rem = i, ia = 0, ib = 0;
            for (int d = rank - 1; d >= 0; d--) { idx[d] = (int)(rem % y.Shape[d]); rem /= y.Shape[d]; ia += idx[d] * sa[d]; ib += idx[d] * sb[d]; }
            double p = av[(int)ia], q = bv[(int)ib];
            yv[(int)i] = op switch { BinaryOp.Add => p + q, BinaryOp.Sub => p - q, BinaryOp.Mul => p * q, _ => p / q };
        }
    }
}
