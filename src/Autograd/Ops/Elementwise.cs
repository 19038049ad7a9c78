using QGenEngine.Tensors;

namespace QGenEngine.Autograd;

/// <summary>
/// The differentiable ops. Each states its backward next to its forward; shapes are in the comments.
/// A backward closure receives dL/dy (borrowed: it must not keep it) and hands each input a fresh
/// gradient through <see cref="Graph.Accumulate"/>.
/// </summary>
public static partial class Ops
{
    internal static Tensor Like(Tensor x) => Tensor.Empty(x.Device, x.Shape);
    internal static Tensor ZerosLike(Tensor x) => Tensor.Zeros(x.Device, x.Shape);
    /// <summary>A new tensor sharing g's memory (how a backward hands its borrowed gradient on without a copy).</summary>
    internal static Tensor Share(Tensor g, int[] shape) => g.View(shape);

    internal static void SameDevice(Tensor a, Tensor b)
    {
        if (!ReferenceEquals(a.Device, b.Device))
            throw new ArgumentException($"tensors are on different devices ({a.Device.Name} and {b.Device.Name})");
    }

    // ---- unary: y = f(x), dx = dy·f'(x) -------------------------------------------------------------
    private static Tensor Unary(Tensor x, UnaryOp op, float a = 0, float b = 0)
    {
        var y = Like(x);
        x.Device.Unary(op, x, y, a, b);
        if (Graph.Needs(x))
            Graph.Record(y, [x], g =>
            {
                var dx = Like(x);
                x.Device.UnaryBackward(op, x, y, g, dx, a, b);
                Graph.Accumulate(x, dx);
            });
        return y;
    }

    public static Tensor Relu(this Tensor x) => Unary(x, UnaryOp.Relu);
    public static Tensor LeakyRelu(this Tensor x, float slope = 0.01f) => Unary(x, UnaryOp.LeakyRelu, slope);
    public static Tensor Sigmoid(this Tensor x) => Unary(x, UnaryOp.Sigmoid);
    public static Tensor Tanh(this Tensor x) => Unary(x, UnaryOp.Tanh);
    public static Tensor Exp(this Tensor x) => Unary(x, UnaryOp.Exp);
    public static Tensor Log(this Tensor x) => Unary(x, UnaryOp.Log);
    public static Tensor Softplus(this Tensor x) => Unary(x, UnaryOp.Softplus);
    public static Tensor Clamp(this Tensor x, float min, float max) => Unary(x, UnaryOp.Clamp, min, max);
    public static Tensor Square(this Tensor x) => Unary(x, UnaryOp.Square);
    public static Tensor Sqrt(this Tensor x) => Unary(x, UnaryOp.Sqrt);
    /// <summary>a·x + b.</summary>
    public static Tensor Affine(this Tensor x, float a, float b) => Unary(x, UnaryOp.Affine, a, b);
    public static Tensor Mul(this Tensor x, float s) => Unary(x, UnaryOp.Affine, s, 0);
    public static Tensor Add(this Tensor x, float s) => Unary(x, UnaryOp.Affine, 1, s);
    public static Tensor Neg(this Tensor x) => Unary(x, UnaryOp.Affine, -1, 0);

    // ---- binary with broadcasting: y = a ∘ b; gradients summed back over broadcast axes -----------------
    private static Tensor Binary(Tensor a, Tensor b, BinaryOp op)
    {
        SameDevice(a, b);
        var dev = a.Device;
        var y = Tensor.Empty(dev, Shape.Broadcast(a.Shape, b.Shape));
        dev.Binary(op, a, b, y);
        if (Graph.Needs(a, b))
            Graph.Record(y, [a, b], g =>
            {
                if (a.RequiresGrad)
                {
                    Tensor da;
                    if (op is BinaryOp.Add or BinaryOp.Sub) da = Share(g, g.Shape);
                    else { da = Like(g); dev.Binary(op, g, b, da); }      // g·b or g/b
                    Graph.Accumulate(a, Graph.SumToShape(da, a.Shape));
                }
                if (b.RequiresGrad)
                {
                    Tensor db;
                    switch (op)
                    {
                        case BinaryOp.Add: db = Share(g, g.Shape); break;
                        case BinaryOp.Sub: db = Like(g); dev.Unary(UnaryOp.Affine, g, db, -1, 0); break;
                        case BinaryOp.Mul: db = Like(g); dev.Binary(BinaryOp.Mul, g, a, db); break;
                        default: // d(a/b)/db = −y/b
                            db = Like(g); dev.Binary(BinaryOp.Mul, g, y, db);
                            dev.Binary(BinaryOp.Div, db, b, db);
                            dev.Unary(UnaryOp.Affine, db, db, -1, 0);
                            break;
                    }
                    Graph.Accumulate(b, Graph.SumToShape(db, b.Shape));
                }
            });
        return y;
    }

    public static Tensor Add(this Tensor a, Tensor b) => Binary(a, b, BinaryOp.Add);
    public static Tensor Sub(this Tensor a, Tensor b) => Binary(a, b, BinaryOp.Sub);
    public static Tensor Mul(this Tensor a, Tensor b) => Binary(a, b, BinaryOp.Mul);
    public static Tensor Div(this Tensor a, Tensor b) => Binary(a, b, BinaryOp.Div);
}
