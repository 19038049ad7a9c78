using QGenEngine.Tensors;

namespace QGenEngine.Autograd;

public static partial class Ops
{
    /// <summary>Rows of weight (V, D) at host indices idx → (n, D); the gradient is scattered back to those rows.</summary>
    public static Tensor Embedding(this Tensor weight, int[] idx)
    {
        int v = weight.Shape[0];
        foreach (int i in idx) if ((uint)i >= (uint)v) throw new ArgumentOutOfRangeException(nameof(idx), $"embedding index {i} is outside [0, {v})");
        var f = new float[idx.Length];
        for (int i = 0; i < idx.Length; i++) f[i] = idx[i];
        return weight.Embedding(Tensor.FromArray(weight.Device, f, idx.Length));
    }

    /// <summary>Rows of weight (V, D) at device indices idx (n) (floats, as <see cref="NearestCode"/> gives them) → (n, D).</summary>
    public static Tensor Embedding(this Tensor weight, Tensor idx)
    {
        SameDevice(weight, idx);
        if (idx.Rank != 1) throw new ArgumentException($"embedding: indices {Shape.Format(idx.Shape)} must be a vector");
        var dev = weight.Device;
        var y = Tensor.Empty(dev, idx.Shape[0], weight.Shape[1]);
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

    /// <summary>
    /// x (M, C) → (M): x[i, idx[i]]. A composition: the rows i·C + idx[i] of x viewed as (M·C, 1), selected as an
    /// embedding (its backward scatters the gradient back), so no backend needs a gather kernel of its own.
    /// </summary>
    public static Tensor Gather(this Tensor x, int[] idx)
    {
        if (x.Rank != 2 || idx.Length != x.Shape[0])
            throw new ArgumentException($"gather: x {Shape.Format(x.Shape)} must be (M, C) with M = {idx.Length} indices");
        int m = x.Shape[0], c = x.Shape[1];
        if ((long)m * c >= 1 << 24) throw new ArgumentException($"gather: {m} x {c} elements; row indices are floats, exact below 2^24");
        var rows = new float[m];
        for (int i = 0; i < m; i++)
        {
            if ((uint)idx[i] >= (uint)c) throw new ArgumentOutOfRangeException(nameof(idx), $"index {idx[i]} is outside [0, {c})");
            rows[i] = i * c + idx[i];
        }
        return x.Reshape(m * c, 1).Embedding(Tensor.FromArray(x.Device, rows, m)).Reshape(m);
    }

    /// <summary>For each row of z (M, D), the index of the nearest codebook row (K, D) in squared L2 (no gradient).</summary>
    public static Tensor NearestCode(this Tensor z, Tensor codebook)
    {
        if (z.Rank != 2 || codebook.Rank != 2 || z.Shape[1] != codebook.Shape[1])
            throw new ArgumentException($"nearest_code: z {Shape.Format(z.Shape)} and codebook {Shape.Format(codebook.Shape)} must be (M, D) and (K, D)");
        var idx = Tensor.Empty(z.Device, z.Shape[0]);
        z.Device.NearestRows(z, codebook, idx);
        return idx;
    }

    /// <summary>
    /// VQ-VAE quantisation of z (M, D): e = the nearest codebook rows (gradient to the codebook), and
    /// zq = z + sg(e − z), which equals e forward and passes the gradient straight through to z.
    /// </summary>
    public static (Tensor Zq, Tensor E, Tensor Codes) VectorQuantize(this Tensor z, Tensor codebook)
    {
        var codes = z.NearestCode(codebook);
        var e = codebook.Embedding(codes);
        var zq = z.Add(e.Sub(z).Detach());
        return (zq, e, codes);
    }

    /// <summary>The index of the largest value along <paramref name="axis"/> (lowest on ties), as floats; the axis is removed. No gradient.</summary>
    public static Tensor ArgMax(this Tensor x, int axis = -1) => ArgReduce(x, axis, min: false);

    /// <summary>The index of the smallest value along <paramref name="axis"/> (lowest on ties), as floats; the axis is removed. No gradient.</summary>
    public static Tensor ArgMin(this Tensor x, int axis = -1) => ArgReduce(x, axis, min: true);

    private static Tensor ArgReduce(Tensor x, int axis, bool min)
    {
        int ax = Shape.Axis(axis, x.Rank);
        var (outer, r, inner) = Shape.Split(x.Shape, ax);
        if (r == 0) throw new ArgumentException($"arg{(min ? "min" : "max")}: axis {axis} of {Shape.Format(x.Shape)} is empty");
        var y = Tensor.Empty(x.Device, x.Shape.Where((_, i) => i != ax).ToArray());
        x.Device.ArgReduce(x, outer, r, inner, min, y);
        return y;
    }

    /// <summary>
    /// One draw per row from softmax(logits) (rows, classes) → (rows) class indices as floats, by inverse CDF at
    /// the counter-based uniform i of the generator's next stream: the same draws on every device. No gradient.
    /// </summary>
    public static Tensor SampleCategorical(this Tensor logits, Generator rng) => SampleCategorical(logits, rng.NextSeed());

    public static Tensor SampleCategorical(this Tensor logits, ulong seed)
    {
        if (logits.Rank != 2 || logits.Shape[1] < 1) throw new ArgumentException($"sample_categorical: logits {Shape.Format(logits.Shape)} must be (rows, classes)");
        var y = Tensor.Empty(logits.Device, logits.Shape[0]);
        logits.Device.SampleCategorical(logits, logits.Shape[0], logits.Shape[1], seed, y);
        return y;
    }
}
