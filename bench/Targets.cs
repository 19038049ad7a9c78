using System.Runtime.Intrinsics.X86;
using QGenEngine.Kernels;
using QGenEngine.Kernels.Cpu;
using QGenEngine.Models;
using QGenEngine.Quantum;
using QGenEngine.Tensors;

namespace QGenEngine.Bench;

/// <summary>
/// Issue #15's table in one run: the ceiling first, then each row with its FLOPs, the fraction of the ceiling and the
/// target, so that rows measured minutes apart on a shared machine are still read against the same peak.
/// </summary>
public static class Targets
{
    public static List<Record> Run(BenchArgs a)
    {
        var dev = Backends.Get(a.Device);
        var rows = Suites.Ceiling(a);
        double peak = Fma.IsSupported ? Suites.PeakGflops() : double.NaN;
        int threads = CpuParallel.Threads;
        Record Row(string name, int batch, double ms, double flops, string target, bool met) =>
            new Record("targets", name, dev.Name, batch, ms).With("gflops", flops / (ms / 1e3) / 1e9)
                .With("of_peak", flops / (ms / 1e3) / 1e9 / peak).With("target", target).With("met", met ? "yes" : "no");

        // VAE train step, batch 64, all threads and one (the peak for one thread is the measured peak / threads).
        foreach (int t in threads > 1 ? new[] { threads, 1 } : new[] { 1 })
        {
            CpuParallel.Threads = t;
            var (_, _, step) = Suites.MakeStep(dev, "vae", "", 64);
            double ms = Timing.Median(dev, step, a.Quick ? 7 : 21, 3);
            double flops = Suites.VaeFlopsPerSample() * 64, of = flops / (ms / 1e3) / 1e9 / (peak * t / threads);
            rows.Add(Row($"vae train step, {t} thread{(t > 1 ? "s" : "")}", 64, ms, flops, ">= 0.5 of peak", of >= 0.5)
                .With("of_peak", of).With("samples_per_s", 64 / (ms / 1e3)).With("threads", t));
        }
        CpuParallel.Threads = threads;

        // The quantum layer's circuit: forward + the full gradient (weights and inputs), adjoint, batch 64.
        {
            var c = Circuit.Template(8, 3, Entangler.Linear);
            var rnd = new Random(1);
            var x = Enumerable.Range(0, 64 * 8).Select(_ => (float)(rnd.NextDouble() * Math.PI)).ToArray();
            var w = Enumerable.Range(0, c.WeightCount).Select(_ => (float)(rnd.NextDouble() * 2 * Math.PI)).ToArray();
            var g = Enumerable.Range(0, 64 * 256).Select(_ => (float)rnd.NextDouble()).ToArray();
            double ms = Timing.Median(() => Simulator.Adjoint(c, x, 64, w, Readout.Probs, g), a.Quick ? 21 : 101, 5);
            double flops = CircuitFlops(c) * 64;
            rows.Add(Row("quantum layer fwd+grad (8 qubits, 3 layers)", 64, ms, flops, "<= 0.4 ms", ms <= 0.4).With("mflop_per_sample", flops / 64 / 1e6));
        }

        // Generation: the VAE's decoder as `eval` samples.
        {
            var entry = ModelCatalog.Get("vae");
            var model = (IGenerative)entry.Create(dev, entry.Defaults with { Seed = 42 });
            const int n = 1024;
            double ms = Timing.Median(dev, () => QGenEngine.Models.Metrics.Evaluation.Generate(model, dev, n, 3), a.Quick ? 3 : 5, 1);
            double ips = n / (ms / 1e3);
            rows.Add(Row("generation (vae decoder, eval's sampling)", n, ms, Suites.VaeDecoderFlops() * n, ">= 3000 images/s", ips >= 3000).With("images_per_s", ips));
        }

        // SGEMM 256³ and the VAE's encoder fc (64 × 256 × 6272, B transposed as Linear stores it).
        foreach (var (name, ta, tb, m, n, k) in new[] { ("sgemm 256^3", false, false, 256, 256, 256), ("sgemm vae fc 64x256x6272", false, true, 64, 256, 6272) })
        {
            var A = Tensor.Uniform(dev, 1, -1, 1, m * k); var B = Tensor.Uniform(dev, 2, -1, 1, k * n); var C = Tensor.Zeros(dev, m * n);
            double flops = 2.0 * m * n * k;
            double ms = Timing.Median(dev, () => dev.Gemm(ta, tb, 1, m, n, k, 1f, A, 0, B, 0, 0f, C, 0), a.Quick ? 51 : 201, 5);
            double of = flops / (ms / 1e3) / 1e9 / peak;
            rows.Add(Row(name, 0, ms, flops, ">= 0.5 of peak", of >= 0.5).With("m", m).With("n", n).With("k", k));
        }
        return rows;
    }

    /// <summary>
    /// FLOPs of one sample's forward + adjoint gradient as the batched simulator runs it: forward, each fused one-qubit
    /// block a 2 × 2 complex matrix on 2^(n−1) pairs (28 FLOP a pair; the simulator's own schedule counts the blocks);
    /// readout |ψ|² (3 an amplitude) and λ = Gψ (2); backward, each one-qubit gate un-applied to ψ and λ with its own
    /// arithmetic (a rotation 2 × 12 a pair, H 2 × 8) and, for a rotation, its expectation (8 a pair). Two-qubit gates are
    /// moves (one gather a chain), counted as none.
    /// </summary>
    public static double CircuitFlops(Circuit c)
    {
        int blocks = c.Scheduled.Count(op => op.Kind == FusedKind.Block);
        int rotations = c.Gates.Count(g => !g.IsTwoQubit && g.Kind != GateKind.H), hadamards = c.Gates.Count(g => g.Kind == GateKind.H);
        int graded = c.Gates.Count(g => g.Source != AngleSource.None);
        double pairs = c.Dim / 2.0;
        return pairs * (28.0 * blocks + 24.0 * rotations + 16.0 * hadamards + 8.0 * graded) + 5.0 * c.Dim;
    }
}
