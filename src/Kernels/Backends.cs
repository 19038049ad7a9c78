using QGenEngine.Kernels.Cpu;
using QGenEngine.Kernels.Gpu;
using QGenEngine.Kernels.Reference;
using QGenEngine.Tensors;

namespace QGenEngine.Kernels;

/// <summary>The devices this build knows, by name: models and tests pick one by value, never by type.</summary>
public static class Backends
{
    public static IDevice Cpu => CpuDevice.Instance;
    public static IDevice Reference => ReferenceDevice.Instance;

    /// <summary>Every name <see cref="Get"/> takes, besides auto.</summary>
    public static IReadOnlyList<string> Names { get; } = ["cpu", "cuda", "opencl", "ilgpu-cpu", "reference"];

    /// <summary>The environment variable that picks the device where a command is given no --device.</summary>
    public const string EnvironmentVariable = "QGEN_DEVICE";

    /// <summary>
    /// A device by name: cpu (the fast CPU path), cuda, opencl, ilgpu-cpu (ILGPU's CPU accelerator running
    /// the GPU kernels), reference (double-precision loops), or auto: CUDA, else OpenCL, else the CPU.
    /// </summary>
    public static IDevice Get(string name) => name.ToLowerInvariant() switch
    {
        "cpu" => Cpu,
        "reference" => Reference,
        "auto" => Auto(),
        "cuda" or "opencl" or "ilgpu-cpu" => GpuBackends.Get(name.ToLowerInvariant()),
        _ => throw new ArgumentException($"unknown device '{name}'; expected one of: auto, {string.Join(", ", Names)}"),
    };

    /// <summary>The device named by --device if given, else by QGEN_DEVICE, else auto.</summary>
    public static IDevice Resolve(string? option) =>
        Get(string.IsNullOrWhiteSpace(option) ? Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env ? env : "auto" : option);

    private static IDevice Auto()
    {
        foreach (var kind in new[] { "cuda", "opencl" })
            if (GpuBackends.Unavailable(kind) is null) return GpuBackends.Get(kind);
        return Cpu;
    }
}
