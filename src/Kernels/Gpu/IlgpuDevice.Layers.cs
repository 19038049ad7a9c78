using ILGPU;
using ILGPU.Runtime;
using QGenEngine.Tensors;
using K = QGenEngine.Kernels.Gpu.GpuKernels;

namespace QGenEngine.Kernels.Gpu;

// Convolutions (im2col/col2im around the tiled GEMM), batch norm, pooling, softmax, losses, indexing, optimisers.
public sealed partial class IlgpuDevice
{
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ConvArgs>? _im2col, _col2im;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ChannelArgs>? _addBias;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ChannelArgs>? _channelSum;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ChannelArgs>? _bnStats;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ChannelArgs>? _bnApply;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ChannelArgs>? _bnGradStats;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ChannelArgs>? _bnGradApply;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, PoolArgs>? _maxPool, _maxPoolBack;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, SoftmaxArgs>? _softmax;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SoftmaxArgs>? _softmaxBack;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>? _bce;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _bceBack;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int>? _gather, _gatherBack;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? _indexSelect;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>? _indexAdd;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>? _nearest;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, SoftmaxArgs>? _argReduce;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, ulong>? _categorical;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs>? _adam;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdArgs>? _sgd;

    // ---- convolutions -------------------------------------------------------------------------------

    private static ConvArgs Args(ConvGeometry g) =>
        new(g.Batch, g.InChannels, g.InH, g.InW, g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadH, g.PadW, g.OutH, g.OutW);

    private static (int Rows, int P) ColShape(ConvGeometry g) => (g.InChannels * g.KernelH * g.KernelW, g.OutH * g.OutW);

    /// <summary>im2col(x): (N, C·KH·KW, OH·OW), a pooled temporary the caller disposes.</summary>
    private Tensor Im2Col(Tensor x, ConvGeometry g)
    {
        var (rows, p) = ColShape(g);
        var col = Temp(g.Batch, rows, p);
        Auto(ref _im2col, K.Im2Col)(I(col.Numel), V(x), V(col), Args(g));
        return col;
    }

    /// <summary>y_n = W · col_n for every n in one batched GEMM (W shared); the "conv" of g.</summary>
    private void ConvCore(Tensor col, Tensor w, Tensor y, ConvGeometry g)
    {
        var (rows, p) = ColShape(g);
        Gemm(false, false, g.Batch, g.OutChannels, p, rows, 1f, w, 0, col, (long)rows * p, 0f, y, (long)g.OutChannels * p);
    }

    /// <summary>dx = col2im(Wᵀ · dy_n): the data gradient of the conv of g (and the forward of the transposed conv).</summary>
    private void ConvData(Tensor w, Tensor dy, Tensor dx, ConvGeometry g)
    {
        var (rows, p) = ColShape(g);
        using var col = Temp(g.Batch, rows, p);
        Gemm(true, false, g.Batch, rows, p, g.OutChannels, 1f, w, 0, dy, (long)g.OutChannels * p, 0f, col, (long)rows * p);
        Auto(ref _col2im, K.Col2Im)(I(dx.Numel), V(col), V(dx), Args(g));
    }

    /// <summary>dw += Σ_n dy_n · col_nᵀ: one GEMM walking the batch into a shared output.</summary>
    private void ConvWeight(Tensor col, Tensor dy, Tensor dw, ConvGeometry g)
    {
        var (rows, p) = ColShape(g);
        Gemm(false, true, g.Batch, g.OutChannels, rows, p, 1f, dy, (long)g.OutChannels * p, col, (long)rows * p, 1f, dw, 0);
    }

    private void AddBias(Tensor y, Tensor bias, int channels, int spatial) =>
        Auto(ref _addBias, K.AddChannelBias)(I(y.Numel), V(y), V(bias), new ChannelArgs(y.Shape[0], channels, spatial, 0, 0));

    private void BiasGrad(Tensor dy, Tensor db, int channels, int spatial) =>
        Grouped(ref _channelSum, K.ChannelSum)(Groups(channels), V(dy), V(db), new ChannelArgs(dy.Shape[0], channels, spatial, 0, 0));

    public void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, ConvGeometry g)
    {
        using (var col = Im2Col(x, g)) ConvCore(col, w, y, g);
        if (bias is not null) AddBias(y, bias, g.OutChannels, g.OutH * g.OutW);
    }

    public void Conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, ConvGeometry g)
    {
        if (db is not null) BiasGrad(dy, db, g.OutChannels, g.OutH * g.OutW);
        if (dw is not null) using (var col = Im2Col(x, g)) ConvWeight(col, dy, dw, g);
        if (dx is not null) ConvData(w, dy, dx, g);
    }

    // The transposed conv is the conv of g run backwards: its input is g's output side.
    public void ConvTranspose2d(Tensor x, Tensor w, Tensor? bias, Tensor y, ConvGeometry g)
    {
        ConvData(w, x, y, g);
        if (bias is not null) AddBias(y, bias, g.InChannels, g.InH * g.InW);
    }

    public void ConvTranspose2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, ConvGeometry g)
    {
        if (db is not null) BiasGrad(dy, db, g.InChannels, g.InH * g.InW);
        if (dw is null && dx is null) return;
        using var col = Im2Col(dy, g);   // both gradients read im2col(dy): built once
        if (dw is not null) ConvWeight(col, x, dw, g);
        if (dx is not null) ConvCore(col, w, dx, g);
    }

    // ---- batch norm ---------------------------------------------------------------------------------

    public void BatchNorm(Tensor x, int n, int c, int s, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                          Tensor saveMean, Tensor saveInvStd, float momentum, float eps, Tensor y)
    {
        var args = new ChannelArgs(n, c, s, momentum, eps);
        Grouped(ref _bnStats, K.BatchNormStats)(Groups(c), V(x), V(saveMean), V(saveInvStd), V(runningMean), V(runningVar), args);
        Auto(ref _bnApply, K.BatchNormApply)(I(x.Numel), V(x), V(saveMean), V(saveInvStd), V(gamma), V(beta), V(y), args);
    }

    public void BatchNormBackward(Tensor x, Tensor dy, int n, int c, int s, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta)
    {
        var args = new ChannelArgs(n, c, s, 0, 0);
        using var sums = Temp(2 * c);
        Grouped(ref _bnGradStats, K.BatchNormGradStats)(Groups(c), V(x), V(dy), V(saveMean), V(saveInvStd), V(sums), V(dgamma), V(dbeta), args);
        Auto(ref _bnGradApply, K.BatchNormGradApply)(I(x.Numel), V(x), V(dy), V(saveMean), V(saveInvStd), V(gamma), V(sums), V(dx), args);
    }

    // ---- pooling, softmax ---------------------------------------------------------------------------

    private static PoolArgs Args(PoolGeometry g) => new(g.Batch * g.Channels, g.InH, g.InW, g.Kernel, g.Stride, g.Pad, g.OutH, g.OutW);

    public void MaxPool2d(Tensor x, Tensor y, Tensor argmax, PoolGeometry g)
    {
        if (y.Numel > 0) Auto(ref _maxPool, K.MaxPool)(I(y.Numel), V(x), V(y), V(argmax), Args(g));
    }

    public void MaxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, PoolGeometry g)
    {
        if (dx.Numel > 0) Auto(ref _maxPoolBack, K.MaxPoolBackward)(I(dx.Numel), V(dy), V(argmax), V(dx), Args(g));
    }

    public void Softmax(Tensor x, int outer, int r, int inner, bool log, Tensor y)
    {
        if (outer * inner > 0) Auto(ref _softmax, K.Softmax)(outer * inner, V(x), V(y), new SoftmaxArgs(outer, r, inner, log ? 1 : 0));
    }

    public void SoftmaxBackward(Tensor y, Tensor dy, int outer, int r, int inner, bool log, Tensor dx)
    {
        if (outer * inner > 0) Auto(ref _softmaxBack, K.SoftmaxBackward)(outer * inner, V(y), V(dy), V(dx), new SoftmaxArgs(outer, r, inner, log ? 1 : 0));
    }

    // ---- losses and indexing ------------------------------------------------------------------------

    public void BceWithLogits(Tensor x, Tensor t, Tensor y)
    {
        if (x.Numel > 0) Auto(ref _bce, K.BceWithLogits)(I(x.Numel), V(x), V(t), V(y));
    }

    public void BceWithLogitsBackward(Tensor x, Tensor t, Tensor dy, Tensor dx, Tensor? dt)
    {
        if (x.Numel > 0) Auto(ref _bceBack, K.BceWithLogitsBackward)(I(x.Numel), V(x), V(t), V(dy), V(dx), dt is null ? V(dx) : V(dt), dt is null ? 0 : 1);
    }

    public void IndexSelect(Tensor w, Tensor idx, Tensor y)
    {
        if (y.Numel > 0) Auto(ref _indexSelect, K.IndexSelect)(I(y.Numel), V(w), V(idx), V(y), w.Shape[1]);
    }

    public void IndexAdd(Tensor dy, Tensor idx, Tensor dw)
    {
        int d = dw.Shape[1], n = (int)idx.Numel;
        if (n > 0 && d > 0) Auto(ref _indexAdd, K.IndexAdd)(d, V(dy), V(idx), V(dw), n, d);
    }

    public void Gather(Tensor x, int[] idx, Tensor y)
    {
        if (idx.Length > 0) Auto(ref _gather, K.Gather)(idx.Length, V(x), Ints(idx), V(y), x.Shape[1]);
    }

    public void GatherBackward(Tensor dy, int[] idx, Tensor dx)
    {
        if (idx.Length > 0) Auto(ref _gatherBack, K.GatherBackward)(idx.Length, V(dy), Ints(idx), V(dx), dx.Shape[1]);
    }

    public void ArgReduce(Tensor x, int outer, int r, int inner, bool min, Tensor idx)
    {
        if (outer * inner > 0) Auto(ref _argReduce, K.ArgReduce)(outer * inner, V(x), V(idx), new SoftmaxArgs(outer, r, inner, min ? 1 : 0));
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

    // ---- optimisers ---------------------------------------------------------------------------------

    public void AdamStep(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        if (p.Numel == 0) return;
        float bc1 = 1 - MathF.Pow(beta1, step), bc2s = MathF.Sqrt(1 - MathF.Pow(beta2, step));
        var args = new AdamArgs(lr, beta1, beta2, eps, decoupled ? 0 : weightDecay, decoupled ? 1 - lr * weightDecay : 1, bc1, bc2s);
        Auto(ref _adam, K.Adam)(I(p.Numel), V(p), V(g), V(m), V(v), args);
    }

    public void SgdStep(Tensor p, Tensor g, Tensor? buf, float lr, float momentum, float weightDecay, bool nesterov, bool firstStep)
    {
        if (p.Numel == 0) return;
        var args = new SgdArgs(lr, momentum, weightDecay, nesterov ? 1 : 0, firstStep ? 1 : 0, buf is null ? 0 : 1);
        Auto(ref _sgd, K.Sgd)(I(p.Numel), V(p), V(g), buf is null ? V(p) : V(buf), args);
    }
}
