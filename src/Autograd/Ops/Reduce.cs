using QGenEngine.Tensors;

namespace QGenEngine.Autograd;

public static partial class Ops
{
    /// <summary>Sum over <paramref name="axes"/> (all if none); kept axes have size 1 when keepDim.</summary>
    public static Tensor Sum(this Tensor x, int[]? axes = null, bool keepDim = false) => Reduce(x, axes, keepDim, mean: false);
    public static Tensor Mean(this Tensor x, int[]? axes = null, bool keepDim = false) => Reduce(x, axes, keepDim, mean: true);

    private static Tensor Reduce(Tensor x, int[]? axes, bool keepDim, bool mean)
    {
        var dev = x.Device;
        var reduce = new bool[x.Rank];
        if (axes is null || axes.Length == 0) Array.Fill(reduce, true);
        else foreach (int a in axes) reduce[Shape.Axis(a, x.Rank)] = true;
        var kept = (int[])x.Shape.Clone();
        long count = 1;
        for (int i = 0; i < x.Rank; i++) if (reduce[i]) { count *= kept[i]; kept[i] = 1; }
        float scale = mean ? 1f / Math.Max(1, count) : 1f;

        // Reduce one axis at a time (outer, r, inner), scaling on the last.
        Tensor cur = x; var dims = (int[])x.Shape.Clone();
        int last = Array.LastIndexOf(reduce, true);
        Tensor result;
        if (last < 0) result = Graph.Copy(x).View(kept);
        else
        {
            for (int ax = 0; ax <= last; ax++)
            {
                if (!reduce[ax]) continue;
                var (outer, r, inner) = Shape.Split(dims, ax);
                dims[ax] = 1;
                var next = Tensor.Empty(dev, dims);
                dev.SumAxis(cur, outer, r, inner, next, ax == last ? scale : 1f);
                if (!ReferenceEquals(cur, x)) cur.Dispose();
                cur = next;
            }
            result = cur;
        }
        var outShape = keepDim ? kept : kept.Where((_, i) => !reduce[i]).ToArray();
        var y = result.View(outShape);
        result.Dispose();
        if (Graph.Needs(x))
            Graph.Record(y, [x], g =>
            {
                var dx = Like(x);
                using var gk = g.View(kept);
                dev.Binary(BinaryOp.Mul, gk, Scalar(dev, scale), dx);   // broadcast back, times 1/count for a mean
                Graph.Accumulate(x, dx);
            });
        return y;
    }

    [ThreadStatic] private static Dictionary<(IDevice, float), Tensor>? _scalars;

    /// <summary>A cached one-element constant on a device (never disposed).</summary>
    internal static Tensor Scalar(IDevice dev, float v)
    {
        _scalars ??= new();
        if (!_scalars.TryGetValue((dev, v), out var t))
            using (TensorScope.Suspend()) _scalars[(dev, v)] = t = Tensor.Full(dev, v, 1);
        return t;
    }
}
