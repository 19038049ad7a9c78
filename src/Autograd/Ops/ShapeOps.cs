using QGenEngine.Tensors;

namespace QGenEngine.Autograd;

public static partial class Ops
{
    /// <summary>Same data, another shape (one dimension may be −1); no copy.</summary>
    public static Tensor Reshape(this Tensor x, params int[] shape)
    {
        var y = x.View(shape);
        if (Graph.Needs(x)) Graph.Record(y, [x], g => Graph.Accumulate(x, Share(g, x.Shape)));
        return y;
    }

    /// <summary>
    /// Swaps the last two axes (PyTorch's x.transpose(-2, -1)) into a new contiguous tensor: (..., R, C) → (..., C, R).
    /// NCHW feature maps become rows of channel vectors with x.Reshape(N, C, H·W).Transpose().
    /// </summary>
    public static Tensor Transpose(this Tensor x)
    {
        if (x.Rank < 2) throw new ArgumentException($"transpose: {Shape.Format(x.Shape)} has fewer than two axes");
        int rows = x.Shape[^2], cols = x.Shape[^1], batch = (int)(x.Numel / Math.Max(1L, (long)rows * cols));
        var shape = x.Shape.ToArray(); (shape[^2], shape[^1]) = (cols, rows);
        var dev = x.Device;
        var y = Tensor.Empty(dev, shape);
        dev.Transpose(x, batch, rows, cols, y);
        if (Graph.Needs(x))
            Graph.Record(y, [x], g =>
            {
                var dx = Like(x);
                dev.Transpose(g, batch, cols, rows, dx);
                Graph.Accumulate(x, dx);
            });
        return y;
    }

    /// <summary>(N, ...) → (N, prod(...)).</summary>
    public static Tensor Flatten(this Tensor x) => x.Reshape(x.Shape[0], -1);

    /// <summary>The same values, cut from the graph (a stop-gradient).</summary>
    public static Tensor Detach(this Tensor x) => x.View(x.Shape);

    /// <summary>Concatenation along <paramref name="axis"/>.</summary>
    public static Tensor Concat(Tensor[] xs, int axis)
    {
        if (xs.Length == 0) throw new ArgumentException("concat needs at least one tensor");
        var first = xs[0]; int ax = Shape.Axis(axis, first.Rank);
        var shape = (int[])first.Shape.Clone(); shape[ax] = 0;
        foreach (var x in xs)
        {
            SameDevice(first, x);
            for (int i = 0; i < shape.Length; i++)
                if (i != ax && x.Shape[i] != first.Shape[i])
                    throw new ArgumentException($"concat along axis {ax}: shapes {Shape.Format(first.Shape)} and {Shape.Format(x.Shape)} differ elsewhere");
            shape[ax] += x.Shape[ax];
        }
        var dev = first.Device;
        var y = Tensor.Empty(dev, shape);
        var (outer, total, inner) = Shape.Split(shape, ax);
        int at = 0;
        foreach (var x in xs)
        {
            int w = x.Shape[ax] * inner;
            dev.Copy2D(x, 0, w, y, at * inner, (long)total * inner, outer, w);
            at += x.Shape[ax];
        }
        if (xs.Any(x => Graph.Needs(x)))
            Graph.Record(y, xs, g =>
            {
                int at2 = 0;
                foreach (var x in xs)
                {
                    int w = x.Shape[ax] * inner;
                    if (x.RequiresGrad)
                    {
                        var dx = Like(x);
                        dev.Copy2D(g, at2 * inner, (long)total * inner, dx, 0, w, outer, w);
                        Graph.Accumulate(x, dx);
                    }
                    at2 += x.Shape[ax];
                }
            });
        return y;
    }

    /// <summary>x[..., start:start+length, ...] along <paramref name="axis"/> (a copy).</summary>
    public static Tensor Slice(this Tensor x, int axis, int start, int length)
    {
        int ax = Shape.Axis(axis, x.Rank);
        if (start < 0 || length < 0 || start + length > x.Shape[ax])
            throw new ArgumentOutOfRangeException(nameof(start), $"slice [{start}, {start + length}) is outside axis {ax} of size {x.Shape[ax]}");
        var shape = (int[])x.Shape.Clone(); shape[ax] = length;
        var (outer, size, inner) = Shape.Split(x.Shape, ax);
        var dev = x.Device;
        var y = Tensor.Empty(dev, shape);
        dev.Copy2D(x, start * inner, (long)size * inner, y, 0, (long)length * inner, outer, length * inner);
        if (Graph.Needs(x))
            Graph.Record(y, [x], g =>
            {
                var dx = ZerosLike(x);
                dev.Copy2D(g, 0, (long)length * inner, dx, start * inner, (long)size * inner, outer, length * inner);
                Graph.Accumulate(x, dx);
            });
        return y;
    }
}
