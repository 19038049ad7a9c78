using IDevice = QGenEngine.Tensors.IDevice;
using ILGPU.Runtime;
using ILGPU;
using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Gpu;

/// <summary>
/// The engine on an ILGPU accelerator (CUDA, OpenCL, or ILGPU's CPU accelerator that runs the very same
/// kernels on the host). Tensors live in pooled device buffers for their whole life; every op is a
/// kernel of <see cref="GpuKernels"/> launched on the accelerator's default stream, so launches queue up
/// and the host only waits where it reads values back (<see cref="Download"/>, counted in <see cref="HostReads"/>).
/// Each kernel is compiled once, on first use, and its typed launcher kept; the kernels and their launchers live in
/// one file per op family (Memory.cs, Elementwise.cs, ...), named as the other backends' are.
/// </summary>
public sealed partial class IlgpuDevice : IDevice, IDisposable
{
    private readonly Context _context;
    private readonly object _poolLock = new();
    private readonly Dictionary<long, Stack<MemoryBuffer1D<float, Stride1D.Dense>>> _pool = [];

    /// <summary>cuda, opencl or ilgpu-cpu.</summary>
    public string Name { get; }

    public Accelerator Accelerator { get; }

    /// <summary>Device buffers created (not reused from the pool) since start: flat in a steady training loop.</summary>
    public long FreshAllocations { get; private set; }

    public long PooledBytes { get; private set; }

    /// <summary>Threads of the reduction kernels' groups: 256, or the accelerator's largest power of two below.</summary>
    internal int GroupSize { get; }

    /// <summary>d of the GEMM's d×d thread groups (16 on GPUs: 64×64 tiles of C).</summary>
    internal int GemmThreads { get; }

    internal IlgpuDevice(string name, Context context, Accelerator accelerator)
    {
        Name = name; _context = context; Accelerator = accelerator;
        GroupSize = 1 << (int)Math.Log2(Math.Min(GpuKernels.MaxGroup, accelerator.MaxNumThreadsPerGroup));
        GemmThreads = (int)Math.Sqrt(GroupSize);
    }

    public void Dispose()
    {
        ClearPool();
        Accelerator.Dispose();
        _context.Dispose();
    }

    public override string ToString() => $"{Name} ({Accelerator.Name})";

    internal sealed class GpuStorage(IDevice device, MemoryBuffer1D<float, Stride1D.Dense> buffer, long length) : Storage(device, length)
    {
        public readonly MemoryBuffer1D<float, Stride1D.Dense> Buffer = buffer;
    }

    /// <summary>The tensor's elements as a device view.</summary>
    internal static ArrayView<float> V(Tensor t)
    {
        ArrayView<float> all = ((GpuStorage)t.Storage).Buffer.View;
        return all.SubView(t.Offset, Math.Max(1, t.Numel));
    }

    /// <summary>Frees every idle pooled buffer.</summary>
    public void ClearPool()
    {
        lock (_poolLock)
        {
            foreach (var stack in _pool.Values) while (stack.Count > 0) stack.Pop().Dispose();
            _pool.Clear();
            PooledBytes = 0;
        }
    }

    /// <summary>Reads of device memory by the host since start (each one drains the queue on a GPU): flat in a device-resident step.</summary>
    public long HostReads { get; private set; }

    /// <summary>Kernels launched since start, by this backend and by kernels outside it that report theirs (<see cref="CountLaunch"/>).</summary>
    public long Launches { get; private set; }

    /// <summary>Counts a launch made outside this backend on its accelerator (the circuit simulator's).</summary>
    internal void CountLaunch() => Launches++;

    private readonly HashSet<string> _loaded = [];
    /// <summary>The names of the kernels this device has loaded so far (methods of <see cref="GpuKernels"/>): what the ops it ran need.</summary>
    public IReadOnlyCollection<string> LoadedKernels { get { lock (_loaded) return [.. _loaded]; } }
    private T Noted<T>(T kernel) where T : Delegate { lock (_loaded) _loaded.Add(kernel.Method.Name); return kernel; }

    /// <summary>A tensor's elements as a device view, for kernels outside this backend (the circuit simulator's).</summary>
    internal ArrayView<float> DeviceView(Tensor t) => V(t);

    /// <summary>Waits for every queued kernel (benchmarks time with it).</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>A pooled temporary tensor on this device (released by the caller's using).</summary>
    private Tensor Temp(params int[] shape) => Tensor.Empty(this, shape);
    private static int CheckedInt(long v) => checked((int)v);

    private Action<Index1D, T1, T2> Auto<T1, T2>(ref Action<Index1D, T1, T2>? slot, Action<Index1D, T1, T2> kernel)
        where T1 : struct where T2 : struct => slot ??= Counted(Accelerator.LoadAutoGroupedStreamKernel(Noted(kernel)));

    private Action<Index1D, T1, T2, T3> Auto<T1, T2, T3>(ref Action<Index1D, T1, T2, T3>? slot, Action<Index1D, T1, T2, T3> kernel)
        where T1 : struct where T2 : struct where T3 : struct => slot ??= Counted(Accelerator.LoadAutoGroupedStreamKernel(Noted(kernel)));

    private Action<Index1D, T1, T2, T3, T4> Auto<T1, T2, T3, T4>(ref Action<Index1D, T1, T2, T3, T4>? slot, Action<Index1D, T1, T2, T3, T4> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct => slot ??= Counted(Accelerator.LoadAutoGroupedStreamKernel(Noted(kernel)));

    private Action<Index1D, T1, T2, T3, T4, T5> Auto<T1, T2, T3, T4, T5>(ref Action<Index1D, T1, T2, T3, T4, T5>? slot, Action<Index1D, T1, T2, T3, T4, T5> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct => slot ??= Counted(Accelerator.LoadAutoGroupedStreamKernel(Noted(kernel)));

    private Action<Index1D, T1, T2, T3, T4, T5, T6> Auto<T1, T2, T3, T4, T5, T6>(ref Action<Index1D, T1, T2, T3, T4, T5, T6>? slot, Action<Index1D, T1, T2, T3, T4, T5, T6> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct => slot ??= Counted(Accelerator.LoadAutoGroupedStreamKernel(Noted(kernel)));

    private Action<Index1D, T1, T2, T3, T4, T5, T6, T7> Auto<T1, T2, T3, T4, T5, T6, T7>(ref Action<Index1D, T1, T2, T3, T4, T5, T6, T7>? slot, Action<Index1D, T1, T2, T3, T4, T5, T6, T7> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct => slot ??= Counted(Accelerator.LoadAutoGroupedStreamKernel(Noted(kernel)));

    private Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8> Auto<T1, T2, T3, T4, T5, T6, T7, T8>(ref Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8>? slot, Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct => slot ??= Counted(Accelerator.LoadAutoGroupedStreamKernel(Noted(kernel)));

    private Action<KernelConfig, T1, T2, T3> Grouped<T1, T2, T3>(ref Action<KernelConfig, T1, T2, T3>? slot, Action<T1, T2, T3> kernel)
        where T1 : struct where T2 : struct where T3 : struct => slot ??= Counted(Accelerator.LoadStreamKernel(Noted(kernel)));

    private Action<KernelConfig, T1, T2, T3, T4> Grouped<T1, T2, T3, T4>(ref Action<KernelConfig, T1, T2, T3, T4>? slot, Action<T1, T2, T3, T4> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct => slot ??= Counted(Accelerator.LoadStreamKernel(Noted(kernel)));

    private Action<KernelConfig, T1, T2, T3, T4, T5, T6> Grouped<T1, T2, T3, T4, T5, T6>(ref Action<KernelConfig, T1, T2, T3, T4, T5, T6>? slot, Action<T1, T2, T3, T4, T5, T6> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct => slot ??= Counted(Accelerator.LoadStreamKernel(Noted(kernel)));

    private Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8> Grouped<T1, T2, T3, T4, T5, T6, T7, T8>(ref Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8>? slot, Action<T1, T2, T3, T4, T5, T6, T7, T8> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct => slot ??= Counted(Accelerator.LoadStreamKernel(Noted(kernel)));

    // Every launcher counts its launches (bench train-step reports them per step).
    private Action<TI, T1, T2> Counted<TI, T1, T2>(Action<TI, T1, T2> k) => (i, a1, a2) => { Launches++; k(i, a1, a2); };
    private Action<TI, T1, T2, T3> Counted<TI, T1, T2, T3>(Action<TI, T1, T2, T3> k) => (i, a1, a2, a3) => { Launches++; k(i, a1, a2, a3); };
    private Action<TI, T1, T2, T3, T4> Counted<TI, T1, T2, T3, T4>(Action<TI, T1, T2, T3, T4> k) => (i, a1, a2, a3, a4) => { Launches++; k(i, a1, a2, a3, a4); };
    private Action<TI, T1, T2, T3, T4, T5> Counted<TI, T1, T2, T3, T4, T5>(Action<TI, T1, T2, T3, T4, T5> k) => (i, a1, a2, a3, a4, a5) => { Launches++; k(i, a1, a2, a3, a4, a5); };
    private Action<TI, T1, T2, T3, T4, T5, T6> Counted<TI, T1, T2, T3, T4, T5, T6>(Action<TI, T1, T2, T3, T4, T5, T6> k) => (i, a1, a2, a3, a4, a5, a6) => { Launches++; k(i, a1, a2, a3, a4, a5, a6); };
    private Action<TI, T1, T2, T3, T4, T5, T6, T7> Counted<TI, T1, T2, T3, T4, T5, T6, T7>(Action<TI, T1, T2, T3, T4, T5, T6, T7> k) => (i, a1, a2, a3, a4, a5, a6, a7) => { Launches++; k(i, a1, a2, a3, a4, a5, a6, a7); };
    private Action<TI, T1, T2, T3, T4, T5, T6, T7, T8> Counted<TI, T1, T2, T3, T4, T5, T6, T7, T8>(Action<TI, T1, T2, T3, T4, T5, T6, T7, T8> k) => (i, a1, a2, a3, a4, a5, a6, a7, a8) => { Launches++; k(i, a1, a2, a3, a4, a5, a6, a7, a8); };
    private KernelConfig Groups(int groups) => new(new Index1D(groups), new Index1D(GroupSize));
}
