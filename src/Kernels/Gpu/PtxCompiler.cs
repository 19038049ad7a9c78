using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace QGenEngine.Kernels.Gpu;

/// <summary>Compiles the backend's kernels for a GPU that need not be present (tests; `devices --check-ptx`).</summary>
public static class PtxCompiler
{
    /// <summary>Every kernel of the backend, by name.</summary>
    public static IReadOnlyList<string> KernelNames { get; } =
        [.. Kernels().Select(m => m.Name)];

    private static IEnumerable<System.Reflection.MethodInfo> Kernels() =>
        typeof(GpuKernels).GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(m => m.GetCustomAttributes(typeof(KernelAttribute), false).Length > 0);

    /// <summary>PTX for sm_90 (ISA 8.0) of one kernel, compiled with no GPU present.</summary>
    public static string Compile(string kernel)
    {
        var method = Kernels().FirstOrDefault(m => m.Name == kernel) ?? throw new ArgumentException($"no kernel named {kernel}");
        return Compile(method, ((KernelAttribute)method.GetCustomAttributes(typeof(KernelAttribute), false)[0]).Grouped);
    }

    /// <summary>PTX for sm_90 (ISA 8.0) of any kernel method (the quantum simulator's too).</summary>
    public static string Compile(System.Reflection.MethodInfo method, bool grouped)
    {
        using var ctx = Context.Create(b => b.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        var backend = new ILGPU.Backends.PTX.PTXBackend(ctx, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
        var entry = grouped
            ? ILGPU.Backends.EntryPoints.EntryPointDescription.FromExplicitlyGroupedKernel(method)
            : ILGPU.Backends.EntryPoints.EntryPointDescription.FromImplicitlyGroupedKernel(method);
        var compiled = backend.Compile(entry, new KernelSpecialization());
        return ((ILGPU.Backends.PTX.PTXCompiledKernel)compiled).PTXAssembly;
    }
}
