using ILGPU;
using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Gpu;

/// <summary>Marks a kernel of <see cref="GpuKernels"/>; the PTX test compiles every method carrying it.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class KernelAttribute(bool grouped = false) : Attribute
{
    /// <summary>True for explicitly grouped kernels (shared memory, barriers); false for one thread per index.</summary>
    public bool Grouped { get; } = grouped;
}

// ---- scalar arguments, one struct per kernel family (ILGPU passes structs by value) -------------------
internal readonly record struct Copy2DArgs(int SrcOffset, int SrcStride, int DstOffset, int DstStride, int Cols);
internal readonly record struct RandomArgs(int Kind, ulong Seed, float A, float B);
internal readonly record struct UnaryArgs(int Op, float A, float B);

/// <summary>Broadcast geometry of a binary op: up to six collapsed output dims, right-aligned (unused dims are 1).</summary>
internal readonly record struct BinaryArgs(int Op,
    int D0, int D1, int D2, int D3, int D4, int D5,
    int A0, int A1, int A2, int A3, int A4, int A5,
    int B0, int B1, int B2, int B3, int B4, int B5);

internal readonly record struct SumArgs(int Outer, int R, int Inner, float Scale);
internal readonly record struct GemmArgs(int M, int N, int K, int TransA, int TransB, float Alpha, float Beta,
    int Batch, int StrideA, int StrideB, int StrideC, int Threads);
internal readonly record struct ConvArgs(int Batch, int C, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int OH, int OW);
internal readonly record struct ChannelArgs(int N, int C, int S, float Momentum, float Eps);
internal readonly record struct PoolArgs(int Planes, int H, int W, int K, int Stride, int Pad, int OH, int OW);
internal readonly record struct SoftmaxArgs(int Outer, int R, int Inner, int Log);
internal readonly record struct AdamArgs(float Lr, float Beta1, float Beta2, float Eps, float L2, float Decay, float Bc1, float Bc2Sqrt);
internal readonly record struct SgdArgs(float Lr, float Momentum, float WeightDecay, int Nesterov, int FirstStep, int HasBuffer);

/// <summary>
/// Every kernel of the ILGPU backend. Each is a static method ILGPU compiles for CUDA, OpenCL or its CPU
/// accelerator; <see cref="IlgpuDevice"/> loads each once and keeps its typed launcher. Kernels are
/// written so that every sum has a fixed order: results do not depend on scheduling (no float atomics).
/// </summary>
internal static class GpuKernels
{
    /// <summary>
    /// Most threads of an explicitly grouped kernel (the shared arrays' size). Launches use 256 on GPUs and
    /// the accelerator's maximum where smaller (ILGPU's CPU accelerator: 16, as OS threads); a power of two.
    /// </summary>
    public const int MaxGroup = 256;
    /// <summary>GEMM: each of the d×d threads of a group computes a 4×4 block, so a tile of C is 4d × 4d; A and B pass through shared memory TileK deep.</summary>
    public const int TileK = 32;

    // ---- creation and movement ----------------------------------------------------------------------

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

    // ---- elementwise --------------------------------------------------------------------------------

    [Kernel]
    public static void Unary(Index1D i, ArrayView<float> x, ArrayView<float> y, UnaryArgs a)
    {
        float v = x[i];
        y[i] = (UnaryOp)a.Op switch
        {
            UnaryOp.Relu => v > 0 ? v : 0f,
            UnaryOp.LeakyRelu => v > 0 ? v : a.A * v,
            UnaryOp.Sigmoid => 1f / (1f + MathF.Exp(-v)),
            UnaryOp.Tanh => MathF.Tanh(v),
            UnaryOp.Exp => MathF.Exp(v),
            UnaryOp.Log => MathF.Log(v),
            UnaryOp.Softplus => MathF.Max(v, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(v))),
            UnaryOp.Clamp => MathF.Min(MathF.Max(v, a.A), a.B),
            UnaryOp.Affine => a.A * v + a.B,
            UnaryOp.Square => v * v,
            _ => MathF.Sqrt(v),
        };
    }

    [Kernel]
    public static void UnaryBackward(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, UnaryArgs a)
    {
        float v = x[i], g = dy[i];
        dx[i] = (UnaryOp)a.Op switch
        {
            UnaryOp.Relu => v > 0 ? g : 0f,
            UnaryOp.LeakyRelu => v > 0 ? g : a.A * g,
            UnaryOp.Sigmoid => g * y[i] * (1f - y[i]),
            UnaryOp.Tanh => g * (1f - y[i] * y[i]),
            UnaryOp.Exp => g * y[i],
            UnaryOp.Log => g / v,
            UnaryOp.Softplus => g / (1f + MathF.Exp(-v)),
            UnaryOp.Clamp => v >= a.A && v <= a.B ? g : 0f,
            UnaryOp.Affine => g * a.A,
            UnaryOp.Square => 2f * v * g,
            _ => 0.5f * g / y[i],
        };
    }

    private static void Step(ref int rem, ref int oa, ref int ob, int d, int sa, int sb)
    {
        int q = rem / d, k = rem - q * d;
        oa += k * sa; ob += k * sb; rem = q;
    }

    [Kernel]
    public static void Binary(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, BinaryArgs g)
    {
        int rem = i, oa = 0, ob = 0;
        Step(ref rem, ref oa, ref ob, g.D5, g.A5, g.B5);
        Step(ref rem, ref oa, ref ob, g.D4, g.A4, g.B4);
        Step(ref rem, ref oa, ref ob, g.D3, g.A3, g.B3);
        Step(ref rem, ref oa, ref ob, g.D2, g.A2, g.B2);
        Step(ref rem, ref oa, ref ob, g.D1, g.A1, g.B1);
        Step(ref rem, ref oa, ref ob, g.D0, g.A0, g.B0);
        float u = a[oa], v = b[ob];
        y[i] = (BinaryOp)g.Op switch { BinaryOp.Add => u + v, BinaryOp.Sub => u - v, BinaryOp.Mul => u * v, _ => u / v };
    }

    // ---- reductions: one thread per output (short rows) or one group per output (long rows) ------------

    [Kernel]
    public static void SumRows(Index1D i, ArrayView<float> x, ArrayView<float> y, SumArgs a)
    {
        int o = i / a.Inner, k = i - o * a.Inner;
        float s = 0;
        for (int r = 0; r < a.R; r++) s += x[(o * a.R + r) * a.Inner + k];
        y[i] = a.Scale * s;
    }

    /// <summary>Tree sum of one value per thread of the group, in a fixed order; every thread gets the total.</summary>
    private static float GroupSum(ArrayView<float> shared, float v)
    {
        int t = Group.IdxX;
        shared[t] = v;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half >>= 1)
        {
            if (t < half) shared[t] += shared[t + half];
            Group.Barrier();
        }
        float total = shared[0];
        Group.Barrier();
        return total;
    }

    [Kernel(grouped: true)]
    public static void SumRowsGrouped(ArrayView<float> x, ArrayView<float> y, SumArgs a)
    {
        var shared = SharedMemory.Allocate<float>(MaxGroup);
        int i = Grid.IdxX, o = i / a.Inner, k = i - o * a.Inner;
        float s = 0;
        for (int r = Group.IdxX; r < a.R; r += Group.DimX) s += x[(o * a.R + r) * a.Inner + k];
        s = GroupSum(shared, s);
        if (Group.IdxX == 0) y[i] = a.Scale * s;
    }

    /// <summary>Per-group partial sums of squares over a strided slice (summed on the host in double).</summary>
    [Kernel(grouped: true)]
    public static void SumOfSquaresPartial(ArrayView<float> x, ArrayView<float> partial, int n)
    {
        var shared = SharedMemory.Allocate<float>(MaxGroup);
        float s = 0;
        for (int j = Grid.IdxX * Group.DimX + Group.IdxX; j < n; j += Grid.DimX * Group.DimX) s += x[j] * x[j];
        s = GroupSum(shared, s);
        if (Group.IdxX == 0) partial[Grid.IdxX] = s;
    }

    // ---- tiled SGEMM --------------------------------------------------------------------------------

    /// <summary>
    /// C = α·op(A)·op(B) + β·C. A group of d×d threads (d = 16 on GPUs) computes a 4d×4d tile of C, each
    /// thread a 4×4 block at rows ty + d·r and columns tx + d·c (conflict-free shared reads, coalesced
    /// stores); A and B stream through dynamic shared memory TileK deep, each read along its contiguous
    /// axis. Grid z is the batch; when the batch shares C (stride 0) one group walks the batch in order,
    /// applying C = α·A_p·B_p + β·C per item as the sequential definition does.
    /// </summary>
    [Kernel(grouped: true)]
    public static void Gemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmArgs g)
    {
        var smem = SharedMemory.GetDynamic<float>();
        int d = g.Threads, tile = 4 * d, tileK = TileK;
        var sa = smem.SubView(0, tileK * tile);
        var sb = smem.SubView(tileK * tile, tileK * tile);
        int tid = Group.IdxX, tx = tid % d, ty = tid / d, threads = d * d;
        int row0 = Grid.IdxY * tile, col0 = Grid.IdxX * tile;
        bool shared = g.StrideC == 0 && g.Batch > 1;
        int p0 = shared ? 0 : Grid.IdxZ, p1 = shared ? g.Batch : Grid.IdxZ + 1;
        int cBase = shared ? 0 : Grid.IdxZ * g.StrideC;
        int r0 = row0 + ty, r1 = r0 + d, r2 = r1 + d, r3 = r2 + d;
        int q0 = col0 + tx, q1 = q0 + d, q2 = q1 + d, q3 = q2 + d;

        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        if (g.Beta != 0)
        {
            c00 = LoadC(c, g, cBase, r0, q0); c01 = LoadC(c, g, cBase, r0, q1); c02 = LoadC(c, g, cBase, r0, q2); c03 = LoadC(c, g, cBase, r0, q3);
            c10 = LoadC(c, g, cBase, r1, q0); c11 = LoadC(c, g, cBase, r1, q1); c12 = LoadC(c, g, cBase, r1, q2); c13 = LoadC(c, g, cBase, r1, q3);
            c20 = LoadC(c, g, cBase, r2, q0); c21 = LoadC(c, g, cBase, r2, q1); c22 = LoadC(c, g, cBase, r2, q2); c23 = LoadC(c, g, cBase, r2, q3);
            c30 = LoadC(c, g, cBase, r3, q0); c31 = LoadC(c, g, cBase, r3, q1); c32 = LoadC(c, g, cBase, r3, q2); c33 = LoadC(c, g, cBase, r3, q3);
        }

        for (int p = p0; p < p1; p++)
        {
            int aBase = p * g.StrideA, bBase = p * g.StrideB;
            float a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
            float a20 = 0, a21 = 0, a22 = 0, a23 = 0, a30 = 0, a31 = 0, a32 = 0, a33 = 0;
            for (int k0 = 0; k0 < g.K; k0 += tileK)
            {
                for (int idx = tid; idx < tileK * tile; idx += threads)
                {
                    int kk, mm;
                    if (g.TransA == 0) { kk = idx % tileK; mm = idx / tileK; } else { mm = idx % tile; kk = idx / tile; }
                    int gm = row0 + mm, gk = k0 + kk;
                    sa[kk * tile + mm] = gm < g.M && gk < g.K ? a[aBase + (g.TransA == 0 ? gm * g.K + gk : gk * g.M + gm)] : 0f;
                    int nn;
                    if (g.TransB == 0) { nn = idx % tile; kk = idx / tile; } else { kk = idx % tileK; nn = idx / tileK; }
                    int gn = col0 + nn; gk = k0 + kk;
                    sb[kk * tile + nn] = gn < g.N && gk < g.K ? b[bBase + (g.TransB == 0 ? gk * g.N + gn : gn * g.K + gk)] : 0f;
                }
                Group.Barrier();
                for (int kk = 0; kk < tileK; kk++)
                {
                    int ra = kk * tile + ty, rb = kk * tile + tx;
                    float x0 = sa[ra], x1 = sa[ra + d], x2 = sa[ra + 2 * d], x3 = sa[ra + 3 * d];
                    float y0 = sb[rb], y1 = sb[rb + d], y2 = sb[rb + 2 * d], y3 = sb[rb + 3 * d];
                    a00 += x0 * y0; a01 += x0 * y1; a02 += x0 * y2; a03 += x0 * y3;
                    a10 += x1 * y0; a11 += x1 * y1; a12 += x1 * y2; a13 += x1 * y3;
                    a20 += x2 * y0; a21 += x2 * y1; a22 += x2 * y2; a23 += x2 * y3;
                    a30 += x3 * y0; a31 += x3 * y1; a32 += x3 * y2; a33 += x3 * y3;
                }
                Group.Barrier();
            }
            float al = g.Alpha, be = g.Beta;
            c00 = al * a00 + be * c00; c01 = al * a01 + be * c01; c02 = al * a02 + be * c02; c03 = al * a03 + be * c03;
            c10 = al * a10 + be * c10; c11 = al * a11 + be * c11; c12 = al * a12 + be * c12; c13 = al * a13 + be * c13;
            c20 = al * a20 + be * c20; c21 = al * a21 + be * c21; c22 = al * a22 + be * c22; c23 = al * a23 + be * c23;
            c30 = al * a30 + be * c30; c31 = al * a31 + be * c31; c32 = al * a32 + be * c32; c33 = al * a33 + be * c33;
        }
        StoreC(c, g, cBase, r0, q0, c00); StoreC(c, g, cBase, r0, q1, c01); StoreC(c, g, cBase, r0, q2, c02); StoreC(c, g, cBase, r0, q3, c03);
        StoreC(c, g, cBase, r1, q0, c10); StoreC(c, g, cBase, r1, q1, c11); StoreC(c, g, cBase, r1, q2, c12); StoreC(c, g, cBase, r1, q3, c13);
        StoreC(c, g, cBase, r2, q0, c20); StoreC(c, g, cBase, r2, q1, c21); StoreC(c, g, cBase, r2, q2, c22); StoreC(c, g, cBase, r2, q3, c23);
        StoreC(c, g, cBase, r3, q0, c30); StoreC(c, g, cBase, r3, q1, c31); StoreC(c, g, cBase, r3, q2, c32); StoreC(c, g, cBase, r3, q3, c33);
    }

    private static float LoadC(ArrayView<float> c, GemmArgs g, int cBase, int r, int col) =>
        r < g.M && col < g.N ? c[cBase + r * g.N + col] : 0f;

    private static void StoreC(ArrayView<float> c, GemmArgs g, int cBase, int r, int col, float v)
    {
        if (r < g.M && col < g.N) c[cBase + r * g.N + col] = v;
    }

    // ---- convolution: im2col / col2im for the whole batch (GEMMs do the arithmetic) ----------------------

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

    // ---- batch norm (training mode) -----------------------------------------------------------------

    /// <summary>Per channel (one group): mean, 1/σ (biased variance, two passes) and the running averages.</summary>
    [Kernel(grouped: true)]
    public static void BatchNormStats(ArrayView<float> x, ArrayView<float> saveMean, ArrayView<float> saveInv,
                                      ArrayView<float> runMean, ArrayView<float> runVar, ChannelArgs a)
    {
        var shared = SharedMemory.Allocate<float>(MaxGroup);
        int c = Grid.IdxX, cnt = a.N * a.S;
        float s = 0;
        for (int k = Group.IdxX; k < cnt; k += Group.DimX)
        {
            int n = k / a.S;
            s += x[(n * a.C + c) * a.S + (k - n * a.S)];
        }
        float mean = GroupSum(shared, s) / cnt;
        float q = 0;
        for (int k = Group.IdxX; k < cnt; k += Group.DimX)
        {
            int n = k / a.S;
            float d = x[(n * a.C + c) * a.S + (k - n * a.S)] - mean;
            q += d * d;
        }
        float var = GroupSum(shared, q) / cnt;
        if (Group.IdxX == 0)
        {
            saveMean[c] = mean;
            saveInv[c] = 1f / MathF.Sqrt(var + a.Eps);
            runMean[c] = (1f - a.Momentum) * runMean[c] + a.Momentum * mean;
            runVar[c] = (1f - a.Momentum) * runVar[c] + a.Momentum * (cnt > 1 ? var * cnt / (cnt - 1) : var);
        }
    }

    [Kernel]
    public static void BatchNormApply(Index1D i, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> inv,
                                      ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y, ChannelArgs a)
    {
        int c = (i / a.S) % a.C;
        y[i] = (x[i] - mean[c]) * inv[c] * gamma[c] + beta[c];
    }

    /// <summary>Per channel: Σdy and Σdy·x̂ into sums (2C), and accumulated into dγ, dβ.</summary>
    [Kernel(grouped: true)]
    public static void BatchNormGradStats(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> mean, ArrayView<float> inv,
                                          ArrayView<float> sums, ArrayView<float> dgamma, ArrayView<float> dbeta, ChannelArgs a)
    {
        var shared = SharedMemory.Allocate<float>(MaxGroup);
        int c = Grid.IdxX, cnt = a.N * a.S;
        float m = mean[c], sd = 0, sdx = 0;
        for (int k = Group.IdxX; k < cnt; k += Group.DimX)
        {
            int n = k / a.S, j = (n * a.C + c) * a.S + (k - n * a.S);
            sd += dy[j]; sdx += dy[j] * (x[j] - m);
        }
        sd = GroupSum(shared, sd);
        sdx = GroupSum(shared, sdx) * inv[c];
        if (Group.IdxX == 0)
        {
            sums[c] = sd; sums[a.C + c] = sdx;
            dgamma[c] += sdx; dbeta[c] += sd;
        }
    }

    [Kernel]
    public static void BatchNormGradApply(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> mean, ArrayView<float> inv,
                                          ArrayView<float> gamma, ArrayView<float> sums, ArrayView<float> dx, ChannelArgs a)
    {
        int c = (i / a.S) % a.C;
        float cnt = a.N * a.S, iv = inv[c], xhat = (x[i] - mean[c]) * iv;
        dx[i] = gamma[c] * iv / cnt * (cnt * dy[i] - sums[c] - xhat * sums[a.C + c]);
    }

    // ---- pooling ------------------------------------------------------------------------------------

    [Kernel]
    public static void MaxPool(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> argmax, PoolArgs g)
    {
        int ow = i % g.OW, t = i / g.OW, oh = t % g.OH, plane = t / g.OH;
        float best = float.NegativeInfinity; int arg = -1;
        for (int kh = 0; kh < g.K; kh++)
        {
            int ih = oh * g.Stride - g.Pad + kh;
            if (ih < 0 || ih >= g.H) continue;
            for (int kw = 0; kw < g.K; kw++)
            {
                int iw = ow * g.Stride - g.Pad + kw;
                if (iw < 0 || iw >= g.W) continue;
                float v = x[(plane * g.H + ih) * g.W + iw];
                if (v > best || arg < 0) { best = v; arg = ih * g.W + iw; }
            }
        }
        y[i] = best; argmax[i] = arg;
    }

    /// <summary>dx gathers dy from every window whose maximum it was (no atomics, deterministic order).</summary>
    [Kernel]
    public static void MaxPoolBackward(Index1D i, ArrayView<float> dy, ArrayView<float> argmax, ArrayView<float> dx, PoolArgs g)
    {
        int iw = i % g.W, t = i / g.W, ih = t % g.H, plane = t / g.H;
        int self = ih * g.W + iw;
        float s = 0;
        for (int oh = 0; oh < g.OH; oh++)
        {
            int h0 = oh * g.Stride - g.Pad;
            if (ih < h0 || ih >= h0 + g.K) continue;
            for (int ow = 0; ow < g.OW; ow++)
            {
                int w0 = ow * g.Stride - g.Pad;
                if (iw < w0 || iw >= w0 + g.K) continue;
                int o = (plane * g.OH + oh) * g.OW + ow;
                if ((int)argmax[o] == self) s += dy[o];
            }
        }
        dx[i] = s;
    }

    // ---- softmax ------------------------------------------------------------------------------------

    [Kernel]
    public static void Softmax(Index1D i, ArrayView<float> x, ArrayView<float> y, SoftmaxArgs a)
    {
        int o = i / a.Inner, k = i - o * a.Inner, b = o * a.R * a.Inner + k;
        float max = float.NegativeInfinity;
        for (int r = 0; r < a.R; r++) max = MathF.Max(max, x[b + r * a.Inner]);
        float sum = 0;
        for (int r = 0; r < a.R; r++) sum += MathF.Exp(x[b + r * a.Inner] - max);
        float logSum = MathF.Log(sum), inv = 1f / sum;
        for (int r = 0; r < a.R; r++)
        {
            int j = b + r * a.Inner;
            y[j] = a.Log != 0 ? x[j] - max - logSum : MathF.Exp(x[j] - max) * inv;
        }
    }

    [Kernel]
    public static void SoftmaxBackward(Index1D i, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, SoftmaxArgs a)
    {
        int o = i / a.Inner, k = i - o * a.Inner, b = o * a.R * a.Inner + k;
        float dot = 0;
        for (int r = 0; r < a.R; r++) { int j = b + r * a.Inner; dot += a.Log != 0 ? dy[j] : dy[j] * y[j]; }
        for (int r = 0; r < a.R; r++)
        {
            int j = b + r * a.Inner;
            dx[j] = a.Log != 0 ? dy[j] - MathF.Exp(y[j]) * dot : y[j] * (dy[j] - dot);
        }
    }

    // ---- losses -------------------------------------------------------------------------------------

    [Kernel]
    public static void BceWithLogits(Index1D i, ArrayView<float> x, ArrayView<float> t, ArrayView<float> y)
    {
        float v = x[i];
        y[i] = MathF.Max(v, 0f) - v * t[i] + MathF.Log(1f + MathF.Exp(-MathF.Abs(v)));
    }

    [Kernel]
    public static void BceWithLogitsBackward(Index1D i, ArrayView<float> x, ArrayView<float> t, ArrayView<float> dy,
                                             ArrayView<float> dx, ArrayView<float> dt, int hasDt)
    {
        float v = x[i], g = dy[i];
        dx[i] = g * (1f / (1f + MathF.Exp(-v)) - t[i]);
        if (hasDt != 0) dt[i] = -g * v;
    }

    // ---- indexing (indices uploaded to an int buffer) ------------------------------------------------

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
    public static void Gather(Index1D i, ArrayView<float> x, ArrayView<int> idx, ArrayView<float> y, int c) => y[i] = x[i * c + idx[i]];

    [Kernel]
    public static void GatherBackward(Index1D i, ArrayView<float> dy, ArrayView<int> idx, ArrayView<float> dx, int c) => dx[i * c + idx[i]] += dy[i];

    [Kernel]
    public static void ArgReduce(Index1D i, ArrayView<float> x, ArrayView<float> idx, SoftmaxArgs a)
    {
        // SoftmaxArgs' Log flag means "min" here: the same (outer, r, inner) walk.
        int o = i / a.Inner, k = i - o * a.Inner, b = o * a.R * a.Inner + k, arg = 0;
        float best = x[b];
        for (int r = 1; r < a.R; r++)
        {
            float v = x[b + r * a.Inner];
            if (a.Log != 0 ? v < best : v > best) { best = v; arg = r; }
        }
        idx[i] = arg;
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

    // ---- optimisers ---------------------------------------------------------------------------------

    [Kernel]
    public static void Adam(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, AdamArgs a)
    {
        float pv = p[i], gv = g[i] + a.L2 * pv;
        pv *= a.Decay;
        float mv = a.Beta1 * m[i] + (1f - a.Beta1) * gv;
        float vv = a.Beta2 * v[i] + (1f - a.Beta2) * gv * gv;
        m[i] = mv; v[i] = vv;
        p[i] = pv - a.Lr / a.Bc1 * mv / (MathF.Sqrt(vv) / a.Bc2Sqrt + a.Eps);
    }

    [Kernel]
    public static void Sgd(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> buf, SgdArgs a)
    {
        float grad = g[i] + a.WeightDecay * p[i];
        if (a.HasBuffer != 0)
        {
            float bv = a.FirstStep != 0 ? grad : a.Momentum * buf[i] + grad;
            buf[i] = bv;
            grad = a.Nesterov != 0 ? grad + a.Momentum * bv : bv;
        }
        p[i] -= a.Lr * grad;
    }
}
