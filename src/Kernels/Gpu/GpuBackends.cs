using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace QGenEngine.Kernels.Gpu;

/// <summary>One accelerator that ILGPU can see, and whether this build can use it.</summary>
public sealed record AcceleratorReport(string Backend, string Name, long MemoryBytes, int ComputeUnits, string? PassedOver)
{
    public bool Usable => PassedOver is null;
}

/// <summary>Finds accelerators and opens the ILGPU devices (each at most once per process).</summary>
public static class GpuBackends
{
    public static readonly string[] Kinds = ["cuda", "opencl", "ilgpu-cpu"];
    private static readonly Dictionary<string, IlgpuDevice> Open = [];
    private static readonly Lock Gate = new();
    private static IReadOnlyList<AcceleratorReport>? _probe;

    /// <summary>Every CUDA and OpenCL device, and ILGPU's CPU accelerator, with why any was passed over.</summary>
    public static IReadOnlyList<AcceleratorReport> Probe()
    {
        lock (Gate)
        {
            if (_probe is not null) return _probe;
            var list = new List<AcceleratorReport>();
            try
            {
                using var ctx = Context.Create(b => b.Cuda());
                foreach (var d in ctx.GetCudaDevices())
                    list.Add(new("cuda", d.Name, d.MemorySize, d.NumMultiprocessors,
                        d.Architecture is null ? "an unknown CUDA architecture (driver too new for ILGPU 1.5?)" : null));
            }
            catch (Exception e) { list.Add(new("cuda", "-", 0, 0, $"CUDA could not be probed: {e.Message}")); }
            try
            {
                // Every OpenCL device, also those ILGPU cannot use, so that the listing can say why.
                using var ctx = Context.Create(b => b.OpenCL(_ => true));
                foreach (var d in ctx.GetCLDevices())
                    list.Add(new("opencl", $"{d.Name} ({d.PlatformName})", d.MemorySize, d.NumMultiprocessors,
                        d.Capabilities.GenericAddressSpace ? null : "no generic address space (ILGPU's OpenCL kernels need OpenCL 2.0 generic pointers)"));
            }
            catch (Exception e) { list.Add(new("opencl", "-", 0, 0, $"OpenCL could not be probed: {e.Message}")); }
            list.Add(new("ilgpu-cpu", "ILGPU CPU accelerator (runs the GPU kernels on the host; slow, for tests)",
                GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, Environment.ProcessorCount, null));
            return _probe = list;
        }
    }

    /// <summary>Why a backend kind cannot be opened here, or null when it can.</summary>
    public static string? Unavailable(string kind)
    {
        var found = Probe().Where(r => r.Backend == kind && r.Name != "-").ToList();
        if (found.Any(r => r.Usable)) return null;
        if (found.Count > 0) return $"no usable {kind} device: " + string.Join("; ", found.Select(r => $"{r.Name}: {r.PassedOver}"));
        var failed = Probe().FirstOrDefault(r => r.Backend == kind);
        return failed?.PassedOver ?? $"no {kind} device found";
    }

    /// <summary>The device of a kind (cuda, opencl, ilgpu-cpu), opened once; throws with the reason when there is none.</summary>
    public static IlgpuDevice Get(string kind)
    {
        lock (Gate)
        {
            if (Open.TryGetValue(kind, out var dev)) return dev;
            if (!Kinds.Contains(kind)) throw new ArgumentException($"unknown ILGPU backend '{kind}'; expected one of: {string.Join(", ", Kinds)}");
        }
        var why = Unavailable(kind);
        if (why is not null) throw new ArgumentException($"device '{kind}' is not available: {why}");
        lock (Gate)
        {
            if (Open.TryGetValue(kind, out var dev)) return dev;
            dev = kind switch
            {
                "cuda" => Create(kind, Context.Create(b => b.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2)), c => FirstUsable(c.GetCudaDevices(), d => d.Architecture is not null).CreateAccelerator(c)),
                "opencl" => Create(kind, Context.Create(b => b.OpenCL().EnableAlgorithms().Optimize(OptimizationLevel.O2)), c => FirstUsable(c.GetCLDevices(), d => d.Capabilities.GenericAddressSpace).CreateAccelerator(c)),
                // The default CPU device: groups of 16 threads, each an OS thread (more make every barrier crawl).
                _ => Create(kind, Context.Create(b => b.CPU().EnableAlgorithms().Optimize(OptimizationLevel.O2)), c => c.CreateCPUAccelerator(0, CPUAcceleratorMode.Parallel)),
            };
            Open[kind] = dev;
            return dev;
        }
    }

    private static T FirstUsable<T>(Context.DeviceCollection<T> devices, Func<T, bool> usable) where T : Device
    {
        foreach (var d in devices) if (usable(d)) return d;
        throw new InvalidOperationException("no usable device");
    }

    private static IlgpuDevice Create(string kind, Context ctx, Func<Context, Accelerator> open)
    {
        try { return new IlgpuDevice(kind, ctx, open(ctx)); }
        catch { ctx.Dispose(); throw; }
    }
}
