using QGenEngine.Tensors;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using System.Runtime.Intrinsics;
using Tensor = QGenEngine.Tensors.Tensor;

namespace QGenEngine.Kernels.Cpu;

// Convolutions as GEMMs over chunks of images. With K = C·KH·KW and P = n·OH·OW for a chunk of n images:
//   col (K, P) = im2col(x);  conv:  y' (OC, P) = W (OC, K) · col;  y = y' moved to (n, OC, OH·OW)
//   backward: dW += dy' · colᵀ;  dcol = Wᵀ · dy';  dx = col2im(dcol)
// ConvTranspose2d is the same pair run the other way round (its forward is conv's data gradient).
// Chunks (ImagesPerChunk: a column matrix of ~512 KB) run side by side, one per core at a time, so each chunk's
// column matrix is written and read back in that core's L2: over the whole batch it was 7-26 MB for the VAE's
// layers and went out to memory and back. Each chunk's GEMM runs serially (a nested parallel loop runs inline).
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

    private static unsafe void Gemm(bool ta, bool tb, int m, int n, int k, float[] a, int ao, float[] b, int bo, float beta, float[] c, int co)
    {
        fixed (float* pa = a, pb = b, pc = c) Sgemm.Run(ta, tb, m, n, k, 1f, pa + ao, pb + bo, beta, pc + co);
    }

    // Chunks of images side by side (see ImagesPerChunk), each through its own im2col, GEMM and layout move.
    public void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, ConvGeometry g)
    {
        int k = g.InChannels * g.KernelH * g.KernelW, plane = g.OutH * g.OutW;
        var (per, chunks) = Chunking((long)k * plane, plane, g.Batch);
        CpuParallel.For(chunks, new ChunkJob(A(x), (int)x.Offset, A(w), (int)w.Offset, A(y), (int)y.Offset, bias, g, per), static (j, ci) =>
        {
            var g = j.G;
            var (n0, nb) = ChunkImages(ci, j.PerChunk, g.Batch);
            int k = g.InChannels * g.KernelH * g.KernelW, plane = g.OutH * g.OutW, p = nb * plane;
            var col = FloatPool.Rent(k * p); var yT = FloatPool.Rent(g.OutChannels * p);
            Im2Col(j.X, j.Xo + n0 * g.InChannels * g.InH * g.InW, col, g with { Batch = nb });
            Gemm(false, false, g.OutChannels, p, k, j.W, j.Wo, col, 0, 0f, yT, 0);
            CnsToNcs(yT, 0, j.Y, j.Yo + n0 * g.OutChannels * plane, nb, g.OutChannels, plane, j.Bias);
            FloatPool.Return(col); FloatPool.Return(yT);
        });
    }

    // As the forward; each chunk adds its own part of dW, and the parts are added in chunk order (see ConvTranspose2dBackward).
    public void Conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, ConvGeometry g)
    {
        int k = g.InChannels * g.KernelH * g.KernelW, plane = g.OutH * g.OutW;
        if (db is not null) AddChannelSums(dy, db, g.Batch, g.OutChannels, plane);
        if (dx is null && dw is null) return;
        var (per, chunks) = Chunking((long)k * plane, plane, g.Batch);
        var parts = dw is null ? null : FloatPool.Rent(chunks * g.OutChannels * k);
        var job = new BackJob(A(x), (int)x.Offset, A(w), (int)w.Offset, A(dy), (int)dy.Offset, dx is null ? null : A(dx), dx is null ? 0 : (int)dx.Offset, parts, g, per);
        CpuParallel.For(chunks, job, static (j, ci) =>
        {
            var g = j.G;
            var (n0, nb) = ChunkImages(ci, j.PerChunk, g.Batch);
            var gc = g with { Batch = nb };
            int k = g.InChannels * g.KernelH * g.KernelW, plane = g.OutH * g.OutW, p = nb * plane;
            var dyT = FloatPool.Rent(g.OutChannels * p); var col = FloatPool.Rent(k * p);
            NcsToCns(j.Dy, j.Dyo + n0 * g.OutChannels * plane, dyT, 0, nb, g.OutChannels, plane);
            int xo = n0 * g.InChannels * g.InH * g.InW;
            if (j.Parts is not null)
            {
                Im2Col(j.X, j.Xo + xo, col, gc);
                Gemm(false, true, g.OutChannels, k, p, dyT, 0, col, 0, 0f, j.Parts, ci * g.OutChannels * k);
            }
            if (j.Dx is not null)
            {
                Gemm(true, false, k, p, g.OutChannels, j.W, j.Wo, dyT, 0, 0f, col, 0);
                Col2Im(col, j.Dx, j.Dxo + xo, gc);
            }
            FloatPool.Return(col); FloatPool.Return(dyT);
        });
        if (parts is not null) AddParts(parts, chunks, g.OutChannels * k, dw!);
    }

    /// <summary>
    /// Images per chunk when a convolution runs image chunks side by side: as many as keep one chunk's column matrix
    /// (<paramref name="colFloatsPerImage"/> each) near 512 KB, so it is written and read back while in the core's L2
    /// instead of going out to memory, but at least 256 columns (<paramref name="plane"/> each) for the GEMM's strips,
    /// and at most a quarter of the batch (four chunks or more keep both cores busy). Depends on the shapes only: the same chunks (and bits) on any thread count.
    /// </summary>
    private static int ImagesPerChunk(long colFloatsPerImage, int plane, int batch) =>
        (int)Math.Clamp(Math.Min(Math.Max((128 * 1024) / Math.Max(1, colFloatsPerImage), (256 + plane - 1) / plane), (batch + 3) / 4), 1, batch);

    /// <summary>Images per chunk (<see cref="ImagesPerChunk"/>) and the number of chunks.</summary>
    private static (int Per, int Chunks) Chunking(long colFloatsPerImage, int plane, int batch)
    {
        int per = ImagesPerChunk(colFloatsPerImage, plane, batch);
        return (per, (batch + per - 1) / per);
    }

    /// <summary>Chunk ci's first image and its number of images.</summary>
    private static (int First, int Count) ChunkImages(int ci, int per, int batch) => (ci * per, Math.Min(per, batch - ci * per));

    /// <summary>db[c] += Σ over images and the plane of channel c of dy (N, C, plane), image by image.</summary>
    private static void AddChannelSums(Tensor dy, Tensor db, int batch, int channels, int plane)
    {
        var d = S(db); var gy = S(dy);
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++) d[c] += FixedReduce.Sum(gy.Slice((n * channels + c) * plane, plane));
    }

    private readonly record struct ChunkJob(float[] X, int Xo, float[] W, int Wo, float[] Y, int Yo, Tensor? Bias, ConvGeometry G, int PerChunk);

    // Run as the convolution whose data gradient it is (t.Adjoint: the transposed conv's input (N, Cin, H, W) is that
    // conv's output side, its output (N, Cout, OH, OW) the conv's input side). Chunks of images run side by side, each
    // through its own GEMM and col2im (serial inside a chunk).
    public void ConvTranspose2d(Tensor x, Tensor w, Tensor? bias, Tensor y, TransposedConvGeometry t)
    {
        var g = t.Adjoint;
        int k = g.InChannels * g.KernelH * g.KernelW, plane = g.OutH * g.OutW;
        var (per, chunks) = Chunking((long)k * plane, plane, g.Batch);
        CpuParallel.For(chunks, new ChunkJob(A(x), (int)x.Offset, A(w), (int)w.Offset, A(y), (int)y.Offset, bias, g, per), static (j, ci) =>
        {
            var g = j.G;
            var (n0, nb) = ChunkImages(ci, j.PerChunk, g.Batch);
            var gc = g with { Batch = nb };
            int cin = g.OutChannels, k = g.InChannels * g.KernelH * g.KernelW, plane = g.OutH * g.OutW, p = nb * plane;
            int outPlane = g.InH * g.InW;
            var xT = FloatPool.Rent(cin * p); var col = FloatPool.Rent(k * p);
            NcsToCns(j.X, j.Xo + n0 * cin * plane, xT, 0, nb, cin, plane);
            Gemm(true, false, k, p, cin, j.W, j.Wo, xT, 0, 0f, col, 0);
            int yo = j.Yo + n0 * g.InChannels * outPlane;
            Col2Im(col, j.Y, yo, gc);
            if (j.Bias is not null)
            {
                var b = S(j.Bias);
                for (int n = 0; n < nb; n++)
                    for (int c = 0; c < g.InChannels; c++)
                    {
                        var s = j.Y.AsSpan(yo + (n * g.InChannels + c) * outPlane, outPlane);
                        TensorPrimitives.Add(s, b[c], s);
                    }
            }
            FloatPool.Return(xT); FloatPool.Return(col);
        });
    }

    private readonly record struct BackJob(float[] X, int Xo, float[] W, int Wo, float[] Dy, int Dyo, float[]? Dx, int Dxo, float[]? Parts, ConvGeometry G, int PerChunk);
    private readonly record struct PartsJob(float[] Parts, int Chunks, int Len, float[] Dst, int Do);

    // Chunks of images side by side, as in the forward: each computes its images' dx and its own part of dW, and the
    // parts are added to dW in chunk order (a fixed order: the same bits on any thread count).
    public void ConvTranspose2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, TransposedConvGeometry t)
    {
        var g = t.Adjoint;   // as the forward
        if (db is not null) AddChannelSums(dy, db, g.Batch, g.InChannels, g.InH * g.InW);
        if (dx is null && dw is null) return;
        int cin = g.OutChannels, k = g.InChannels * g.KernelH * g.KernelW, plane = g.OutH * g.OutW;
        var (per, chunks) = Chunking((long)k * plane, plane, g.Batch);
        var parts = dw is null ? null : FloatPool.Rent(chunks * cin * k);
        var job = new BackJob(A(x), (int)x.Offset, A(w), (int)w.Offset, A(dy), (int)dy.Offset, dx is null ? null : A(dx), dx is null ? 0 : (int)dx.Offset, parts, g, per);
        CpuParallel.For(chunks, job, static (j, ci) =>
        {
            var g = j.G;
            var (n0, nb) = ChunkImages(ci, j.PerChunk, g.Batch);
            var gc = g with { Batch = nb };
            int cin = g.OutChannels, k = g.InChannels * g.KernelH * g.KernelW, plane = g.OutH * g.OutW, p = nb * plane;
            var col = FloatPool.Rent(k * p); var xT = FloatPool.Rent(cin * p);
            Im2Col(j.Dy, j.Dyo + n0 * g.InChannels * g.InH * g.InW, col, gc);
            if (j.Parts is not null)
            {
                NcsToCns(j.X, j.Xo + n0 * cin * plane, xT, 0, nb, cin, plane);
                Gemm(false, true, cin, k, p, xT, 0, col, 0, 0f, j.Parts, ci * cin * k);
            }
            if (j.Dx is not null)
            {
                Gemm(false, false, cin, p, k, j.W, j.Wo, col, 0, 0f, xT, 0);
                CnsToNcs(xT, 0, j.Dx, j.Dxo + n0 * cin * plane, nb, cin, plane, null);
            }
            FloatPool.Return(col); FloatPool.Return(xT);
        });
        if (parts is not null) AddParts(parts, chunks, cin * k, dw!);
    }

    /// <summary>dw += Σ over chunks of parts[chunk] (len each), chunk by chunk in order for every element; returns parts to the pool.</summary>
    private static void AddParts(float[] parts, int chunks, int len, Tensor dw)
    {
        CpuParallel.For(CpuParallel.Chunks(len, 16 * 1024), new PartsJob(parts, chunks, len, A(dw), (int)dw.Offset), static (j, i) =>
        {
            var (lo, hi) = CpuParallel.Range(j.Len, CpuParallel.Chunks(j.Len, 16 * 1024), i);
            var d = j.Dst.AsSpan(j.Do + lo, hi - lo);
            for (int c = 0; c < j.Chunks; c++) TensorPrimitives.Add(d, j.Parts.AsSpan(c * j.Len + lo, hi - lo), d);
        });
        FloatPool.Return(parts);
    }
}
