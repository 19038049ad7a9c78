using QGenEngine.Quantum;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Quantum;

[TestFixture]
public class SimulatorTests
{
    private static float[] Rand(int seed, int n, double scale = Math.PI)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((r.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    [Test]
    public void Gate_matrices_are_those_of_quantum_md_and_unitary()
    {
        double a = 0.7, c = Math.Cos(0.35), s = Math.Sin(0.35);
        Assert.That(Gates2x2.Of(GateKind.RY, a), Is.EqualTo(new Gates2x2(c, 0, -s, 0, s, 0, c, 0)));
        Assert.That(Gates2x2.Of(GateKind.RX, a), Is.EqualTo(new Gates2x2(c, 0, 0, -s, 0, -s, c, 0)));
        Assert.That(Gates2x2.Of(GateKind.RZ, a), Is.EqualTo(new Gates2x2(c, -s, 0, 0, 0, 0, c, s)));
        foreach (var k in new[] { GateKind.H, GateKind.RX, GateKind.RY, GateKind.RZ })
        {
            var u = Gates2x2.Of(k, 1.234);
            var id = u.Adjoint() * u;
            Assert.That(new[] { id.R00, id.I00, id.R01, id.I01, id.R10, id.I10, id.R11, id.I11 },
                Is.EqualTo(new double[] { 1, 0, 0, 0, 0, 0, 1, 0 }).Within(1e-12), $"{k}†{k} = I");
        }
    }

    [Test]
    public void Bell_and_ghz_states()
    {
        var bell = new Circuit(2, 0, Entangler.Linear, Encoding.Angle, [new(GateKind.H, 0), new(GateKind.CNOT, 0, 1)], 0);
        Close.Assert(Simulator.Run(bell, new float[2], 1, [], Readout.Probs), new[] { 0.5, 0, 0, 0.5 }, 1e-6, 0, "Bell");
        int n = 5;
        var gates = new List<Gate> { new(GateKind.H, 0) };
        for (int q = 0; q + 1 < n; q++) gates.Add(new(GateKind.CNOT, q, q + 1));
        var ghz = Simulator.Run(new Circuit(n, 0, Entangler.Linear, Encoding.Angle, gates, 0), new float[n], 1, [], Readout.Probs);
        var want = new double[1 << n]; want[0] = want[^1] = 0.5;
        Close.Assert(ghz, want, 1e-6, 0, "GHZ");
        Close.Assert(Simulator.Run(new Circuit(n, 0, Entangler.Linear, Encoding.Angle, gates, 0), new float[n], 1, [], Readout.Expval), new double[n], 1e-6, 0, "⟨Z⟩ = 0 on GHZ");
    }

    public static IEnumerable<TestCaseData> RandomCircuits()
    {
        foreach (int n in new[] { 1, 2, 3, 4, 6 })
            foreach (var e in new[] { Entangler.Linear, Entangler.Circular, Entangler.All })
                foreach (var r in new[] { "probs", "expval" })
                    foreach (var enc in n <= 4 ? new[] { Encoding.Angle, Encoding.Amplitude } : [Encoding.Angle])
                        yield return new TestCaseData(n, e, r, enc).SetName($"Dense_reference_n{n}_{e}_{r}_{enc}");
    }

    [TestCaseSource(nameof(RandomCircuits))]
    public void Random_circuits_match_the_dense_matrix_reference(int n, Entangler e, string readout, Encoding enc)
    {
        var c = Circuit.Template(n, 3, e, enc);
        var r = Readout.Parse(readout);
        int batch = 11;   // more than one SIMD group, with padding lanes
        var inputs = Rand(n * 7 + (int)e, batch * c.InputCount);
        var weights = Rand(n * 13 + 1, c.WeightCount);
        var got = Simulator.Run(c, inputs, batch, weights, r);
        int w = r.Width(n);
        for (int b = 0; b < batch; b++)
        {
            var want = DenseReference.Readout(c, inputs.AsSpan(b * c.InputCount, c.InputCount).ToArray(), weights, r);
            Close.Assert(got.AsSpan(b * w, w), want, 2e-6, 1e-5, $"sample {b}");
        }
        var dbl = Simulator.Run<double>(c, inputs, batch, weights, r);
        Close.Assert(dbl, Enumerable.Range(0, batch).SelectMany(b => DenseReference.Readout(c, inputs.AsSpan(b * c.InputCount, c.InputCount).ToArray(), weights, r)).ToArray(),
            1e-7, 1e-7, "double-precision simulator (float output)");
        if (r.Kind == ReadoutKind.Probs)
            for (int b = 0; b < batch; b++) Assert.That(got.AsSpan(b * w, w).ToArray().Sum(v => (double)v), Is.EqualTo(1).Within(1e-5), "probabilities sum to 1");
    }

    public static IEnumerable<TestCaseData> GradientCases()
    {
        foreach (var e in new[] { Entangler.Linear, Entangler.Circular, Entangler.All })
            foreach (var r in new[] { "probs", "expval" })
                yield return new TestCaseData(4, 2, e, r, Encoding.Angle).SetName($"Gradients_agree_n4_L2_{e}_{r}");
        yield return new TestCaseData(3, 2, Entangler.Linear, "probs", Encoding.Amplitude).SetName("Gradients_agree_n3_amplitude_probs");
        yield return new TestCaseData(8, 3, Entangler.Linear, "probs", Encoding.Angle).SetName("Gradients_agree_report_circuit_n8_L3");
    }

    [TestCaseSource(nameof(GradientCases))]
    public void Adjoint_shift_and_finite_differences_agree(int n, int layers, Entangler e, string readout, Encoding enc)
    {
        var c = Circuit.Template(n, layers, e, enc);
        var r = Readout.Parse(readout);
        int batch = 3;
        var inputs = Rand(5, batch * c.InputCount); var weights = Rand(6, c.WeightCount);
        var cot = Rand(7, batch * r.Width(n), 1);
        var (ya, wa, ia) = Simulator.Adjoint(c, inputs, batch, weights, r, cot);
        var (ys, ws, iis) = Gradients.Shift(c, inputs, batch, weights, r, cot);
        var (_, wf, iff) = Gradients.FiniteDifferences(c, inputs, batch, weights, r, cot);
        Close.Assert(ya, ys, 1e-6, 1e-5, "readouts");
        Close.Assert(wa, ws, 2e-5, 1e-4, "weight gradient: adjoint vs parameter-shift");
        Close.Assert(wa, wf, 5e-4, 2e-3, "weight gradient: adjoint vs finite differences");
        Close.Assert(ia, iis, 2e-5, 1e-4, "input gradient: adjoint vs parameter-shift");
        Close.Assert(ia, iff, 5e-4, 2e-3, "input gradient: adjoint vs finite differences");
        Assert.That(wa.Any(v => Math.Abs(v) > 1e-3), "a non-trivial gradient");
    }

    [Test]
    public void Runs_of_cnot_and_cz_composed_into_permutations_match_the_dense_reference_and_their_gradients()
    {
        // Batched circuits run each run of two-qubit gates as one signed permutation (Fusion.Schedule), forward and
        // inverted in the adjoint sweep; CZ brings the signs, rotations on inputs and weights sit between the runs.
        var gates = new List<Gate>();
        for (int q = 0; q < 3; q++) { gates.Add(new Gate(GateKind.H, q)); gates.Add(new Gate(GateKind.RY, q, -1, AngleSource.Input, q)); }
        gates.AddRange([new Gate(GateKind.CZ, 0, 1), new Gate(GateKind.CNOT, 1, 2), new Gate(GateKind.CZ, 2, 0), new Gate(GateKind.CNOT, 2, 1),
                        new Gate(GateKind.RX, 1, -1, AngleSource.Weight, 0), new Gate(GateKind.CNOT, 0, 2), new Gate(GateKind.CZ, 1, 2),
                        new Gate(GateKind.RZ, 0, -1, AngleSource.Weight, 1), new Gate(GateKind.RY, 2, -1, AngleSource.Weight, 2), new Gate(GateKind.CNOT, 2, 0),
                        new Gate(GateKind.RY, 1, -1, AngleSource.Weight, 3), new Gate(GateKind.RX, 0, -1, AngleSource.Input, 1)]);
        var c = new Circuit(3, 1, Entangler.Linear, Encoding.Angle, gates, 4);
        var program = Fusion.Schedule(c.Gates, 3);
        // CZ(0,1) CNOT(1,2) CZ(2,0) CNOT(2,1) and CNOT(0,2), which touches no wire of RX(1) in between, are one run.
        Assert.That(program.Count(o => o.Perm is not null), Is.EqualTo(1), "one permutation");
        Assert.That(program.Count(o => o.Perm is null && o.Wire2 >= 0), Is.EqualTo(2), "CZ(1,2) and CNOT(2,0) alone between blocks");
        Assert.That(program.Any(o => o.Perm?.Sign is not null), "with signs from CZ");
        int batch = 11;
        var inputs = Rand(21, batch * 3); var weights = Rand(22, 4); var cot = Rand(23, batch * 8, 1);
        var got = Simulator.Run(c, inputs, batch, weights, Readout.Probs);
        for (int b = 0; b < batch; b++)
            Close.Assert(got.AsSpan(b * 8, 8), DenseReference.Readout(c, inputs.AsSpan(b * 3, 3).ToArray(), weights, Readout.Probs), 2e-6, 1e-5, $"sample {b}");
        var (_, wa, ia) = Simulator.Adjoint(c, inputs, batch, weights, Readout.Probs, cot);
        var (_, wf, iff) = Gradients.FiniteDifferences(c, inputs, batch, weights, Readout.Probs, cot);
        Close.Assert(wa, wf, 5e-4, 2e-3, "weight gradient: adjoint vs finite differences");
        Close.Assert(ia, iff, 5e-4, 2e-3, "input gradient: adjoint vs finite differences");
        Assert.That(wa.Any(v => Math.Abs(v) > 1e-3), "a non-trivial gradient");
    }

    [Test]
    public void The_report_circuit_is_scheduled_as_a_block_per_wire_and_layer_and_a_permutation_per_chain()
    {
        var program = Fusion.Schedule(Circuit.Template(8, 3, Entangler.Linear).Gates, 8);
        Assert.That(program.Count(o => o.Perm is not null), Is.EqualTo(3));
        Assert.That(program.Count(o => o.Perm is null && o.Wire2 < 0), Is.EqualTo(24));
        Assert.That(program.Count, Is.EqualTo(27), "nothing else: every CNOT is inside a permutation");
    }

    [Test]
    public void The_last_layers_rz_angles_have_zero_gradient_under_probs()
    {
        var c = Circuit.Template(6, 3, Entangler.Circular);
        var inputs = Rand(1, 4 * 6); var weights = Rand(2, c.WeightCount); var cot = Rand(3, 4 * 64, 1);
        var (_, wg, _) = Simulator.Adjoint(c, inputs, 4, weights, Readout.Probs, cot);
        for (int q = 0; q < 6; q++)
        {
            Assert.That(wg[(2 * 6 + q) * 2 + 1], Is.EqualTo(0).Within(1e-6), $"RZ of the last layer on qubit {q}");
            Assert.That(Math.Abs(wg[(2 * 6 + q) * 2]), Is.GreaterThan(1e-4), $"RY of the last layer on qubit {q} does matter");
        }
    }

    [Test]
    public void Results_do_not_depend_on_the_batch_split()
    {
        var c = Circuit.Template(5, 2, Entangler.All);
        var inputs = Rand(9, 37 * 5); var weights = Rand(10, c.WeightCount);
        var all = Simulator.Run(c, inputs, 37, weights, Readout.Probs);
        for (int b = 0; b < 37; b += 9)
            Close.Assert(Simulator.Run(c, inputs.AsSpan(b * 5, 5).ToArray(), 1, weights, Readout.Probs), all.AsSpan(b * 32, 32).ToArray(), 1e-6, 1e-5, $"sample {b} alone");
    }

    [Test]
    public void Shots_converge_to_the_probabilities_and_are_seeded()
    {
        var c = Circuit.Template(3, 2);
        var inputs = Rand(11, 3); var weights = Rand(12, c.WeightCount);
        var p = Simulator.Run(c, inputs, 1, weights, Readout.Probs);
        const int shots = 200_000;
        var est = Simulator.Run(c, inputs, 1, weights, new Readout(ReadoutKind.Shots, shots), seed: 5);
        for (int i = 0; i < 8; i++)
            Assert.That(est[i], Is.EqualTo(p[i]).Within(5 * Math.Sqrt(p[i] * (1 - p[i]) / shots) + 1e-6), $"basis state {i}: within 5 standard errors");
        Assert.That(est.Sum(), Is.EqualTo(1).Within(1e-4));
        Assert.That(Simulator.Run(c, inputs, 1, weights, new Readout(ReadoutKind.Shots, shots), seed: 5), Is.EqualTo(est), "same seed, same counts");
        Assert.That(Simulator.Run(c, inputs, 1, weights, new Readout(ReadoutKind.Shots, shots), seed: 6), Is.Not.EqualTo(est), "another seed, other counts");
    }

    [Test]
    public void Bad_inputs_are_clear_errors()
    {
        var c = Circuit.Template(3, 2);
        Assert.That(Assert.Throws<ArgumentException>(() => Simulator.Run(c, new float[5], 2, new float[12], Readout.Probs))!.Message, Does.Contain("inputs have 5 values"));
        Assert.That(Assert.Throws<ArgumentException>(() => Simulator.Run(c, new float[3], 1, new float[11], Readout.Probs))!.Message, Does.Contain("weights have 11 values"));
        Assert.That(Assert.Throws<ArgumentException>(() => Readout.Parse("shots:0"))!.Message, Does.Contain("shots:N"));
        Assert.That(Assert.Throws<ArgumentException>(() => Circuit.ParseEntangler("ring"))!.Message, Does.Contain("'ring'"));
        var amp = Circuit.Template(2, 1, encoding: Encoding.Amplitude);
        Assert.That(Assert.Throws<ArgumentException>(() => Simulator.Run(amp, new float[4], 1, new float[4], Readout.Probs))!.Message, Does.Contain("norm"));
    }
}

[TestFixture]
public class QuantumLayerTests
{
    [TestCase("cpu")]
    [TestCase("reference")]
    public void The_layer_backpropagates_like_finite_differences_through_a_network(string device)
    {
        var dev = QGenEngine.Kernels.Backends.Get(device);
        var c = Circuit.Template(4, 2, Entangler.Circular);
        var rng = new QGenEngine.Tensors.Generator(3);
        var layer = new QuantumLayer(dev, rng, c, Readout.Probs);
        var h = QGenEngine.Tensors.Tensor.FromArray(dev, Data.Make(1, 3 * 5), 3, 5);
        var lin = new QGenEngine.Autograd.Nn.Linear(dev, rng, 5, 4);
        double Loss()
        {
            using var _ = QGenEngine.Autograd.Graph.NoGrad();
            // the qvae's angle map: π·tanh(Linear(h)), then probabilities weighted by fixed numbers
            var p = layer.Forward(QGenEngine.Autograd.Ops.Mul(QGenEngine.Autograd.Ops.Tanh(lin.Forward(h)), MathF.PI));
            return QGenEngine.Autograd.Ops.Sum(QGenEngine.Autograd.Ops.Mul(p, Weights(dev))).Item();
        }
        var y = layer.Forward(QGenEngine.Autograd.Ops.Mul(QGenEngine.Autograd.Ops.Tanh(lin.Forward(h)), MathF.PI));
        QGenEngine.Autograd.Graph.Backward(QGenEngine.Autograd.Ops.Sum(QGenEngine.Autograd.Ops.Mul(y, Weights(dev))));
        var analytic = layer.Weight.Grad!.ToArray().Concat(lin.Weight.Grad!.ToArray()).ToArray();
        var numeric = new List<double>();
        foreach (var t in new[] { layer.Weight, lin.Weight })
        {
            var v = t.ToArray();
            for (int i = 0; i < v.Length; i++)
            {
                var orig = v[i];
                v[i] = orig + 1e-2f; t.CopyFrom(v); double lp = Loss();
                v[i] = orig - 1e-2f; t.CopyFrom(v); double lm = Loss();
                v[i] = orig; t.CopyFrom(v);
                numeric.Add((lp - lm) / 2e-2);
            }
        }
        Close.Assert(analytic, numeric.ToArray(), 2e-3, 2e-2, "∂L/∂(circuit angles, linear weights)");
    }

    private static QGenEngine.Tensors.Tensor Weights(QGenEngine.Tensors.IDevice dev) =>
        QGenEngine.Tensors.Tensor.FromArray(dev, Enumerable.Range(0, 3 * 16).Select(i => (float)Math.Sin(i)).ToArray(), 3, 16);
}
