using System.CommandLine;
using QGenEngine.Kernels.Cpu;

namespace QGenEngine.Cli.Commands;

public static class DevicesCommand
{
    public static Command Build(TextWriter stdout)
    {
        var cmd = new Command("devices", "List the compute devices this build can use");
        cmd.SetAction(_ =>
        {
            string simd = System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "AVX-512" : System.Runtime.Intrinsics.X86.Fma.IsSupported ? "AVX2+FMA" : "portable SIMD";
            stdout.WriteLine($"cpu        fast CPU path: {Environment.ProcessorCount} cores ({CpuParallel.Threads} threads), {simd}, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1 << 20)} MiB");
            stdout.WriteLine("reference  double-precision reference loops (tests; far too slow for training)");
            stdout.WriteLine("cuda, opencl, ilgpu-cpu: not in this build yet (the ILGPU backend is issue #5)");
            return 0;
        });
        return cmd;
    }
}
