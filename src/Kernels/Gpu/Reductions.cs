using ILGPU.Runtime;
using ILGPU;
using K = QGenEngine.Kernels.Gpu.GpuKernels;
using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Gpu;

// Reductions: sums and arg-reductions along an axis. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class IlgpuDevice
{
    private Action<Index1D, ArrayView<float>, ArrayView<float>, SumArgs>? _sumRows;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, SumArgs>? _sumGrouped;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int>? _sumSquares;

    public void SumAxis(Tensor x, int outer, int r, int inner, Tensor y, float scale)
    {
        int outputs = outer * inner;
        if (outputs == 0) return;
        var args = new SumArgs(outer, r, inner, scale);
        // Long rows with few outputs: a group per output; otherwise a thread per output.
        if (r >= 512 && outputs < 4096) Grouped(ref _sumGrouped, K.SumRowsGrouped)(Groups(outputs), V(x), V(y), args);
        else Auto(ref _sumRows, K.SumRows)(outputs, V(x), V(y), args);
    }

    public void SumOfSquares(Tensor x, Tensor acc)
    {
        int n = CheckedInt(x.Numel);
        if (n == 0) return;
        int groups = Math.Clamp(n / (GroupSize * 16), 1, 1024);
        using var partial = Temp(groups);
        using var sum = Temp(1);
        Grouped(ref _sumSquares, K.SumOfSquaresPartial)(Groups(groups), V(x), V(partial), n);
        SumAxis(partial, 1, groups, 1, sum, 1f);
        Binary(BinaryOp.Add, acc, sum, acc);
    }

    private Action<Index1D, ArrayView<float>, ArrayView<float>, SoftmaxArgs>? _argReduce;

    public void ArgReduce(Tensor x, int outer, int r, int inner, bool min, Tensor idx)
    {
        if (outer * inner > 0) Auto(ref _argReduce, K.ArgReduce)(outer * inner, V(x), V(idx), new SoftmaxArgs(outer, r, inner, min ? 1 : 0));
    }
}

internal static partial class GpuKernels
{
    [Kernel]
    public static void SumRows(Index1D i, ArrayView<float> x, ArrayView<float> y, SumArgs a)
    {
        int o = i / a.Inner, k = i - o * a.Inner;
        float s = 0;
        for (int r = 0; r < a.R; r++) s += x[(o * a.R + r) * a.Inner + k];
        y[i] = a.Scale * s;
    }

    [Kernel(grouped: true)]
    public static void SumRowsGrouped(ArrayView<float> x, ArrayView<float> y, SumArgs a)
    {
        var shared = SharedMemory.Allocate<float>(MaxGroup);
        int i = Grid.IdxX, o = i / a.Inner, k = i - o * a.Inner;
        float s = 0;
        for (int r = Group.IdxX; r < a.R; r += Group.DimX) s += x[(o * a.R + r) * a.Inner + k];
        s = GroupSum(shared, s);
        if (Group.IdxX == 0) y[i] = a.Scale * s;
    }

    /// <summary>Per-group partial sums of squares over a strided slice (then summed on the device).</summary>
    [Kernel(grouped: true)]
    public static void SumOfSquaresPartial(ArrayView<float> x, ArrayView<float> partial, int n)
    {
        var shared = SharedMemory.Allocate<float>(MaxGroup);
        float s = 0;
        for (int j = Grid.IdxX * Group.DimX + Group.IdxX; j < n; j += Grid.DimX * Group.DimX) s += x[j] * x[j];
        s = GroupSum(shared, s);
        if (Group.IdxX == 0) partial[Grid.IdxX] = s;
    }

    [Kernel]
    public static void ArgReduce(Index1D i, ArrayView<float> x, ArrayView<float> idx, SoftmaxArgs a)
    {
        // SoftmaxArgs' Log flag means "min" here: the same (outer, r, inner) walk.
        int o = i / a.Inner, k = i - o * a.Inner, b = o * a.R * a.Inner + k, arg = 0;
        float best = x[b];
        for (int r = 1; r < a.R; r++)
        {
            float v = x[b + r * a.Inner];
            if (a.Log != 0 ? v < best : v > best) { best = v; arg = r; }
        }
        idx[i] = arg;
    }
}

internal readonly record struct SumArgs(int Outer, int R, int Inner, float Scale);
