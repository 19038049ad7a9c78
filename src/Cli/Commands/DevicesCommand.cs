using System.CommandLine;
using QGenEngine.Kernels;
using QGenEngine.Kernels.Cpu;
using QGenEngine.Kernels.Gpu;

namespace QGenEngine.Cli.Commands;

/// <summary>`devices`: every backend this build has, what it found, and why a device was passed over.</summary>
public static class DevicesCommand
{
    public static Command Build(TextWriter stdout)
    {
        var cmd = new Command("devices", "List the compute devices this build can use (and why any was passed over)");
        cmd.SetAction(_ =>
        {
            string simd = System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "AVX-512" : System.Runtime.Intrinsics.X86.Fma.IsSupported ? "AVX2+FMA" : "portable SIMD";
            stdout.WriteLine($"{"device",-10} {"status",-13} details");
            stdout.WriteLine($"{"cpu",-10} {"usable",-13} fast CPU path: {Environment.ProcessorCount} cores ({CpuParallel.Threads} threads), {simd}, {Mib(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)}");
            foreach (var r in GpuBackends.Probe())
            {
                string what = r.Name == "-" ? "" : $"{r.Name}, {Mib(r.MemoryBytes)}, {r.ComputeUnits} {(r.Backend == "ilgpu-cpu" ? "cores" : "compute units")}";
                string status = r.Usable ? "usable" : "passed over";
                stdout.WriteLine($"{r.Backend,-10} {status,-13} {what}{(r.Usable ? "" : (what.Length > 0 ? ": " : "") + r.PassedOver)}");
            }
            foreach (var kind in new[] { "cuda", "opencl" })
                if (!GpuBackends.Probe().Any(r => r.Backend == kind))
                    stdout.WriteLine($"{kind,-10} {"none found",-13} {(kind == "cuda" ? "no NVIDIA driver or GPU" : "no OpenCL platform (ICD) installed")}");
            stdout.WriteLine($"{"reference",-10} {"usable",-13} double-precision reference loops (tests; far too slow for training)");
            var auto = Backends.Get("auto");
            stdout.WriteLine($"auto picks: {DeviceOption.Describe(auto)}   (--device NAME or {Backends.EnvironmentVariable}=NAME to choose)");
            return 0;
        });
        return cmd;
    }

    private static string Mib(long bytes) => $"{bytes / (1 << 20):N0} MiB";
}
