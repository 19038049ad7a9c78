using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QGenEngine.Kernels.Cpu;

/// <summary>
/// Packed, blocked single-precision GEMM (the Goto/BLIS scheme): C (m,n) = α·op(A)·op(B) + β·C.
/// B is packed per (KC × NC) panel into 16-wide strips, A per (MC × KC) block into 6-tall strips,
/// and a 6×16 register-tiled micro-kernel (12 AVX accumulators, FMA) runs over them. Transposition is
/// absorbed by the packing routines. Work is split over row blocks and column chunks of C, so each
/// element of C is summed by one thread in one fixed order: the result is independent of the thread count.
/// </summary>
public static unsafe class Sgemm
{
    public const int MR = 6, NR = 16, KC = 256, MC = 96, NC = 4096;

    [ThreadStatic] private static float[]? _packA;
    private static float[] _packB = [];

    /// <summary>Row-major operands: A is (m,k), or (k,m) if transA; B is (k,n), or (n,k) if transB; C is (m,n).</summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha, float* a, float* b, float beta, float* c)
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0) { ScaleC(c, (long)m * n, beta); return; }
        if (n < NR && m > n && (long)m * n <= 1 << 20)
        {
            // A narrow C (a weight gradient with few columns): Cᵀ = op(B)ᵀ·op(A)ᵀ fills whole 16-wide strips instead of
            // one partial strip. Cᵀ starts as β·C transposed and takes the same sums in the same order: the same bits.
            var t = FloatPool.Rent(m * n);
            fixed (float* tp = t)
            {
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) tp[(long)j * m + i] = beta == 0 ? 0f : beta == 1 ? c[(long)i * n + j] : beta * c[(long)i * n + j];
                Run(!transB, !transA, n, m, k, alpha, b, a, beta == 0 ? 0f : 1f, tp);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) c[(long)i * n + j] = tp[(long)j * m + i];
            }
            FloatPool.Return(t);
            return;
        }
        // β = 0: the first k-block stores its products instead of adding them to a cleared C (no pass to clear C, no
        // read of it); otherwise C is scaled once and every block adds.
        bool overwrite = beta == 0;
        if (!overwrite) ScaleC(c, (long)m * n, beta);
        long rsA = transA ? 1 : k, csA = transA ? m : 1;
        long rsB = transB ? 1 : n, csB = transB ? k : 1;
        bool parallel = (double)m * n * k >= 48 * 48 * 48 && CpuParallel.Threads > 1 && !CpuParallel.InParallelLoop;
        int mBlocks = (m + MC - 1) / MC;
        if (!parallel || mBlocks < CpuParallel.Threads)
        {
            // Serial (small, or called from a chunk of a parallel loop: thread-local buffers, no shared lock) or few rows.
            RunTiles(a, rsA, csA, b, rsB, csB, c, m, n, k, alpha, overwrite, parallel);
            return;
        }

        for (int jc = 0; jc < n; jc += NC)
        {
            int nc = Math.Min(NC, n - jc);
            int strips = (nc + NR - 1) / NR;
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                lock (PackLock)
                {
                    int need = strips * NR * kc;
                    if (_packB.Length < need) _packB = GC.AllocateArray<float>(Math.Max(need, NC * KC), pinned: true);
                    fixed (float* pb = _packB)
                    {
                        var st = new PackBState(b + pc * rsB + jc * csB, rsB, csB, kc, nc, pb);
                        CpuParallel.For(CpuParallel.Chunks(strips, 16), st, static (s, i) => s.Run(i));

                        int nChunks = Math.Clamp((2 * CpuParallel.Threads + mBlocks - 1) / mBlocks, 1, strips);
                        var ms = new MacroState(a + pc * csA, rsA, csA, pb, c + jc, n, m, nc, kc, strips, alpha, nChunks, overwrite && pc == 0);
                        CpuParallel.For(mBlocks * nChunks, ms, static (s, i) => s.Run(i));
                    }
                }
            }
        }
    }

    private static readonly object PackLock = new();

    /// <summary>
    /// The schedule for few rows (fewer row blocks than threads: a batch of 64 against a wide layer, a weight gradient
    /// with a long k): C is cut into tiles of rows × strips, one per work item, and each item walks all of k itself,
    /// packing its own A rows and B strips. One fork-join per call instead of two per k-block, at the price of packing a
    /// strip once per row tile (1/MC of the tile's multiply-adds). Each element of C still sums its k-blocks in order,
    /// so the result equals the blocked schedule's and does not depend on the thread count.
    /// </summary>
    private static void RunTiles(float* a, long rsA, long csA, float* b, long rsB, long csB, float* c, int m, int n, int k, float alpha, bool overwrite, bool parallel)
    {
        if (!parallel)
        {
            new TileState(a, rsA, csA, b, rsB, csB, c, m, n, k, alpha, 1, 1, overwrite).Run(0);
            return;
        }
        int strips = (n + NR - 1) / NR, rowStrips = (m + MR - 1) / MR;
        int want = 2 * CpuParallel.Threads;
        int nParts = Math.Min(strips, want);
        int mParts = Math.Min(rowStrips, (want + nParts - 1) / nParts);
        var st = new TileState(a, rsA, csA, b, rsB, csB, c, m, n, k, alpha, mParts, nParts, overwrite);
        CpuParallel.For(mParts * nParts, st, static (s, i) => s.Run(i));
    }

    [ThreadStatic] private static float[]? _packBTile;

    private readonly struct TileState(float* a, long rsA, long csA, float* b, long rsB, long csB, float* c, int m, int n, int k, float alpha, int mParts, int nParts, bool overwrite)
    {
        private const int GroupStrips = 32;   // 16·32·KC floats = 512 KB of packed B: stays in L2

        public void Run(int item)
        {
            int rowStrips = (m + MR - 1) / MR, strips = (n + NR - 1) / NR;
            var (r0, r1) = CpuParallel.Range(rowStrips, mParts, item / nParts);
            var (s0, s1) = CpuParallel.Range(strips, nParts, item % nParts);
            if (r0 == r1 || s0 == s1) return;
            int i0 = r0 * MR, mc = Math.Min(m, r1 * MR) - i0;
            var packA = _packA;
            if (packA is null || packA.Length < MC * KC) _packA = packA = GC.AllocateArray<float>(MC * KC, pinned: true);
            var packB = _packBTile;
            if (packB is null || packB.Length < GroupStrips * NR * KC) _packBTile = packB = GC.AllocateArray<float>(GroupStrips * NR * KC, pinned: true);
            fixed (float* pa = packA, pb = packB)
            {
                for (int g0 = s0; g0 < s1; g0 += GroupStrips)
                {
                    int g1 = Math.Min(s1, g0 + GroupStrips);
                    int j0 = g0 * NR, nc = Math.Min(n, g1 * NR) - j0;
                    for (int pc = 0; pc < k; pc += KC)
                    {
                        int kc = Math.Min(KC, k - pc);
                        new PackBState(b + pc * rsB + j0 * csB, rsB, csB, kc, nc, pb).RunAll();
                        for (int ib = 0; ib < mc; ib += MC)
                        {
                            int h = Math.Min(MC, mc - ib);
                            PackA(a + pc * csA + (i0 + ib) * rsA, rsA, csA, h, kc, pa);
                            Tiles(pa, pb, c + (long)(i0 + ib) * n + j0, n, h, nc, kc, 0, g1 - g0, alpha, overwrite && pc == 0);
                        }
                    }
                }
            }
        }
    }

    /// <summary>C[0..mc, strips s0..s1) += α·(packed A block)·(packed B strips) (= when overwrite), by 6×16 micro-tiles.</summary>
    private static void Tiles(float* pa, float* pb, float* c, int ldc, int mc, int nc, int kc, int s0, int s1, float alpha, bool overwrite)
    {
        int rowStrips = (mc + MR - 1) / MR;
        float* tile = stackalloc float[MR * NR];
        for (int s = s0; s < s1; s++)
        {
            int j0 = s * NR, w = Math.Min(NR, nc - j0);
            float* bs = pb + (long)s * NR * kc;
            for (int r = 0; r < rowStrips; r++)
            {
                int h = Math.Min(MR, mc - r * MR);
                float* cp = c + (long)(r * MR) * ldc + j0;
                if (h == MR && w == NR) Kernel6x16(kc, pa + r * MR * kc, bs, cp, ldc, alpha, overwrite);
                else
                {
                    Kernel6x16(kc, pa + r * MR * kc, bs, tile, NR, alpha, true);
                    for (int y = 0; y < h; y++)
                        for (int x = 0; x < w; x++)
                            if (overwrite) cp[(long)y * ldc + x] = tile[y * NR + x];
                            else cp[(long)y * ldc + x] += tile[y * NR + x];
                }
            }
        }
    }

    private static void ScaleC(float* c, long len, float beta)
    {
        if (beta == 1) return;
        var span = new Span<float>(c, checked((int)len));
        if (beta == 0) span.Clear();
        else System.Numerics.Tensors.TensorPrimitives.Multiply(span, beta, span);
    }

    private readonly struct PackBState(float* b, long rs, long cs, int kc, int nc, float* dst)
    {
        public void RunAll() { for (int i = 0, n = CpuParallel.Chunks((nc + NR - 1) / NR, 16); i < n; i++) Run(i); }

        public void Run(int chunk)
        {
            int strips = (nc + NR - 1) / NR;
            var (s0, s1) = CpuParallel.Range(strips, CpuParallel.Chunks(strips, 16), chunk);
            for (int s = s0; s < s1; s++)
            {
                int j0 = s * NR, w = Math.Min(NR, nc - j0);
                float* d = dst + (long)s * NR * kc;
                for (int p = 0; p < kc; p++, d += NR)
                {
                    float* src = b + p * rs + j0 * cs;
                    if (rs == 1 && w == NR && Avx.IsSupported && p + 8 <= kc)
                    {
                        // B stored transposed (contiguous along k): 8 k-steps of the strip at a time, as two 8×8 transposes.
                        Transpose8x8(src, cs, d, NR);
                        Transpose8x8(src + 8 * cs, cs, d + 8, NR);
                        p += 7; d += 7 * NR;
                    }
                    else if (cs == 1 && w == NR)
                    {
                        Vector256.Store(Vector256.Load(src), d);
                        Vector256.Store(Vector256.Load(src + 8), d + 8);
                    }
                    else
                    {
                        int j = 0;
                        for (; j < w; j++) d[j] = src[j * cs];
                        for (; j < NR; j++) d[j] = 0;
                    }
                }
            }
        }
    }

    private static void PackA(float* a, long rs, long cs, int mc, int kc, float* dst)
    {
        for (int r0 = 0; r0 < mc; r0 += MR)
        {
            int h = Math.Min(MR, mc - r0);
            float* d = dst + r0 * kc;
            for (int p = 0; p < kc; p++, d += MR)
            {
                int y = 0;
                for (; y < h; y++) d[y] = a[(r0 + y) * rs + p * cs];
                for (; y < MR; y++) d[y] = 0;
            }
        }
    }

    /// <summary>dst[q·ldDst + i] = src[i·ld + q] for i, q &lt; 8: eight rows of eight become eight columns (AVX).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8x8(float* src, long ld, float* dst, long ldDst)
    {
        var r0 = Avx.LoadVector256(src); var r1 = Avx.LoadVector256(src + ld);
        var r2 = Avx.LoadVector256(src + 2 * ld); var r3 = Avx.LoadVector256(src + 3 * ld);
        var r4 = Avx.LoadVector256(src + 4 * ld); var r5 = Avx.LoadVector256(src + 5 * ld);
        var r6 = Avx.LoadVector256(src + 6 * ld); var r7 = Avx.LoadVector256(src + 7 * ld);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20)); Avx.Store(dst + ldDst, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldDst, Avx.Permute2x128(u2, u6, 0x20)); Avx.Store(dst + 3 * ldDst, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldDst, Avx.Permute2x128(u0, u4, 0x31)); Avx.Store(dst + 5 * ldDst, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldDst, Avx.Permute2x128(u2, u6, 0x31)); Avx.Store(dst + 7 * ldDst, Avx.Permute2x128(u3, u7, 0x31));
    }

    private readonly struct MacroState(float* a, long rsA, long csA, float* pb, float* c, int ldc, int m, int nc, int kc, int strips, float alpha, int nChunks, bool overwrite)
    {
        public void Run(int item)
        {
            int ib = item / nChunks, chunk = item % nChunks;
            int i0 = ib * MC, mc = Math.Min(MC, m - i0);
            var (s0, s1) = CpuParallel.Range(strips, nChunks, chunk);
            if (s0 == s1) return;
            var packA = _packA;
            if (packA is null || packA.Length < MC * KC) _packA = packA = GC.AllocateArray<float>(MC * KC, pinned: true);
            fixed (float* pa = packA)
            {
                PackA(a + i0 * rsA, rsA, csA, mc, kc, pa);
                Tiles(pa, pb, c + (long)i0 * ldc, ldc, mc, nc, kc, s0, s1, alpha, overwrite);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int kc, float* a, float* b, float* c, long ldc, float alpha, bool overwrite)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
                         c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        if (Fma.IsSupported)
        {
            for (int p = 0; p < kc; p++, a += MR, b += NR)
            {
                var b0 = Avx.LoadVector256(b); var b1 = Avx.LoadVector256(b + 8);
                var x = Vector256.Create(a[0]); c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
                x = Vector256.Create(a[1]); c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
                x = Vector256.Create(a[2]); c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
                x = Vector256.Create(a[3]); c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
                x = Vector256.Create(a[4]); c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
                x = Vector256.Create(a[5]); c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
            }
        }
        else
        {
            for (int p = 0; p < kc; p++, a += MR, b += NR)
            {
                var b0 = Vector256.Load(b); var b1 = Vector256.Load(b + 8);
                var x = Vector256.Create(a[0]); c00 += x * b0; c01 += x * b1;
                x = Vector256.Create(a[1]); c10 += x * b0; c11 += x * b1;
                x = Vector256.Create(a[2]); c20 += x * b0; c21 += x * b1;
                x = Vector256.Create(a[3]); c30 += x * b0; c31 += x * b1;
                x = Vector256.Create(a[4]); c40 += x * b0; c41 += x * b1;
                x = Vector256.Create(a[5]); c50 += x * b0; c51 += x * b1;
            }
        }
        var al = Vector256.Create(alpha);
        Store(c, c00, c01, al, overwrite); Store(c + ldc, c10, c11, al, overwrite); Store(c + 2 * ldc, c20, c21, al, overwrite);
        Store(c + 3 * ldc, c30, c31, al, overwrite); Store(c + 4 * ldc, c40, c41, al, overwrite); Store(c + 5 * ldc, c50, c51, al, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> v0, Vector256<float> v1, Vector256<float> alpha, bool overwrite)
    {
        if (overwrite)
        {
            Vector256.Store(v0 * alpha, c);
            Vector256.Store(v1 * alpha, c + 8);
            return;
        }
        Vector256.Store(Vector256.Load(c) + v0 * alpha, c);
        Vector256.Store(Vector256.Load(c + 8) + v1 * alpha, c + 8);
    }
}
