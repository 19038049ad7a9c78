using QGenEngine.Tensors;
using Tensor = QGenEngine.Tensors.Tensor;

namespace QGenEngine.Kernels.Cpu;

/// <summary>
/// The fast CPU path: float32 storage from a pool (a training step in a <see cref="TensorScope"/>
/// allocates no tensor memory in steady state), SIMD through System.Numerics.Tensors and AVX
/// intrinsics, the packed <see cref="Sgemm"/>, convolutions as GEMM, and both cores through
/// <see cref="CpuParallel"/>. Results are deterministic and independent of the thread count.
/// </summary>
public sealed partial class CpuDevice : IDevice
{
    public static readonly CpuDevice Instance = new();
    public string Name => "cpu";
    internal const int Grain = 32 * 1024;

    internal sealed class FloatStorage(IDevice d, float[] data) : Storage(d, data.Length)
    {
        public readonly float[] Data = data;
    }

    internal static float[] A(Tensor t) => ((FloatStorage)t.Storage).Data;
    internal static Span<float> S(Tensor t) => A(t).AsSpan((int)t.Offset, (int)t.Numel);
}
