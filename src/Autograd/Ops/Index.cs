using QGenEngine.Tensors;

namespace QGenEngine.Autograd;

public static partial class Ops
{
    /// <summary>Rows of weight (V, D) at idx → (n, D); the gradient is scattered back to those rows.</summary>
    public static Tensor Embedding(this Tensor weight, int[] idx)
    {
        int v = weight.Shape[0];
        foreach (int i in idx) if ((uint)i >= (uint)v) throw new ArgumentOutOfRangeException(nameof(idx), $"embedding index {i} is outside [0, {v})");
        var dev = weight.Device;
        var y = Tensor.Empty(dev, idx.Length, weight.Shape[1]);
        dev.IndexSelect(weight, idx, y);
        if (Graph.Needs(weight))
            Graph.Record(y, [weight], g =>
            {
                var dw = ZerosLike(weight);
                dev.IndexAdd(g, idx, dw);
                Graph.Accumulate(weight, dw);
            });
        return y;
    }

    /// <summary>x (M, C) → (M): x[i, idx[i]].</summary>
    public static Tensor Gather(this Tensor x, int[] idx)
    {
        int c = x.Shape[1];
        foreach (int i in idx) if ((uint)i >= (uint)c) throw new ArgumentOutOfRangeException(nameof(idx), $"index {i} is outside [0, {c})");
        var dev = x.Device;
        var y = Tensor.Empty(dev, idx.Length);
        dev.Gather(x, idx, y);
        if (Graph.Needs(x))
            Graph.Record(y, [x], g =>
            {
                var dx = ZerosLike(x);
                dev.GatherBackward(g, idx, dx);
                Graph.Accumulate(x, dx);
            });
        return y;
    }

    /// <summary>For each row of z (M, D), the index of the nearest codebook row (K, D) in squared L2 (no gradient).</summary>
    public static int[] NearestCode(this Tensor z, Tensor codebook)
    {
        if (z.Rank != 2 || codebook.Rank != 2 || z.Shape[1] != codebook.Shape[1])
            throw new ArgumentException($"nearest_code: z {Shape.Format(z.Shape)} and codebook {Shape.Format(codebook.Shape)} must be (M, D) and (K, D)");
        var idx = new int[z.Shape[0]];
        z.Device.NearestRows(z, codebook, idx);
        return idx;
    }

    /// <summary>
    /// VQ-VAE quantisation of z (M, D): e = the nearest codebook rows (gradient to the codebook), and
    /// zq = z + sg(e − z), which equals e forward and passes the gradient straight through to z.
    /// </summary>
    public static (Tensor Zq, Tensor E, int[] Codes) VectorQuantize(this Tensor z, Tensor codebook)
    {
        var codes = z.NearestCode(codebook);
        var e = codebook.Embedding(codes);
        var zq = z.Add(e.Sub(z).Detach());
        return (zq, e, codes);
    }
}
