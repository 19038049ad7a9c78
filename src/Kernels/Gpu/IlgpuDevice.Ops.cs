using ILGPU;
using ILGPU.Runtime;
using QGenEngine.Tensors;
using K = QGenEngine.Kernels.Gpu.GpuKernels;

namespace QGenEngine.Kernels.Gpu;

// The IDevice primitives: each checks nothing the callers have not checked, picks a launch shape and
// queues one or a few kernels. Launchers are loaded on first use (loading compiles) and kept.
public sealed partial class IlgpuDevice
{
    private Action<Index1D, ArrayView<float>, float>? _fill;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, Copy2DArgs>? _copy2d;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>? _transpose;
    private Action<Index1D, ArrayView<float>, RandomArgs>? _random;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, UnaryArgs>? _unary;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, UnaryArgs>? _unaryBack;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BinaryArgs>? _binary;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, SumArgs>? _sumRows;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, SumArgs>? _sumGrouped;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int>? _sumSquares;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>? _gemm;

    private Action<Index1D, T1, T2> Auto<T1, T2>(ref Action<Index1D, T1, T2>? slot, Action<Index1D, T1, T2> kernel)
        where T1 : struct where T2 : struct => slot ??= Counted(Accelerator.LoadAutoGroupedStreamKernel(kernel));
    private Action<Index1D, T1, T2, T3> Auto<T1, T2, T3>(ref Action<Index1D, T1, T2, T3>? slot, Action<Index1D, T1, T2, T3> kernel)
        where T1 : struct where T2 : struct where T3 : struct => slot ??= Counted(Accelerator.LoadAutoGroupedStreamKernel(kernel));
    private Action<Index1D, T1, T2, T3, T4> Auto<T1, T2, T3, T4>(ref Action<Index1D, T1, T2, T3, T4>? slot, Action<Index1D, T1, T2, T3, T4> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct => slot ??= Counted(Accelerator.LoadAutoGroupedStreamKernel(kernel));
    private Action<Index1D, T1, T2, T3, T4, T5> Auto<T1, T2, T3, T4, T5>(ref Action<Index1D, T1, T2, T3, T4, T5>? slot, Action<Index1D, T1, T2, T3, T4, T5> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct => slot ??= Counted(Accelerator.LoadAutoGroupedStreamKernel(kernel));
    private Action<Index1D, T1, T2, T3, T4, T5, T6> Auto<T1, T2, T3, T4, T5, T6>(ref Action<Index1D, T1, T2, T3, T4, T5, T6>? slot, Action<Index1D, T1, T2, T3, T4, T5, T6> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct => slot ??= Counted(Accelerator.LoadAutoGroupedStreamKernel(kernel));
    private Action<Index1D, T1, T2, T3, T4, T5, T6, T7> Auto<T1, T2, T3, T4, T5, T6, T7>(ref Action<Index1D, T1, T2, T3, T4, T5, T6, T7>? slot, Action<Index1D, T1, T2, T3, T4, T5, T6, T7> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct => slot ??= Counted(Accelerator.LoadAutoGroupedStreamKernel(kernel));
    private Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8> Auto<T1, T2, T3, T4, T5, T6, T7, T8>(ref Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8>? slot, Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct => slot ??= Counted(Accelerator.LoadAutoGroupedStreamKernel(kernel));

    private Action<KernelConfig, T1, T2, T3> Grouped<T1, T2, T3>(ref Action<KernelConfig, T1, T2, T3>? slot, Action<T1, T2, T3> kernel)
        where T1 : struct where T2 : struct where T3 : struct => slot ??= Counted(Accelerator.LoadStreamKernel(kernel));
    private Action<KernelConfig, T1, T2, T3, T4> Grouped<T1, T2, T3, T4>(ref Action<KernelConfig, T1, T2, T3, T4>? slot, Action<T1, T2, T3, T4> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct => slot ??= Counted(Accelerator.LoadStreamKernel(kernel));
    private Action<KernelConfig, T1, T2, T3, T4, T5, T6> Grouped<T1, T2, T3, T4, T5, T6>(ref Action<KernelConfig, T1, T2, T3, T4, T5, T6>? slot, Action<T1, T2, T3, T4, T5, T6> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct => slot ??= Counted(Accelerator.LoadStreamKernel(kernel));
    private Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8> Grouped<T1, T2, T3, T4, T5, T6, T7, T8>(ref Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8>? slot, Action<T1, T2, T3, T4, T5, T6, T7, T8> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct => slot ??= Counted(Accelerator.LoadStreamKernel(kernel));

    // Every launcher counts its launches (bench train-step reports them per step).
    private Action<TI, T1, T2> Counted<TI, T1, T2>(Action<TI, T1, T2> k) => (i, a1, a2) => { Launches++; k(i, a1, a2); };
    private Action<TI, T1, T2, T3> Counted<TI, T1, T2, T3>(Action<TI, T1, T2, T3> k) => (i, a1, a2, a3) => { Launches++; k(i, a1, a2, a3); };
    private Action<TI, T1, T2, T3, T4> Counted<TI, T1, T2, T3, T4>(Action<TI, T1, T2, T3, T4> k) => (i, a1, a2, a3, a4) => { Launches++; k(i, a1, a2, a3, a4); };
    private Action<TI, T1, T2, T3, T4, T5> Counted<TI, T1, T2, T3, T4, T5>(Action<TI, T1, T2, T3, T4, T5> k) => (i, a1, a2, a3, a4, a5) => { Launches++; k(i, a1, a2, a3, a4, a5); };
    private Action<TI, T1, T2, T3, T4, T5, T6> Counted<TI, T1, T2, T3, T4, T5, T6>(Action<TI, T1, T2, T3, T4, T5, T6> k) => (i, a1, a2, a3, a4, a5, a6) => { Launches++; k(i, a1, a2, a3, a4, a5, a6); };
    private Action<TI, T1, T2, T3, T4, T5, T6, T7> Counted<TI, T1, T2, T3, T4, T5, T6, T7>(Action<TI, T1, T2, T3, T4, T5, T6, T7> k) => (i, a1, a2, a3, a4, a5, a6, a7) => { Launches++; k(i, a1, a2, a3, a4, a5, a6, a7); };
    private Action<TI, T1, T2, T3, T4, T5, T6, T7, T8> Counted<TI, T1, T2, T3, T4, T5, T6, T7, T8>(Action<TI, T1, T2, T3, T4, T5, T6, T7, T8> k) => (i, a1, a2, a3, a4, a5, a6, a7, a8) => { Launches++; k(i, a1, a2, a3, a4, a5, a6, a7, a8); };

    private KernelConfig Groups(int groups) => new(new Index1D(groups), new Index1D(GroupSize));

    // ---- creation and movement ----------------------------------------------------------------------

    public void Fill(Tensor y, float value)
    {
        if (y.Numel > 0) Auto(ref _fill, K.Fill)(I(y.Numel), V(y), value);
    }

    public void Transpose(Tensor x, int batch, int rows, int cols, Tensor y)
    {
        if (y.Numel > 0) Auto(ref _transpose, K.Transpose)(I(y.Numel), V(x), V(y), rows, cols);
    }

    public void Copy2D(Tensor src, long so, long ss, Tensor dst, long dOff, long ds, int rows, int cols)
    {
        if (rows * (long)cols == 0) return;
        Auto(ref _copy2d, K.Copy2D)(I((long)rows * cols), V(src), V(dst), new Copy2DArgs(I(so), I(ss), I(dOff), I(ds), cols));
    }

    public void FillRandom(Tensor y, RandomKind kind, ulong seed, float a, float b)
    {
        if (y.Numel > 0) Auto(ref _random, K.Random)(I(y.Numel), V(y), new RandomArgs((int)kind, seed, a, b));
    }

    // ---- elementwise --------------------------------------------------------------------------------

    public void Unary(UnaryOp op, Tensor x, Tensor y, float a, float b)
    {
        if (x.Numel > 0) Auto(ref _unary, K.Unary)(I(x.Numel), V(x), V(y), new UnaryArgs((int)op, a, b));
    }

    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float a, float b)
    {
        if (x.Numel > 0) Auto(ref _unaryBack, K.UnaryBackward)(I(x.Numel), V(x), V(y), V(dy), V(dx), new UnaryArgs((int)op, a, b));
    }

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        if (y.Numel == 0) return;
        var (dims, sa, sb) = Broadcast.Collapse(y.Shape, a.Shape, b.Shape);
        if (dims.Length > 6) throw new NotSupportedException($"{Name}: broadcasting over {dims.Length} independent dimensions (at most 6)");
        Span<int> d = [1, 1, 1, 1, 1, 1], xa = stackalloc int[6], xb = stackalloc int[6];
        for (int i = 0; i < dims.Length; i++)
        {
            int slot = 6 - dims.Length + i;
            d[slot] = dims[i]; xa[slot] = I(sa[i]); xb[slot] = I(sb[i]);
        }
        var args = new BinaryArgs((int)op, d[0], d[1], d[2], d[3], d[4], d[5], xa[0], xa[1], xa[2], xa[3], xa[4], xa[5], xb[0], xb[1], xb[2], xb[3], xb[4], xb[5]);
        Auto(ref _binary, K.Binary)(I(y.Numel), V(a), V(b), V(y), args);
    }

    // ---- reductions ---------------------------------------------------------------------------------

    public void SumAxis(Tensor x, int outer, int r, int inner, Tensor y, float scale)
    {
        int outputs = outer * inner;
        if (outputs == 0) return;
        var args = new SumArgs(outer, r, inner, scale);
        // Long rows with few outputs: a group per output; otherwise a thread per output.
        if (r >= 512 && outputs < 4096) Grouped(ref _sumGrouped, K.SumRowsGrouped)(Groups(outputs), V(x), V(y), args);
        else Auto(ref _sumRows, K.SumRows)(outputs, V(x), V(y), args);
    }

    public double SumOfSquares(Tensor x)
    {
        int n = I(x.Numel);
        if (n == 0) return 0;
        int groups = Math.Clamp(n / (GroupSize * 16), 1, 1024);
        var partial = Scratch(groups);
        Grouped(ref _sumSquares, K.SumOfSquaresPartial)(Groups(groups), V(x), partial, n);
        var host = new float[groups];
        HostReads++;
        partial.CopyToCPU(host);
        double s = 0;
        foreach (float v in host) s += v;
        return s;
    }

    // ---- linear algebra -----------------------------------------------------------------------------

    public void Gemm(bool transA, bool transB, int batch, int m, int n, int k, float alpha, Tensor a, long strideA, Tensor b, long strideB,
                     float beta, Tensor c, long strideC)
    {
        if (batch == 0 || m == 0 || n == 0) return;
        int d = GemmThreads, tile = 4 * d;
        var args = new GemmArgs(m, n, k, transA ? 1 : 0, transB ? 1 : 0, alpha, beta, batch, I(strideA), I(strideB), I(strideC), d);
        int z = strideC == 0 ? 1 : batch;
        var cfg = new KernelConfig(new Index3D((n + tile - 1) / tile, (m + tile - 1) / tile, z), new Index3D(d * d, 1, 1),
                                   SharedMemoryConfig.RequestDynamic<float>(2 * K.TileK * tile));
        Grouped(ref _gemm, K.Gemm)(cfg, V(a), V(b), V(c), args);
    }
}
