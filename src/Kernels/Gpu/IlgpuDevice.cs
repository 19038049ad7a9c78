using ILGPU;
using ILGPU.Runtime;
using QGenEngine.Tensors;
using IDevice = QGenEngine.Tensors.IDevice;

namespace QGenEngine.Kernels.Gpu;

/// <summary>
/// The engine on an ILGPU accelerator (CUDA, OpenCL, or ILGPU's CPU accelerator that runs the very same
/// kernels on the host). Tensors live in pooled device buffers for their whole life; every op is a
/// kernel of <see cref="GpuKernels"/> launched on the accelerator's default stream, so launches queue up
/// and the host only waits where it reads values back (<see cref="Download"/>, <see cref="SumOfSquares"/>,
/// <see cref="NearestRows"/>). Each kernel is compiled once, on first use, and its typed launcher kept.
/// </summary>
public sealed partial class IlgpuDevice : IDevice, IDisposable
{
    private readonly Context _context;
    private readonly object _poolLock = new();
    private readonly Dictionary<long, Stack<MemoryBuffer1D<float, Stride1D.Dense>>> _pool = [];
    private MemoryBuffer1D<int, Stride1D.Dense>? _ints;
    private MemoryBuffer1D<float, Stride1D.Dense>? _scratch;

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
        _ints?.Dispose(); _scratch?.Dispose();
        Accelerator.Dispose();
        _context.Dispose();
    }

    public override string ToString() => $"{Name} ({Accelerator.Name})";

    // ---- memory -------------------------------------------------------------------------------------

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

    public Storage Allocate(long length)
    {
        long size = Math.Max(1, length);
        lock (_poolLock)
            if (_pool.TryGetValue(size, out var stack) && stack.Count > 0)
            {
                PooledBytes -= size * 4;
                return new GpuStorage(this, stack.Pop(), length);
            }
        MemoryBuffer1D<float, Stride1D.Dense> buffer;
        try { buffer = Accelerator.Allocate1D<float>(size); }
        catch (Exception e) when (e is OutOfMemoryException or AcceleratorException)
        {
            // Give the pool's idle buffers back and try once more before failing.
            ClearPool();
            try { buffer = Accelerator.Allocate1D<float>(size); }
            catch (Exception e2) when (e2 is OutOfMemoryException or AcceleratorException)
            {
                throw new InvalidOperationException($"{Name}: out of device memory allocating {size * 4 / (1 << 20)} MiB " +
                    $"({Accelerator.MemorySize / (1 << 20)} MiB on {Accelerator.Name}); use a smaller --batch-size", e2);
            }
        }
        FreshAllocations++;
        return new GpuStorage(this, buffer, length);
    }

    public void Free(Storage storage)
    {
        var s = (GpuStorage)storage;
        lock (_poolLock)
        {
            if (!_pool.TryGetValue(s.Buffer.Length, out var stack)) _pool[s.Buffer.Length] = stack = new();
            stack.Push(s.Buffer);
            PooledBytes += s.Buffer.Length * 4;
        }
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

    public void Upload(ReadOnlySpan<float> src, Tensor dst)
    {
        if (dst.Numel == 0) return;
        V(dst).CopyFromCPU(src);
    }

    public void Download(Tensor src, Span<float> dst)
    {
        if (src.Numel == 0) return;
        HostReads++;
        V(src).CopyToCPU(dst);
    }

    /// <summary>Reads of device memory by the host since start (each one drains the queue on a GPU): flat in a device-resident step.</summary>
    public long HostReads { get; private set; }

    /// <summary>Kernels launched since start, by this backend and by kernels outside it that report theirs (<see cref="CountLaunch"/>).</summary>
    public long Launches { get; private set; }

    /// <summary>Counts a launch made outside this backend on its accelerator (the circuit simulator's).</summary>
    public void CountLaunch() => Launches++;

    /// <summary>A tensor's elements as a device view, for kernels outside this backend (the circuit simulator's).</summary>
    public ArrayView<float> DeviceView(Tensor t) => V(t);

    /// <summary>Waits for every queued kernel (benchmarks time with it).</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>A device int buffer holding idx (stream-ordered: safe to reuse for the next call).</summary>
    private ArrayView<int> Ints(ReadOnlySpan<int> idx)
    {
        if (_ints is null || _ints.Length < Math.Max(1, idx.Length))
        {
            _ints?.Dispose();
            _ints = Accelerator.Allocate1D<int>(Math.Max(1024, idx.Length));
        }
        ArrayView<int> all = _ints.View;
        var v = all.SubView(0, Math.Max(1, idx.Length));
        if (idx.Length > 0) v.SubView(0, idx.Length).CopyFromCPU(idx);
        return v;
    }

    private ArrayView<float> Scratch(long length)
    {
        if (_scratch is null || _scratch.Length < length)
        {
            _scratch?.Dispose();
            _scratch = Accelerator.Allocate1D<float>(Math.Max(1024, length));
        }
        ArrayView<float> all = _scratch.View;
        return all.SubView(0, length);
    }

    /// <summary>A pooled temporary tensor on this device (released by the caller's using).</summary>
    private Tensor Temp(params int[] shape) => Tensor.Empty(this, shape);

    private static int I(long v) => checked((int)v);
}
