using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Reference;

// Gemm: matrix products. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class ReferenceDevice
{
    public void Gemm(bool ta, bool tb, int batch, int m, int n, int k, float alpha, Tensor a, long strideA, Tensor b, long strideB, float beta, Tensor c, long strideC)
    {
        var A = Arr(a, out int ao); var B = Arr(b, out int bo); var C = Arr(c, out int co);
        for (int p = 0; p < batch; p++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int q = 0; q < k; q++)
                    {
                        double av = ta ? A[ao + p * strideA + q * m + i] : A[ao + p * strideA + i * k + q];
                        double bv = tb ? B[bo + p * strideB + j * k + q] : B[bo + p * strideB + q * n + j];
                        s += av * bv;
                    }
                    long ci = co + p * strideC + i * n + j;
                    C[ci] = alpha * s + (beta == 0 ? 0 : beta * C[ci]);
                }
    }
}
