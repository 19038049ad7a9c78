using QGenEngine.Tensors;

namespace QGenEngine.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Batch norm over (N, C) or (N, C, ...): per-channel statistics over every other axis. Training
    /// uses the batch's statistics and updates the running ones in place; eval is the affine map
    /// γ·(x − running mean)/√(running var + ε) + β, composed from broadcasting ops.
    /// </summary>
    public static Tensor BatchNorm(this Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                   bool training, float momentum = 0.1f, float eps = 1e-5f)
    {
        if (x.Rank < 2 || x.Shape[1] != gamma.Numel)
            throw new ArgumentException($"batch_norm: input {Shape.Format(x.Shape)} does not have {gamma.Numel} channels on axis 1");
        int n = x.Shape[0], c = x.Shape[1], s = (int)(x.Numel / ((long)n * c));
        var dev = x.Device;
        var bshape = new int[x.Rank]; Array.Fill(bshape, 1); bshape[1] = c;
        if (!training)
        {
            // scale = γ / √(rv + ε); y = x·scale + (β − rm·scale)
            Tensor inv;
            using (Graph.NoGrad()) inv = runningVar.Add(eps).Sqrt();
            var scale = gamma.Div(inv);
            var shift = beta.Sub(runningMean.Mul(scale));
            return x.Mul(scale.Reshape(bshape)).Add(shift.Reshape(bshape));
        }
        if (n * s < 2) throw new ArgumentException($"batch_norm in training needs more than one value per channel, got input {Shape.Format(x.Shape)}");
        var y = Like(x);
        var mean = Tensor.Empty(dev, c); var invStd = Tensor.Empty(dev, c);
        dev.BatchNorm(x, n, c, s, gamma, beta, runningMean, runningVar, mean, invStd, momentum, eps, y);
        if (Graph.Needs(x, gamma, beta))
            Graph.Record(y, [x, gamma, beta], g =>
            {
                var dx = Like(x); var dg = ZerosLike(gamma); var db = ZerosLike(beta);
                dev.BatchNormBackward(x, g, n, c, s, gamma, mean, invStd, dx, dg, db);
                Graph.Accumulate(x, dx); Graph.Accumulate(gamma, dg); Graph.Accumulate(beta, db);
            });
        return y;
    }

    /// <summary>x (N,C,H,W) → (N,C,OH,OW), the maximum of each window (gradient to the first maximum).</summary>
    public static Tensor MaxPool2d(this Tensor x, int kernel, int stride = -1, int padding = 0)
    {
        if (x.Rank != 4) throw new ArgumentException($"max_pool2d needs (N, C, H, W), got {Shape.Format(x.Shape)}");
        var geo = PoolGeometry.Create(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], kernel, stride <= 0 ? kernel : stride, padding);
        var dev = x.Device;
        var y = Tensor.Empty(dev, geo.Batch, geo.Channels, geo.OutH, geo.OutW);
        var arg = Tensor.Empty(dev, y.Shape);
        dev.MaxPool2d(x, y, arg, geo);
        if (Graph.Needs(x))
            Graph.Record(y, [x], g =>
            {
                var dx = Like(x);
                dev.MaxPool2dBackward(g, arg, dx, geo);
                Graph.Accumulate(x, dx);
            });
        return y;
    }

    /// <summary>In training, zeroes each element with probability p and scales the rest by 1/(1−p); identity otherwise.</summary>
    public static Tensor Dropout(this Tensor x, float p, bool training, Generator rng)
    {
        if (p < 0 || p >= 1) throw new ArgumentOutOfRangeException(nameof(p), $"dropout probability {p} is outside [0, 1)");
        if (!training || p == 0) return x;
        var mask = Like(x);
        x.Device.FillRandom(mask, RandomKind.Bernoulli, rng.NextSeed(), p, 0);
        return x.Mul(mask);
    }

    /// <summary>Softmax along <paramref name="axis"/>.</summary>
    public static Tensor Softmax(this Tensor x, int axis = -1) => SoftmaxCore(x, axis, log: false);
    /// <summary>log(softmax(x)) along <paramref name="axis"/>, computed stably.</summary>
    public static Tensor LogSoftmax(this Tensor x, int axis = -1) => SoftmaxCore(x, axis, log: true);

    private static Tensor SoftmaxCore(Tensor x, int axis, bool log)
    {
        var (outer, r, inner) = Shape.Split(x.Shape, Shape.Axis(axis, x.Rank));
        var dev = x.Device;
        var y = Like(x);
        dev.Softmax(x, outer, r, inner, log, y);
        if (Graph.Needs(x))
            Graph.Record(y, [x], g =>
            {
                var dx = Like(x);
                dev.SoftmaxBackward(y, g, outer, r, inner, log, dx);
                Graph.Accumulate(x, dx);
            });
        return y;
    }
}
