using QGenEngine.Kernels.Cpu;
using QGenEngine.Kernels.Reference;
using QGenEngine.Tensors;

namespace QGenEngine.Kernels;

/// <summary>The devices this build knows, by name: models and tests pick one by value, never by type.</summary>
public static class Backends
{
    public static IDevice Cpu => CpuDevice.Instance;
    public static IDevice Reference => ReferenceDevice.Instance;

    public static IReadOnlyList<string> Names { get; } = ["cpu", "reference"];

    public static IDevice Get(string name) => name.ToLowerInvariant() switch
    {
        "cpu" or "auto" => Cpu,
        "reference" => Reference,
        _ => throw new ArgumentException($"unknown device '{name}'; expected one of: auto, {string.Join(", ", Names)}"),
    };
}
