using QGenEngine.Kernels;
using QGenEngine.Kernels.Gpu;
using QGenEngine.Quantum;
using QGenEngine.Quantum.Gpu;
using QGenEngine.Tensors;
using QGenEngine.Autograd;

namespace QGenEngine.Bench;

/// <summary>
/// `bench gpu --device cuda|ilgpu-cpu [--quick]` (issue #27's kit): what the GPU path costs - the VAE and qvae train
/// steps at batch 64 and 256 with kernel launches and host reads per step, SGEMM at the VAE's encoder shape and at
/// 4096³, and the batched circuit (8 qubits, forward + full adjoint gradient) at batch 64 and 4,096. --quick: the small
/// sizes only (what the kit's ilgpu-cpu run uses here, where a launch costs ~10 ms).
/// </summary>
public static class GpuSuite
{
    public static List<Record> Run(BenchArgs a)
    {
        var rows = new List<Record>();
        var dev = Backends.Get(a.Device);
        var gpu = dev as IlgpuDevice;
        int reps = a.Quick ? 1 : 21;

        foreach (var (model, batch) in a.Quick ? new[] { ("vae", 4) } : new[] { ("vae", 64), ("vae", 256), ("qvae", 64), ("qvae", 256) })
        {
            var (_, _, step) = Suites.MakeStep(dev, model, "", batch);
            step(); step(); gpu?.Synchronize();
            long launches = gpu?.Launches ?? 0, reads = gpu?.HostReads ?? 0;
            step(); gpu?.Synchronize();
            long l1 = (gpu?.Launches ?? 0) - launches, r1 = (gpu?.HostReads ?? 0) - reads;
            double ms = Timing.Median(dev, step, reps, 1);
            rows.Add(new Record("gpu", $"{model} train step", dev.Name, batch, ms).With("samples_per_s", batch / (ms / 1e3))
                .With("launches_per_step", l1).With("host_reads_per_step", r1));
        }

        foreach (var (m, n, k) in a.Quick ? new[] { (4, 256, 784) } : new[] { (64, 256, 6272), (256, 256, 6272), (4096, 4096, 4096) })
        {
            using var scope = TensorScope.Begin();
            var x = Tensor.Uniform(dev, 1, -1, 1, m, k); var w = Tensor.Uniform(dev, 2, -1, 1, k, n);
            double ms = Timing.Median(dev, () => { using var s = TensorScope.Begin(); x.MatMul(w); }, reps, 1);
            rows.Add(new Record("gpu", $"sgemm {m}x{k} . {k}x{n}", dev.Name, m, ms).With("gflops", 2.0 * m * n * k / (ms / 1e3) / 1e9));
        }

        // The circuit kernels on the device named (on `cpu` the host simulator is what runs: `bench circuit` measures it).
        using var sim = a.Device == "cuda" ? IlgpuSimulator.TryCreateCuda() : a.Device == "ilgpu-cpu" ? IlgpuSimulator.CreateCpu() : null;
        if (sim is not null)
        {
            var c = Circuit.Template(8, 3, Entangler.Linear);
            var rnd = new Random(1);
            foreach (int b in a.Quick ? new[] { 8 } : new[] { 64, 4096 })
            {
                var x = Enumerable.Range(0, b * 8).Select(_ => (float)(rnd.NextDouble() * Math.PI)).ToArray();
                var w = Enumerable.Range(0, c.WeightCount).Select(_ => (float)(rnd.NextDouble() * 2 * Math.PI)).ToArray();
                var g = Enumerable.Range(0, b * 256).Select(_ => (float)rnd.NextDouble()).ToArray();
                double ms = Timing.Median(() => sim.Adjoint(c, x, b, w, Readout.Probs, g), reps, 1);
                rows.Add(new Record("gpu", "circuit fwd+grad, 8 qubits 3 layers (host arrays in and out)", a.Device, b, ms).With("circuits_per_s", b / (ms / 1e3)));
            }
        }
        return rows;
    }
}
