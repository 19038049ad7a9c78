using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Reference;

// Pooling: max pooling. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class ReferenceDevice
{
    public void MaxPool2d(Tensor x, Tensor y, Tensor argmax, PoolGeometry g)
    {
        var X = Doubles(x); var Y = Doubles(y); var A = Doubles(argmax);
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int oh = 0; oh < g.OutH; oh++)
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    double best = double.NegativeInfinity; int arg = -1;
                    for (int kh = 0; kh < g.Kernel; kh++)
                        for (int kw = 0; kw < g.Kernel; kw++)
                        {
                            int ih = oh * g.Stride - g.Pad + kh, iw = ow * g.Stride - g.Pad + kw;
                            if (ih < 0 || ih >= g.InH || iw < 0 || iw >= g.InW) continue;
                            double v = X[(p * g.InH + ih) * g.InW + iw];
                            if (v > best || arg < 0) { best = v; arg = ih * g.InW + iw; }
                        }
                    int o = (p * g.OutH + oh) * g.OutW + ow;
                    Y[o] = best; A[o] = arg;
                }
    }

    public void MaxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, PoolGeometry g)
    {
        var G = Doubles(dy); var A = Doubles(argmax); var DX = Doubles(dx);
        DX.Clear();
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int o = 0; o < g.OutH * g.OutW; o++)
                DX[p * g.InH * g.InW + (int)A[p * g.OutH * g.OutW + o]] += G[p * g.OutH * g.OutW + o];
    }
}
