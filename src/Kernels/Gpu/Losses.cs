using ILGPU.Runtime;
using ILGPU;
using K = QGenEngine.Kernels.Gpu.GpuKernels;
using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Gpu;

// Losses: the losses' elementwise terms. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class IlgpuDevice
{
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>? _bce;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _bceBack;

    public void BceWithLogits(Tensor x, Tensor t, Tensor y)
    {
        if (x.Numel > 0) Auto(ref _bce, K.BceWithLogits)(CheckedInt(x.Numel), V(x), V(t), V(y));
    }

    public void BceWithLogitsBackward(Tensor x, Tensor t, Tensor dy, Tensor dx, Tensor? dt)
    {
        if (x.Numel > 0) Auto(ref _bceBack, K.BceWithLogitsBackward)(CheckedInt(x.Numel), V(x), V(t), V(dy), V(dx), dt is null ? V(dx) : V(dt), dt is null ? 0 : 1);
    }
}

internal static partial class GpuKernels
{
    [Kernel]
    public static void BceWithLogits(Index1D i, ArrayView<float> x, ArrayView<float> t, ArrayView<float> y)
    {
        float v = x[i];
        y[i] = MathF.Max(v, 0f) - v * t[i] + MathF.Log(1f + MathF.Exp(-MathF.Abs(v)));
    }

    [Kernel]
    public static void BceWithLogitsBackward(Index1D i, ArrayView<float> x, ArrayView<float> t, ArrayView<float> dy,
                                             ArrayView<float> dx, ArrayView<float> dt, int hasDt)
    {
        float v = x[i], g = dy[i];
        dx[i] = g * (1f / (1f + MathF.Exp(-v)) - t[i]);
        if (hasDt != 0) dt[i] = -g * v;
    }
}
