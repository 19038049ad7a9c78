using ILGPU.Runtime;
using ILGPU;
using K = QGenEngine.Kernels.Gpu.GpuKernels;
using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Gpu;

// Pooling: max pooling. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class IlgpuDevice
{
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, PoolArgs>? _maxPool, _maxPoolBack;
    private static PoolArgs Args(PoolGeometry g) => new(g.Batch * g.Channels, g.InH, g.InW, g.Kernel, g.Stride, g.Pad, g.OutH, g.OutW);

    public void MaxPool2d(Tensor x, Tensor y, Tensor argmax, PoolGeometry g)
    {
        if (y.Numel > 0) Auto(ref _maxPool, K.MaxPool)(CheckedInt(y.Numel), V(x), V(y), V(argmax), Args(g));
    }

    public void MaxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, PoolGeometry g)
    {
        if (dx.Numel > 0) Auto(ref _maxPoolBack, K.MaxPoolBackward)(CheckedInt(dx.Numel), V(dy), V(argmax), V(dx), Args(g));
    }
}

internal static partial class GpuKernels
{
    [Kernel]
    public static void MaxPool(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> argmax, PoolArgs g)
    {
        int ow = i % g.OW, t = i / g.OW, oh = t % g.OH, plane = t / g.OH;
        float best = float.NegativeInfinity; int arg = -1;
        for (int kh = 0; kh < g.K; kh++)
        {
            int ih = oh * g.Stride - g.Pad + kh;
            if (ih < 0 || ih >= g.H) continue;
            for (int kw = 0; kw < g.K; kw++)
            {
                int iw = ow * g.Stride - g.Pad + kw;
                if (iw < 0 || iw >= g.W) continue;
                float v = x[(plane * g.H + ih) * g.W + iw];
                if (v > best || arg < 0) { best = v; arg = ih * g.W + iw; }
            }
        }
        y[i] = best; argmax[i] = arg;
    }

    /// <summary>dx gathers dy from every window whose maximum it was (no atomics, deterministic order).</summary>
    [Kernel]
    public static void MaxPoolBackward(Index1D i, ArrayView<float> dy, ArrayView<float> argmax, ArrayView<float> dx, PoolArgs g)
    {
        int iw = i % g.W, t = i / g.W, ih = t % g.H, plane = t / g.H;
        int self = ih * g.W + iw;
        float s = 0;
        for (int oh = 0; oh < g.OH; oh++)
        {
            int h0 = oh * g.Stride - g.Pad;
            if (ih < h0 || ih >= h0 + g.K) continue;
            for (int ow = 0; ow < g.OW; ow++)
            {
                int w0 = ow * g.Stride - g.Pad;
                if (iw < w0 || iw >= w0 + g.K) continue;
                int o = (plane * g.OH + oh) * g.OW + ow;
                if ((int)argmax[o] == self) s += dy[o];
            }
        }
        dx[i] = s;
    }
}

internal readonly record struct PoolArgs(int Planes, int H, int W, int K, int Stride, int Pad, int OH, int OW);
