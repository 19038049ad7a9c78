using QGenEngine.Tensors;
using Tensor = QGenEngine.Tensors.Tensor;

namespace QGenEngine.Kernels.Cpu;

// Pooling: max pooling. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class CpuDevice
{
    private readonly record struct PoolJob(float[] X, int Xo, float[] Y, int Yo, float[] Arg, int Ao, PoolGeometry G);

    public void MaxPool2d(Tensor x, Tensor y, Tensor argmax, PoolGeometry g)
    {
        CpuParallel.For(g.Batch * g.Channels, new PoolJob(A(x), (int)x.Offset, A(y), (int)y.Offset, A(argmax), (int)argmax.Offset, g), static (j, p) =>
        {
            var g = j.G;
            var src = j.X.AsSpan(j.Xo + p * g.InH * g.InW, g.InH * g.InW);
            for (int oh = 0; oh < g.OutH; oh++)
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    float best = float.NegativeInfinity; int arg = -1;
                    for (int kh = 0; kh < g.Kernel; kh++)
                    {
                        int ih = oh * g.Stride - g.Pad + kh;
                        if ((uint)ih >= (uint)g.InH) continue;
                        for (int kw = 0; kw < g.Kernel; kw++)
                        {
                            int iw = ow * g.Stride - g.Pad + kw;
                            if ((uint)iw >= (uint)g.InW) continue;
                            float v = src[ih * g.InW + iw];
                            if (v > best || arg < 0) { best = v; arg = ih * g.InW + iw; }
                        }
                    }
                    int o = j.Yo + (p * g.OutH + oh) * g.OutW + ow;
                    j.Y[o] = best; j.Arg[j.Ao - j.Yo + o] = arg;
                }
        });
    }

    public void MaxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, PoolGeometry g)
    {
        CpuParallel.For(g.Batch * g.Channels, new PoolJob(A(dy), (int)dy.Offset, A(dx), (int)dx.Offset, A(argmax), (int)argmax.Offset, g), static (j, p) =>
        {
            var g = j.G; int outPlane = g.OutH * g.OutW;
            var d = j.Y.AsSpan(j.Yo + p * g.InH * g.InW, g.InH * g.InW);
            d.Clear();
            for (int o = 0; o < outPlane; o++) d[(int)j.Arg[j.Ao + p * outPlane + o]] += j.X[j.Xo + p * outPlane + o];
        });
    }
}
