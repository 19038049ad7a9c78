using System.CommandLine;
using QGenEngine.Kernels;
using QGenEngine.Tensors;

namespace QGenEngine.Cli;

/// <summary>The `--device` option every command takes, and how its value (or QGEN_DEVICE) becomes a device.</summary>
public static class DeviceOption
{
    public static Option<string?> Create() => new("--device")
    {
        Description = $"auto | cpu | cuda | opencl | ilgpu-cpu | reference (default: ${Backends.EnvironmentVariable}, else auto: CUDA, then OpenCL, then cpu)",
    };

    /// <summary>The name the user asked for: the option, else the environment, else auto.</summary>
    public static string Name(string? option) =>
        !string.IsNullOrWhiteSpace(option) ? option : Environment.GetEnvironmentVariable(Backends.EnvironmentVariable) is { Length: > 0 } env ? env : "auto";

    public static IDevice Resolve(string? option) => Backends.Get(Name(option));

    /// <summary>The device's name for printing, with the accelerator's model where there is one.</summary>
    public static string Describe(IDevice dev) => dev is QGenEngine.Kernels.Gpu.IlgpuDevice g ? g.ToString() : dev.Name;
}
