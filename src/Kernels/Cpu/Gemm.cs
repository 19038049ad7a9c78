using Tensor = QGenEngine.Tensors.Tensor;

namespace QGenEngine.Kernels.Cpu;

// Gemm: matrix products. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class CpuDevice
{
    public unsafe void Gemm(bool ta, bool tb, int batch, int m, int n, int k, float alpha, Tensor a, long strideA, Tensor b, long strideB, float beta, Tensor c, long strideC)
    {
        fixed (float* pa = A(a), pb = A(b), pc = A(c))
            for (int p = 0; p < batch; p++)
                Sgemm.Run(ta, tb, m, n, k, alpha, pa + a.Offset + p * strideA, pb + b.Offset + p * strideB, beta, pc + c.Offset + p * strideC);
    }
}
