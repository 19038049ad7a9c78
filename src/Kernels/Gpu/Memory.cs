using ILGPU.Runtime;
using ILGPU;
using K = QGenEngine.Kernels.Gpu.GpuKernels;
using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Gpu;

// Memory: memory, copies and random fills. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class IlgpuDevice
{
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
                    $"({Accelerator.MemorySize / (1 << 20)} MiB on {Accelerator.Name}); use a smaller ⟨batch_size⟩", e2);
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

    private Action<Index1D, ArrayView<float>, float>? _fill;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, Copy2DArgs>? _copy2d;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>? _transpose;
    private Action<Index1D, ArrayView<float>, RandomArgs>? _random;

    public void Fill(Tensor y, float value)
    {
        if (y.Numel > 0) Auto(ref _fill, K.Fill)(CheckedInt(y.Numel), V(y), value);
    }

    public void Transpose(Tensor x, int batch, int rows, int cols, Tensor y)
    {
        if (y.Numel > 0) Auto(ref _transpose, K.Transpose)(CheckedInt(y.Numel), V(x), V(y), rows, cols);
    }

    public void Copy2D(Tensor src, long so, long ss, Tensor dst, long dOff, long ds, int rows, int cols)
    {
        if (rows * (long)cols == 0) return;
        Auto(ref _copy2d, K.Copy2D)(CheckedInt((long)rows * cols), V(src), V(dst), new Copy2DArgs(CheckedInt(so), CheckedInt(ss), CheckedInt(dOff), CheckedInt(ds), cols));
    }

    public void FillRandom(Tensor y, RandomKind kind, ulong seed, float a, float b)
    {
        if (y.Numel > 0) Auto(ref _random, K.Random)(CheckedInt(y.Numel), V(y), new RandomArgs((int)kind, seed, a, b));
    }
}

internal static partial class GpuKernels
{
    [Kernel] public static void Fill(Index1D i, ArrayView<float> y, float value) => y[i] = value;

    [Kernel]
    public static void Copy2D(Index1D i, ArrayView<float> src, ArrayView<float> dst, Copy2DArgs a)
    {
        int r = i / a.Cols, c = i - r * a.Cols;
        dst[a.DstOffset + r * a.DstStride + c] = src[a.SrcOffset + r * a.SrcStride + c];
    }

    /// <summary>y[b, c, r] = x[b, r, c]; a thread per output element (reads strided, writes contiguous).</summary>
    [Kernel]
    public static void Transpose(Index1D i, ArrayView<float> x, ArrayView<float> y, int rows, int cols)
    {
        int plane = rows * cols, b = i / plane, k = i - b * plane, c = k / rows, r = k - c * rows;
        y[i] = x[b * plane + r * cols + c];
    }

    /// <summary>The same counter-based stream as every other device (<see cref="CounterRng"/> itself runs here).</summary>
    [Kernel]
    public static void Random(Index1D i, ArrayView<float> y, RandomArgs a)
    {
        ulong k = (ulong)(int)i;
        y[i] = a.Kind == (int)RandomKind.Uniform ? a.A + (a.B - a.A) * CounterRng.Uniform(a.Seed, k)
             : a.Kind == (int)RandomKind.Normal ? a.A + a.B * CounterRng.Normal(a.Seed, k)
             : CounterRng.Uniform(a.Seed, k) < a.A ? 0f : 1f / (1f - a.A);
    }
}

internal readonly record struct Copy2DArgs(int SrcOffset, int SrcStride, int DstOffset, int DstStride, int Cols);

internal readonly record struct RandomArgs(int Kind, ulong Seed, float A, float B);
