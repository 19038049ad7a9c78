using ILGPU;

namespace QGenEngine.Kernels.Gpu;

/// <summary>Marks a kernel of <see cref="GpuKernels"/>; the PTX test compiles every method carrying it.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class KernelAttribute(bool grouped = false) : Attribute
{
    /// <summary>True for explicitly grouped kernels (shared memory, barriers); false for one thread per index.</summary>
    public bool Grouped { get; } = grouped;
}

/// <summary>
/// Every kernel of the ILGPU backend. Each is a static method ILGPU compiles for CUDA, OpenCL or its CPU
/// accelerator; <see cref="IlgpuDevice"/> loads each once and keeps its typed launcher. Kernels are
/// written so that every sum has a fixed order: results do not depend on scheduling (no float atomics).
/// </summary>
internal static partial class GpuKernels
{
    /// <summary>
    /// Most threads of an explicitly grouped kernel (the shared arrays' size). Launches use 256 on GPUs and
    /// the accelerator's maximum where smaller (ILGPU's CPU accelerator: 16, as OS threads); a power of two.
    /// </summary>
    public const int MaxGroup = 256;

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
}
