using ILGPU.Runtime;
using ILGPU;
using K = QGenEngine.Kernels.Gpu.GpuKernels;
using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Gpu;

// Indexing: index select/add, gather, nearest rows, categorical sampling.
public sealed partial class IlgpuDevice
{

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _indexSelect;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>? _indexAdd;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>? _nearest;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, ulong>? _categorical;

    public void IndexSelect(Tensor w, Tensor idx, Tensor y)
    {
        if (y.Numel > 0) Auto(ref _indexSelect, K.IndexSelect)(CheckedInt(y.Numel), V(w), V(idx), V(y), w.Shape[1]);
    }

    public void IndexAdd(Tensor dy, Tensor idx, Tensor dw)
    {
        int d = dw.Shape[1], n = (int)idx.Numel;
        if (n > 0 && d > 0) Auto(ref _indexAdd, K.IndexAdd)(d, V(dy), V(idx), V(dw), n, d);
    }

    public void SampleCategorical(Tensor logits, int rows, int classes, ulong seed, Tensor idx)
    {
        if (rows > 0) Auto(ref _categorical, K.SampleCategorical)(rows, V(logits), V(idx), classes, seed);
    }

    public void NearestRows(Tensor z, Tensor codebook, Tensor idx)
    {
        int m = z.Shape[0];
        if (m > 0) Auto(ref _nearest, K.NearestRows)(m, V(z), V(codebook), V(idx), codebook.Shape[0], z.Shape[1]);
    }
}

internal static partial class GpuKernels
{
    /// <summary>y[i, :] = w[idx[i], :], one thread per output element.</summary>
    [Kernel]
    public static void IndexSelect(Index1D i, ArrayView<float> w, ArrayView<float> idx, ArrayView<float> y, int d)
    {
        int r = i / d;
        y[i] = w[(int)idx[r] * d + (i - r * d)];
    }

    /// <summary>dw[idx[i], j] += dy[i, j]: one thread per column j walks the rows in order (repeated indices add up deterministically).</summary>
    [Kernel]
    public static void IndexAdd(Index1D j, ArrayView<float> dy, ArrayView<float> idx, ArrayView<float> dw, int rows, int d)
    {
        for (int i = 0; i < rows; i++) dw[(int)idx[i] * d + j] += dy[i * d + j];
    }

    [Kernel]
    public static void SampleCategorical(Index1D i, ArrayView<float> logits, ArrayView<float> idx, int classes, ulong seed)
    {
        int b = i * classes;
        float max = float.NegativeInfinity;
        for (int c = 0; c < classes; c++) max = MathF.Max(max, logits[b + c]);
        float total = 0;
        for (int c = 0; c < classes; c++) total += MathF.Exp(logits[b + c] - max);
        // CounterRng.Uniform's value, computed through a (24-bit, so exact) int so that no f64 conversion reaches the PTX.
        float u = (int)(CounterRng.Hash(seed, (ulong)(long)i.X) >> 40) * (1f / 16777216f) * total, acc = 0;
        int pick = classes - 1;
        for (int c = 0; c < classes; c++)
        {
            acc += MathF.Exp(logits[b + c] - max);
            if (u < acc) { pick = c; break; }
        }
        idx[i] = pick;
    }

    /// <summary>idx[i] = argmin_k ||z_i − e_k||², lowest k on ties; one thread per row.</summary>
    [Kernel]
    public static void NearestRows(Index1D i, ArrayView<float> z, ArrayView<float> book, ArrayView<float> idx, int k, int d)
    {
        float best = float.PositiveInfinity; int arg = 0;
        for (int j = 0; j < k; j++)
        {
            float s = 0;
            for (int q = 0; q < d; q++) { float diff = z[i * d + q] - book[j * d + q]; s += diff * diff; }
            if (s < best) { best = s; arg = j; }
        }
        idx[i] = arg;
    }
}
