using ILGPU.Runtime;
using ILGPU;
using K = QGenEngine.Kernels.Gpu.GpuKernels;
using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Gpu;

// Convolution: convolutions and transposed convolutions. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class IlgpuDevice
{
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ConvArgs>? _im2col, _col2im;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ChannelArgs>? _addBias;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ChannelArgs>? _channelSum;

    private static ConvArgs Args(ConvGeometry g) =>
        new(g.Batch, g.InChannels, g.InH, g.InW, g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadH, g.PadW, g.OutH, g.OutW);

    private static (int Rows, int P) ColShape(ConvGeometry g) => (g.InChannels * g.KernelH * g.KernelW, g.OutH * g.OutW);

    /// <summary>im2col(x): (N, C·KH·KW, OH·OW), a pooled temporary the caller disposes.</summary>
    private Tensor Im2Col(Tensor x, ConvGeometry g)
    {
        var (rows, p) = ColShape(g);
        var col = Temp(g.Batch, rows, p);
        Auto(ref _im2col, K.Im2Col)(CheckedInt(col.Numel), V(x), V(col), Args(g));
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
        Auto(ref _col2im, K.Col2Im)(CheckedInt(dx.Numel), V(col), V(dx), Args(g));
    }

    /// <summary>dw += Σ_n dy_n · col_nᵀ: one GEMM walking the batch into a shared output.</summary>
    private void ConvWeight(Tensor col, Tensor dy, Tensor dw, ConvGeometry g)
    {
        var (rows, p) = ColShape(g);
        Gemm(false, true, g.Batch, g.OutChannels, rows, p, 1f, dy, (long)g.OutChannels * p, col, (long)rows * p, 1f, dw, 0);
    }

    private void AddBias(Tensor y, Tensor bias, int channels, int spatial) =>
        Auto(ref _addBias, K.AddChannelBias)(CheckedInt(y.Numel), V(y), V(bias), new ChannelArgs(y.Shape[0], channels, spatial, 0, 0));

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

    // The transposed conv is the conv of t.Adjoint run backwards: its input is that conv's output side.
    public void ConvTranspose2d(Tensor x, Tensor w, Tensor? bias, Tensor y, TransposedConvGeometry t)
    {
        var g = t.Adjoint;
        ConvData(w, x, y, g);
        if (bias is not null) AddBias(y, bias, g.InChannels, g.InH * g.InW);
    }

    public void ConvTranspose2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, TransposedConvGeometry t)
    {
        var g = t.Adjoint;
        if (db is not null) BiasGrad(dy, db, g.InChannels, g.InH * g.InW);
        if (dw is null && dx is null) return;
        using var col = Im2Col(dy, g);   // both gradients read im2col(dy): built once
        if (dw is not null) ConvWeight(col, x, dw, g);
        if (dx is not null) ConvCore(col, w, dx, g);
    }
}

internal static partial class GpuKernels
{
    /// <summary>col (N, C·KH·KW, OH·OW) from x (N, C, H, W); zero outside the padded input.</summary>
    [Kernel]
    public static void Im2Col(Index1D i, ArrayView<float> x, ArrayView<float> col, ConvArgs g)
    {
        int p = g.OH * g.OW, kk = g.KH * g.KW;
        int q = i % p, rest = i / p, row = rest % (g.C * kk), n = rest / (g.C * kk);
        int c = row / kk, k = row - c * kk, kh = k / g.KW, kw = k - kh * g.KW;
        int oh = q / g.OW, ow = q - oh * g.OW;
        int ih = oh * g.SH - g.PH + kh, iw = ow * g.SW - g.PW + kw;
        col[i] = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W ? x[((n * g.C + c) * g.H + ih) * g.W + iw] : 0f;
    }

    /// <summary>x (N, C, H, W) = Σ of the col entries that read each pixel, gathered in (kh, kw) order: no atomics.</summary>
    [Kernel]
    public static void Col2Im(Index1D i, ArrayView<float> col, ArrayView<float> x, ConvArgs g)
    {
        int iw = i % g.W, t = i / g.W, ih = t % g.H; t /= g.H;
        int c = t % g.C, n = t / g.C;
        int p = g.OH * g.OW, kk = g.KH * g.KW;
        float s = 0;
        for (int kh = 0; kh < g.KH; kh++)
        {
            int hh = ih + g.PH - kh;
            if (hh < 0 || hh % g.SH != 0) continue;
            int oh = hh / g.SH;
            if (oh >= g.OH) continue;
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ww = iw + g.PW - kw;
                if (ww < 0 || ww % g.SW != 0) continue;
                int ow = ww / g.SW;
                if (ow >= g.OW) continue;
                s += col[((n * g.C + c) * kk + kh * g.KW + kw) * p + oh * g.OW + ow];
            }
        }
        x[i] = s;
    }

    /// <summary>y (N, C, S) += bias[c].</summary>
    [Kernel]
    public static void AddChannelBias(Index1D i, ArrayView<float> y, ArrayView<float> bias, ChannelArgs a) =>
        y[i] += bias[(i / a.S) % a.C];

    /// <summary>db[c] += Σ_{n,s} dy[n, c, s]: one group per channel.</summary>
    [Kernel(grouped: true)]
    public static void ChannelSum(ArrayView<float> dy, ArrayView<float> db, ChannelArgs a)
    {
        var shared = SharedMemory.Allocate<float>(MaxGroup);
        int c = Grid.IdxX;
        float s = 0;
        for (int k = Group.IdxX; k < a.N * a.S; k += Group.DimX)
        {
            int n = k / a.S;
            s += dy[(n * a.C + c) * a.S + (k - n * a.S)];
        }
        s = GroupSum(shared, s);
        if (Group.IdxX == 0) db[c] += s;
    }
}

internal readonly record struct ConvArgs(int Batch, int C, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int OH, int OW);

internal readonly record struct ChannelArgs(int N, int C, int S, float Momentum, float Eps);
