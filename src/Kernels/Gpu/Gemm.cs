using ILGPU.Runtime;
using ILGPU;
using K = QGenEngine.Kernels.Gpu.GpuKernels;
using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Gpu;

// Gemm: matrix products. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class IlgpuDevice
{
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>? _gemm;

    public void Gemm(bool transA, bool transB, int batch, int m, int n, int k, float alpha, Tensor a, long strideA, Tensor b, long strideB,
                     float beta, Tensor c, long strideC)
    {
        if (batch == 0 || m == 0 || n == 0) return;
        int d = GemmThreads, tile = 4 * d;
        var args = new GemmArgs(m, n, k, transA ? 1 : 0, transB ? 1 : 0, alpha, beta, batch, CheckedInt(strideA), CheckedInt(strideB), CheckedInt(strideC), d);
        int z = strideC == 0 ? 1 : batch;
        var cfg = new KernelConfig(new Index3D((n + tile - 1) / tile, (m + tile - 1) / tile, z), new Index3D(d * d, 1, 1),
                                   SharedMemoryConfig.RequestDynamic<float>(2 * K.TileK * tile));
        Grouped(ref _gemm, K.Gemm)(cfg, V(a), V(b), V(c), args);
    }
}

internal static partial class GpuKernels
{
    /// <summary>GEMM: each of the d×d threads of a group computes a 4×4 block, so a tile of C is 4d × 4d; A and B pass through shared memory TileK deep.</summary>
    public const int TileK = 32;

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
}

internal readonly record struct GemmArgs(int M, int N, int K, int TransA, int TransB, float Alpha, float Beta,
    int Batch, int StrideA, int StrideB, int StrideC, int Threads);
