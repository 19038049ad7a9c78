using QGenEngine.Tensors;

namespace QGenEngine.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Batched matrix product: a (..., m, k) · b (..., k, n) → (..., m, n). The batch dims of a and b
    /// must match, or b may be 2-D (shared by every batch).
    /// </summary>
    public static Tensor MatMul(this Tensor a, Tensor b)
    {
        SameDevice(a, b);
        if (a.Rank < 2 || b.Rank < 2) throw new ArgumentException($"matmul needs rank ≥ 2, got {Shape.Format(a.Shape)} and {Shape.Format(b.Shape)}");
        int m = a.Shape[^2], k = a.Shape[^1], n = b.Shape[^1];
        if (b.Shape[^2] != k) throw new ArgumentException($"matmul: inner dimensions differ in {Shape.Format(a.Shape)} · {Shape.Format(b.Shape)}");
        int batch = (int)(a.Numel / ((long)m * k));
        bool shared = b.Rank == 2;
        if (!shared && (b.Rank != a.Rank || !a.Shape.AsSpan(0, a.Rank - 2).SequenceEqual(b.Shape.AsSpan(0, b.Rank - 2))))
            throw new ArgumentException($"matmul: batch dimensions differ in {Shape.Format(a.Shape)} · {Shape.Format(b.Shape)}");
        var shape = (int[])a.Shape.Clone(); shape[^1] = n;
        var dev = a.Device;
        var y = Tensor.Empty(dev, shape);
        long sb = shared ? 0 : (long)k * n;
        dev.Gemm(false, false, batch, m, n, k, 1f, a, (long)m * k, b, sb, 0f, y, (long)m * n);
        if (Graph.Needs(a, b))
            Graph.Record(y, [a, b], g =>
            {
                if (a.RequiresGrad)
                {   // da = g · bᵀ
                    var da = Like(a);
                    dev.Gemm(false, true, batch, m, k, n, 1f, g, (long)m * n, b, sb, 0f, da, (long)m * k);
                    Graph.Accumulate(a, da);
                }
                if (b.RequiresGrad)
                {   // db = aᵀ · g, summed over the batch when b is shared
                    var db = ZerosLike(b);
                    dev.Gemm(true, false, batch, k, n, m, 1f, a, (long)m * k, g, (long)m * n, shared ? 1f : 0f, db, sb);
                    Graph.Accumulate(b, db);
                }
            });
        return y;
    }

    /// <summary>x (N, in), weight (out, in), bias (out) or null → (N, out) = x·Wᵀ + b.</summary>
    public static Tensor Linear(this Tensor x, Tensor weight, Tensor? bias)
    {
        SameDevice(x, weight);
        int inF = weight.Shape[1], outF = weight.Shape[0];
        if (x.Rank != 2 || x.Shape[1] != inF)
            throw new ArgumentException($"linear: input {Shape.Format(x.Shape)} does not match weight {Shape.Format(weight.Shape)} (expected (N, {inF}))");
        int n = x.Shape[0];
        var dev = x.Device;
        var y = Tensor.Empty(dev, n, outF);
        dev.Gemm(false, true, 1, n, outF, inF, 1f, x, 0, weight, 0, 0f, y, 0);
        if (bias is not null) dev.Binary(BinaryOp.Add, y, bias, y);
        if (Graph.Needs(x, weight, bias))
            Graph.Record(y, [x, weight, bias], g =>
            {
                if (x.RequiresGrad)
                {   // dx = g · W
                    var dx = Like(x);
                    dev.Gemm(false, false, 1, n, inF, outF, 1f, g, 0, weight, 0, 0f, dx, 0);
                    Graph.Accumulate(x, dx);
                }
                if (weight.RequiresGrad)
                {   // dW = gᵀ · x
                    var dw = Like(weight);
                    dev.Gemm(true, false, 1, outF, inF, n, 1f, g, 0, x, 0, 0f, dw, 0);
                    Graph.Accumulate(weight, dw);
                }
                if (bias is { RequiresGrad: true })
                {
                    var db = Like(bias);
                    dev.SumAxis(g, 1, n, outF, db, 1f);
                    Graph.Accumulate(bias, db);
                }
            });
        return y;
    }
}
