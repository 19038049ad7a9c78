using QGenEngine.Quantum;

namespace QGenEngine.Bench;

public static class QuantumSuite
{
    /// <summary>
    /// The report's circuit (8 qubits, 3 layers, 48 angles, probs): forward + full gradient per batch, by the
    /// adjoint method (one batched pass) and by per-sample parameter-shift (the report's way: each sample
    /// alone, 2 runs per angle), and forward time against n.
    /// </summary>
    public static List<Record> Run(BenchArgs a)
    {
        var rows = new List<Record>();
        var c = Circuit.Template(8, 3, Entangler.Linear);
        var rnd = new Random(1);
        foreach (int b in a.Quick ? new[] { 1, 64 } : new[] { 1, 32, 64, 256 })
        {
            var x = Enumerable.Range(0, b * 8).Select(_ => (float)(rnd.NextDouble() * Math.PI)).ToArray();
            var w = Enumerable.Range(0, c.WeightCount).Select(_ => (float)(rnd.NextDouble() * 2 * Math.PI)).ToArray();
            var g = Enumerable.Range(0, b * 256).Select(_ => (float)rnd.NextDouble()).ToArray();
            double adj = Timing.Median(() => Simulator.Adjoint(c, x, b, w, Readout.Probs, g), a.Quick ? 11 : 51, 3);
            double fwd = Timing.Median(() => Simulator.Run(c, x, b, w, Readout.Probs), a.Quick ? 11 : 51, 3);
            // Per-sample parameter-shift: B × (1 + 2·(48 + 8)) single-circuit runs. Timed on a few samples, scaled to B.
            int probe = Math.Min(b, a.Quick ? 1 : 4);
            double shiftProbe = Timing.Median(() =>
            {
                for (int s = 0; s < probe; s++)
                    Gradients.Shift(c, x.AsSpan(s * 8, 8).ToArray(), 1, w, Readout.Probs, g.AsSpan(s * 256, 256).ToArray());
            }, 3, 1);
            double shift = shiftProbe * b / probe;
            rows.Add(Q("adjoint", b, 8, 3, adj).With("forward_ms", fwd));
            rows.Add(Q("shift", b, 8, 3, shift).With("vs_adjoint", shift / adj).With("timed_samples", probe));
        }
        // Noisy circuits: the batched density-matrix simulation (the report's circuit, depolarising + damping after every
        // gate), forward alone and with the parameter-shift gradient (what noisy training runs: 1 + 2 × 48 weight runs; the
        // inputs' 16 runs are skipped as a GAN's noise needs no gradient).
        var noise = NoiseModel.Parse("depolarizing=0.01,damping=0.01");
        foreach (int b in a.Quick ? new[] { 8 } : new[] { 8, 64 })
        {
            var x = Enumerable.Range(0, b * 8).Select(_ => (float)(rnd.NextDouble() * Math.PI)).ToArray();
            var w = Enumerable.Range(0, c.WeightCount).Select(_ => (float)(rnd.NextDouble() * 2 * Math.PI)).ToArray();
            var g = Enumerable.Range(0, b * 256).Select(_ => (float)rnd.NextDouble()).ToArray();
            double fwd = Timing.Median(() => DensityMatrix.Run(c, x, b, w, Readout.Probs, noise), a.Quick ? 3 : 7, 1);
            // 16 qubit-pairs' worth of amplitudes (2^16 complex doubles) per circuit, every pass read and written once.
            rows.Add(new Record("quantum", "noisy forward (density matrix)", "cpu", b, fwd).With("method", "density-matrix").With("qubits", 8).With("layers", 3)
                .With("ms_per_circuit", fwd / b));
            if (b == 8)
            {
                double sh = Timing.Median(() => Gradients.Shift(c, x, b, w, Readout.Probs, g, noise: noise, inputGrads: false), 1, 1);
                rows.Add(new Record("quantum", "noisy shift fwd+grad (density matrix)", "cpu", b, sh).With("method", "shift").With("qubits", 8).With("layers", 3)
                    .With("circuit_runs", 1 + 2 * c.WeightCount));
            }
        }
        if (a.Device is "cuda" or "ilgpu-cpu")
        {
            using var sim = a.Device == "cuda" ? QGenEngine.Quantum.Gpu.IlgpuSimulator.TryCreateCuda() : QGenEngine.Quantum.Gpu.IlgpuSimulator.CreateCpu();
            if (sim is null) Console.WriteLine("# no CUDA device: the kernel rows are missing");
            else
                foreach (int b in a.Quick ? new[] { 64 } : new[] { 1, 32, 64, 256, 4096 })
                {
                    var x = Enumerable.Range(0, b * 8).Select(_ => (float)(rnd.NextDouble() * Math.PI)).ToArray();
                    var w = Enumerable.Range(0, c.WeightCount).Select(_ => (float)(rnd.NextDouble() * 2 * Math.PI)).ToArray();
                    var g = Enumerable.Range(0, b * 256).Select(_ => (float)rnd.NextDouble()).ToArray();
                    double ms = Timing.Median(() => sim.Adjoint(c, x, b, w, Readout.Probs, g), a.Device == "cuda" ? 51 : 5, 2);
                    rows.Add(new Record("quantum", "adjoint fwd+grad (kernel)", a.Device, b, ms).With("method", "adjoint").With("qubits", 8).With("layers", 3));
                }
        }
        foreach (int n in a.Quick ? new[] { 4, 8, 12, 16 } : new[] { 4, 8, 12, 16, 20, 22, 24 })
        {
            var cn = Circuit.Template(n, 3, Entangler.Linear);
            var x = Enumerable.Range(0, n).Select(i => 0.1f * i).ToArray();
            var w = Enumerable.Range(0, cn.WeightCount).Select(i => 0.05f * i).ToArray();
            int reps = n >= 22 ? 3 : n >= 18 ? 5 : 21;
            double ms = Timing.Median(() => Simulator.Run(cn, x, 1, w, Readout.Expval), reps, 1);
            rows.Add(new Record("quantum", $"forward n={n}", "cpu", 1, ms).With("method", "forward").With("qubits", n).With("layers", 3)
                .With("amplitudes", 1L << n));
        }
        return rows;
    }

    /// <summary>
    /// The quantum layer's circuit alone (8 qubits, 3 layers, probs), the row of issue #15's table that is about the
    /// simulator: forward (with its readout) and forward + full adjoint gradient, at batch 8, 64 and 256, on every thread
    /// and on one - quick to rerun while working on the simulator.
    /// </summary>
    public static List<Record> CircuitAlone(BenchArgs a)
    {
        var rows = new List<Record>();
        var c = QGenEngine.Quantum.Circuit.Template(8, 3, Entangler.Linear);
        int all = QGenEngine.Kernels.Cpu.CpuParallel.Threads;
        foreach (int t in all > 1 ? new[] { all, 1 } : new[] { 1 })
        {
            QGenEngine.Kernels.Cpu.CpuParallel.Threads = t;
            foreach (int b in a.Quick ? new[] { 64 } : new[] { 8, 64, 256 })
            {
                var rnd = new Random(1);
                var x = Enumerable.Range(0, b * 8).Select(_ => (float)(rnd.NextDouble() * Math.PI)).ToArray();
                var w = Enumerable.Range(0, c.WeightCount).Select(_ => (float)(rnd.NextDouble() * 2 * Math.PI)).ToArray();
                var g = Enumerable.Range(0, b * 256).Select(_ => (float)rnd.NextDouble()).ToArray();
                int reps = a.Quick ? 51 : 201;
                double fwd = Timing.Median(() => Simulator.Run(c, x, b, w, Readout.Probs), reps, 5);
                double adj = Timing.Median(() => Simulator.Adjoint(c, x, b, w, Readout.Probs, g), reps, 5);
                rows.Add(new Record("circuit", "forward", "cpu", b, fwd).With("threads", t).With("us_per_circuit", fwd * 1e3 / b));
                rows.Add(new Record("circuit", "forward + adjoint gradient", "cpu", b, adj).With("threads", t).With("us_per_circuit", adj * 1e3 / b)
                    .With("gflops", Targets.CircuitFlops(c) * b / (adj / 1e3) / 1e9));
            }
        }
        QGenEngine.Kernels.Cpu.CpuParallel.Threads = all;
        return rows;
    }

    private static Record Q(string method, int b, int n, int l, double ms) =>
        new Record("quantum", $"{method} fwd+grad", "cpu", b, ms).With("method", method).With("qubits", n).With("layers", l);
}
