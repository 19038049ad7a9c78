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
                    stdout.WriteLine($"{kind,-10} {"none found",-13} {(kind == "cuda" ? "no NVIDIA driver or GPU" : OpenClWhy(CanLoad, "/etc/OpenCL/vendors"))}");
            stdout.WriteLine($"{"reference",-10} {"usable",-13} double-precision reference loops (tests; far too slow for training)");
            var auto = Backends.Get("auto");
            stdout.WriteLine($"auto picks: {DeviceOption.Describe(auto)}   (--device NAME or {Backends.EnvironmentVariable}=NAME to choose)");
            return 0;
        });
        return cmd;
    }

    private static bool CanLoad(string library)
    {
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad(library, out var h)) return false;
        System.Runtime.InteropServices.NativeLibrary.Free(h);
        return true;
    }

    /// <summary>
    /// Why no OpenCL device was found, naming what is missing: ILGPU loads the unversioned libOpenCL.so, which Debian puts in
    /// ocl-icd-opencl-dev, not in the loader's package (libOpenCL.so.1) - a machine with the loader alone has "OpenCL" and
    /// still none for us; then the loader needs a platform registered in /etc/OpenCL/vendors.
    /// </summary>
    public static string OpenClWhy(Func<string, bool> canLoad, string vendorsDir)
    {
        bool plain = canLoad("libOpenCL.so"), versioned = canLoad("libOpenCL.so.1");
        if (!plain && versioned)
            return "libOpenCL.so.1 (the ICD loader) is installed, but not the unversioned libOpenCL.so that ILGPU loads: apt-get install ocl-icd-opencl-dev (or link libOpenCL.so to it)";
        if (!plain) return "no OpenCL loader (libOpenCL.so was not found): apt-get install ocl-icd-libopencl1 ocl-icd-opencl-dev, and a platform such as pocl-opencl-icd or a GPU vendor's";
        bool icd = Directory.Exists(vendorsDir) && Directory.EnumerateFiles(vendorsDir, "*.icd").Any();
        if (!icd) return $"the OpenCL loader is installed but no platform (ICD) is registered in {vendorsDir}: install a driver's ICD (e.g. pocl-opencl-icd, or a GPU vendor's)";
        return $"the OpenCL loader found no device on the platforms registered in {vendorsDir}";
    }

    private static string Mib(long bytes) => $"{bytes / (1 << 20):N0} MiB";
}
