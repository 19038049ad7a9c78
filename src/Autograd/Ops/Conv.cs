using QGenEngine.Tensors;

namespace QGenEngine.Autograd;

public static partial class Ops
{
    /// <summary>x (N,C,H,W), weight (OC,C,KH,KW), bias (OC) → (N,OC,OH,OW).</summary>
    public static Tensor Conv2d(this Tensor x, Tensor weight, Tensor? bias, int stride = 1, int padding = 0)
    {
        SameDevice(x, weight);
        if (x.Rank != 4 || weight.Rank != 4 || x.Shape[1] != weight.Shape[1])
            throw new ArgumentException($"conv2d: input {Shape.Format(x.Shape)} does not match weight {Shape.Format(weight.Shape)} (expected (N, {weight.Shape[1]}, H, W))");
        var geo = ConvGeometry.Conv(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], weight.Shape[0], weight.Shape[2], weight.Shape[3], stride, stride, padding, padding);
        var dev = x.Device;
        var y = Tensor.Empty(dev, geo.Batch, geo.OutChannels, geo.OutH, geo.OutW);
        dev.Conv2d(x, weight, bias, y, geo);
        RecordConvBackward(y, x, weight, bias, (g, dx, dw, db) => dev.Conv2dBackward(x, weight, g, dx, dw, db, geo));
        return y;
    }

    /// <summary>x (N,Cin,H,W), weight (Cin,Cout,KH,KW), bias (Cout) → (N,Cout,OH,OW), OH = (H−1)·s − 2p + KH + outputPadding.</summary>
    public static Tensor ConvTranspose2d(this Tensor x, Tensor weight, Tensor? bias, int stride = 1, int padding = 0, int outputPadding = 0)
    {
        SameDevice(x, weight);
        if (x.Rank != 4 || weight.Rank != 4 || x.Shape[1] != weight.Shape[0])
            throw new ArgumentException($"conv_transpose2d: input {Shape.Format(x.Shape)} does not match weight {Shape.Format(weight.Shape)} (expected (N, {weight.Shape[0]}, H, W))");
        var geo = TransposedConvGeometry.Create(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], weight.Shape[1], weight.Shape[2], weight.Shape[3], stride, stride, padding, padding, outputPadding, outputPadding);
        var dev = x.Device;
        var y = Tensor.Empty(dev, geo.Batch, geo.OutChannels, geo.OutH, geo.OutW);
        dev.ConvTranspose2d(x, weight, bias, y, geo);
        RecordConvBackward(y, x, weight, bias, (g, dx, dw, db) => dev.ConvTranspose2dBackward(x, weight, g, dx, dw, db, geo));
        return y;
    }

    /// <summary>
    /// The backward of a convolution-like op: the gradients of whichever of x, weight and bias need one (dx written,
    /// dw and db accumulated into zeros by <paramref name="backward"/>(dy, dx, dw, db)), then accumulated into them.
    /// Recorded under the calling op's name (the profiler charges Conv2d or ConvTranspose2d).
    /// </summary>
    private static void RecordConvBackward(Tensor y, Tensor x, Tensor weight, Tensor? bias, Action<Tensor, Tensor?, Tensor?, Tensor?> backward,
                                           [System.Runtime.CompilerServices.CallerMemberName] string op = "")
    {
        if (!Graph.Needs(x, weight, bias)) return;
        Graph.Record(y, [x, weight, bias], g =>
        {
            var dx = x.RequiresGrad ? Like(x) : null;
            var dw = weight.RequiresGrad ? ZerosLike(weight) : null;
            var db = bias is { RequiresGrad: true } ? ZerosLike(bias) : null;
            backward(g, dx, dw, db);
            if (dx is not null) Graph.Accumulate(x, dx);
            if (dw is not null) Graph.Accumulate(weight, dw);
            if (db is not null) Graph.Accumulate(bias!, db);
        }, op);
    }
}
