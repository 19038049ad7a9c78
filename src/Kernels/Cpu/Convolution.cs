using QGenEngine.Tensors;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using System.Runtime.Intrinsics;
using Tensor = QGenEngine.Tensors.Tensor;

namespace QGenEngine.Kernels.Cpu;

// Convolutions as GEMM over the whole batch. With K = C·KH·KW and P = N·OH·OW:
//   col (K, P) = im2col(x);  conv:  y' (OC, P) = W (OC, K) · col;  y = y' moved to (N, OC, OH·OW)
//   backward: dW += dy' · colᵀ;  dcol = Wᵀ · dy';  dx = col2im(dcol)
// ConvTranspose2d is the same pair run the other way round (its forward is conv's data gradient).
public sealed partial class CpuDevice
{
    private readonly record struct ColJob(float[] X, int Xo, float[] Col, ConvGeometry G);

    /// <summary>The output columns [lo, hi) whose input column ow·s − p + kw lies inside [0, w).</summary>
    private static (int Lo, int Hi) ValidRange(int kw, int stride, int pad, int inW, int outW)
    {
        int off = kw - pad;                                      // iw = ow·s + off
        int lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
        int hi = inW - off <= 0 ? 0 : Math.Min(outW, (inW - off + stride - 1) / stride);
        return (Math.Min(lo, outW), Math.Max(hi, Math.Min(lo, outW)));
    }

    /// <summary>col (C·KH·KW, N·OH·OW) from x (N, C, H, W); rows in parallel.</summary>
    internal static unsafe void Im2Col(float[] x, int xo, float[] col, ConvGeometry g)
    {
        int rows = g.InChannels * g.KernelH * g.KernelW;
        CpuParallel.For(rows, new ColJob(x, xo, col, g), static (j, row) =>
        {
            var g = j.G;
            int kw = row % g.KernelW, kh = row / g.KernelW % g.KernelH, c = row / (g.KernelW * g.KernelH);
            int plane = g.OutH * g.OutW, s = g.StrideW;
            var (lo, hi) = ValidRange(kw, s, g.PadW, g.InW, g.OutW);
            fixed (float* xp = j.X, cp = j.Col)
            {
                float* dst = cp + (long)row * g.Batch * plane;
                for (int n = 0; n < g.Batch; n++)
                {
                    float* src = xp + j.Xo + (long)(n * g.InChannels + c) * g.InH * g.InW;
                    for (int oh = 0; oh < g.OutH; oh++, dst += g.OutW)
                    {
                        int ih = oh * g.StrideH - g.PadH + kh;
                        if ((uint)ih >= (uint)g.InH) { new Span<float>(dst, g.OutW).Clear(); continue; }
                        float* line = src + ih * g.InW + kw - g.PadW;   // line[ow·s] is x[ih, ow·s − p + kw]
                        for (int ow = 0; ow < lo; ow++) dst[ow] = 0;
                        if (s == 1) new ReadOnlySpan<float>(line + lo, hi - lo).CopyTo(new Span<float>(dst + lo, hi - lo));
                        else if (s == 2 && hi - lo >= 8 && Avx2.IsSupported) GatherEven(line, dst, lo, hi);
                        else for (int ow = lo; ow < hi; ow++) dst[ow] = line[ow * s];
                        for (int ow = hi; ow < g.OutW; ow++) dst[ow] = 0;
                    }
                }
            }
        });
    }

    /// <summary>
    /// x (N, C, H, W) = Σ of col's entries into their pixels. Planes (n, c) in parallel; each plane sums
    /// its kernel offsets in a fixed order, so the result does not depend on the thread count.
    /// </summary>
    internal static unsafe void Col2Im(float[] col, float[] x, int xo, ConvGeometry g)
    {
        CpuParallel.For(g.InChannels * g.Batch, new ColJob(x, xo, col, g), static (j, item) =>
        {
            var g = j.G;
            int c = item / g.Batch, n = item % g.Batch;
            int plane = g.OutH * g.OutW, s = g.StrideW;
            fixed (float* xp = j.X, cp = j.Col)
            {
                float* dst = xp + j.Xo + (long)(n * g.InChannels + c) * g.InH * g.InW;
                new Span<float>(dst, g.InH * g.InW).Clear();
                for (int kh = 0; kh < g.KernelH; kh++)
                    for (int kw = 0; kw < g.KernelW; kw++)
                    {
                        int row = (c * g.KernelH + kh) * g.KernelW + kw;
                        var (lo, hi) = ValidRange(kw, s, g.PadW, g.InW, g.OutW);
                        float* src = cp + ((long)row * g.Batch + n) * plane;
                        for (int oh = 0; oh < g.OutH; oh++)
                        {
                            int ih = oh * g.StrideH - g.PadH + kh;
                            if ((uint)ih >= (uint)g.InH) continue;
                            float* line = dst + ih * g.InW + kw - g.PadW;
                            float* sr = src + oh * g.OutW;
                            if (s == 1)
                            {
                                var l = new Span<float>(line + lo, hi - lo);
                                TensorPrimitives.Add(l, new ReadOnlySpan<float>(sr + lo, hi - lo), l);
                            }
                            else
                            {
                                int ow = lo;
                                // Eight at a time while the sixteen lanes (every other one adds zero) stay inside this row.
                                if (s == 2 && Avx2.IsSupported)
                                    for (int end = (g.InW - (kw - g.PadW)) / 2; ow + 8 <= Math.Min(hi, end); ow += 8) ScatterAddEven(sr + ow, line + 2 * ow);
                                for (; ow < hi; ow++) line[ow * s] += sr[ow];
                            }
                        }
                    }
            }
        });
    }

    /// <summary>dst[ow] = line[2·ow] for ow in [lo, hi), hi − lo ≥ 8: eight at a time, the last eight overlapping.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void GatherEven(float* line, float* dst, int lo, int hi)
    {
        for (int ow = lo; ; ow += 8)
        {
            if (ow + 8 > hi) ow = hi - 8;
            // l0..l7 and l7..l14: nothing past the last even element is read.
            var a = Avx.LoadVector256(line + 2 * ow); var b = Avx.LoadVector256(line + 2 * ow + 7);
            var even = Avx.Shuffle(a, b, 0xD8);                       // l0 l2 l8 l10 | l4 l6 l12 l14
            Avx.Store(dst + ow, Avx2.Permute4x64(even.AsDouble(), 0xD8).AsSingle());
            if (ow + 8 >= hi) return;
        }
    }

    /// <summary>line[2·i] += src[i] for i &lt; 8 (line[2·i + 1] += 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void ScatterAddEven(float* src, float* line)
    {
        var v = Avx2.Permute4x64(Avx.LoadVector256(src).AsDouble(), 0xD8).AsSingle();   // s0 s1 s4 s5 | s2 s3 s6 s7
        var z = Vector256<float>.Zero;
        var lo = Avx.UnpackLow(v, z); var hi = Avx.UnpackHigh(v, z);                     // s0 0 s1 0 | s2 0 s3 0 ; s4 0 s5 0 | s6 0 s7 0
        Avx.Store(line, Avx.Add(Avx.LoadVector256(line), lo));
        Avx.Store(line + 8, Avx.Add(Avx.LoadVector256(line + 8), hi));
    }

    private readonly record struct MoveJob(float[] Src, int So, float[] Dst, int Do, int N, int C, int S, float[]? Bias, int Bo);

    /// <summary>(C, N·S) → (N, C, S), adding bias[c] if given; channels in parallel.</summary>
    private static void CnsToNcs(float[] src, int so, float[] dst, int dOff, int n, int c, int s, Tensor? bias)
    {
        CpuParallel.For(c, new MoveJob(src, so, dst, dOff, n, c, s, bias is null ? null : A(bias), bias is null ? 0 : (int)bias.Offset), static (j, ch) =>
        {
            for (int i = 0; i < j.N; i++)
            {
                var from = j.Src.AsSpan(j.So + (ch * j.N + i) * j.S, j.S);
                var to = j.Dst.AsSpan(j.Do + (i * j.C + ch) * j.S, j.S);
                if (j.Bias is null) from.CopyTo(to); else TensorPrimitives.Add(from, j.Bias[j.Bo + ch], to);
            }
        });
    }

    /// <summary>(N, C, S) → (C, N·S); channels in parallel.</summary>
    private static void NcsToCns(float[] src, int so, float[] dst, int dOff, int n, int c, int s)
    {
        CpuParallel.For(c, new MoveJob(src, so, dst, dOff, n, c, s, null, 0), static (j, ch) =>
        {
            for (int i = 0; i < j.N; i++)
                j.Src.AsSpan(j.So + (i * j.C + ch) * j.S, j.S).CopyTo(j.Dst.AsSpan(j.Do + (ch * j.N + i) * j.S, j.S));
        });
    }

    /// <summary>db[c] += Σ over (C, N·S)-laid-out gradient rows.</summary>
    private static void AddRowSums(float[] cns, int rows, int len, Tensor db)
    {
        var d = S(db);
        for (int r = 0; r < rows; r++) d[r] += TensorPrimitives.Sum(cns.AsSpan(r * len, len));
    }

    private static unsafe void Gemm(bool ta, bool tb, int m, int n, int k, float[] a, int ao, float[] b, int bo, float beta, float[] c, int co)
    {
        fixed (float* pa = a, pb = b, pc = c) Sgemm.Run(ta, tb, m, n, k, 1f, pa + ao, pb + bo, beta, pc + co);
    }

    public void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, ConvGeometry g)
    {
        int k = g.InChannels * g.KernelH * g.KernelW, p = g.Batch * g.OutH * g.OutW;
        var col = FloatPool.Rent(k * p); var yT = FloatPool.Rent(g.OutChannels * p);
        Im2Col(A(x), (int)x.Offset, col, g);
        Gemm(false, false, g.OutChannels, p, k, A(w), (int)w.Offset, col, 0, 0f, yT, 0);
        CnsToNcs(yT, 0, A(y), (int)y.Offset, g.Batch, g.OutChannels, g.OutH * g.OutW, bias);
        FloatPool.Return(col); FloatPool.Return(yT);
    }

    public void Conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, ConvGeometry g)
    {
        int k = g.InChannels * g.KernelH * g.KernelW, p = g.Batch * g.OutH * g.OutW;
        var dyT = FloatPool.Rent(g.OutChannels * p);
        NcsToCns(A(dy), (int)dy.Offset, dyT, 0, g.Batch, g.OutChannels, g.OutH * g.OutW);
        if (db is not null) AddRowSums(dyT, g.OutChannels, p, db);
        var col = FloatPool.Rent(k * p);
        if (dw is not null)
        {
            Im2Col(A(x), (int)x.Offset, col, g);
            Gemm(false, true, g.OutChannels, k, p, dyT, 0, col, 0, 1f, A(dw), (int)dw.Offset);
        }
        if (dx is not null)
        {
            Gemm(true, false, k, p, g.OutChannels, A(w), (int)w.Offset, dyT, 0, 0f, col, 0);
            Col2Im(col, A(dx), (int)dx.Offset, g);
        }
        FloatPool.Return(col); FloatPool.Return(dyT);
    }

    // In g the transposed conv's input (N, Cin, H, W) is the "out" side, its output (N, Cout, OH, OW) the "in" side.
    public void ConvTranspose2d(Tensor x, Tensor w, Tensor? bias, Tensor y, ConvGeometry g)
    {
        int cin = g.OutChannels, k = g.InChannels * g.KernelH * g.KernelW, p = g.Batch * g.OutH * g.OutW;
        var xT = FloatPool.Rent(cin * p); var col = FloatPool.Rent(k * p);
        NcsToCns(A(x), (int)x.Offset, xT, 0, g.Batch, cin, g.OutH * g.OutW);
        Gemm(true, false, k, p, cin, A(w), (int)w.Offset, xT, 0, 0f, col, 0);
        Col2Im(col, A(y), (int)y.Offset, g);
        if (bias is not null)
        {
            var ys = S(y); var b = S(bias); int plane = g.InH * g.InW;
            for (int n = 0; n < g.Batch; n++)
                for (int c = 0; c < g.InChannels; c++)
                {
                    var s = ys.Slice((n * g.InChannels + c) * plane, plane);
                    TensorPrimitives.Add(s, b[c], s);
                }
        }
        FloatPool.Return(xT); FloatPool.Return(col);
    }

    public void ConvTranspose2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, ConvGeometry g)
    {
        int cin = g.OutChannels, k = g.InChannels * g.KernelH * g.KernelW, p = g.Batch * g.OutH * g.OutW;
        if (db is not null)
        {
            var d = S(db); var gy = S(dy); int plane = g.InH * g.InW;
            for (int n = 0; n < g.Batch; n++)
                for (int c = 0; c < g.InChannels; c++) d[c] += TensorPrimitives.Sum(gy.Slice((n * g.InChannels + c) * plane, plane));
        }
        if (dx is null && dw is null) return;
        var col = FloatPool.Rent(k * p); var xT = FloatPool.Rent(cin * p);
        Im2Col(A(dy), (int)dy.Offset, col, g);
        if (dw is not null)
        {
            NcsToCns(A(x), (int)x.Offset, xT, 0, g.Batch, cin, g.OutH * g.OutW);
            Gemm(false, true, cin, k, p, xT, 0, col, 0, 1f, A(dw), (int)dw.Offset);
        }
        if (dx is not null)
        {
            Gemm(false, false, cin, p, k, A(w), (int)w.Offset, col, 0, 0f, xT, 0);
            CnsToNcs(xT, 0, A(dx), (int)dx.Offset, g.Batch, cin, g.OutH * g.OutW, null);
        }
        FloatPool.Return(col); FloatPool.Return(xT);
    }
}
