using QGenEngine.Quantum;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Quantum;

[TestFixture]
public class NoiseTests
{
    private static readonly Circuit C = Circuit.Template(3, 2, Entangler.Circular);
    private static readonly float[] Inputs = [0.3f, -1.1f, 2.0f, 0.9f, 0.1f, -0.4f];
    private static readonly float[] Weights = Enumerable.Range(0, 12).Select(i => (float)Math.Sin(i * 1.7)).ToArray();

    [Test]
    public void Zero_noise_changes_nothing()
    {
        var pure = Simulator.Run<double>(C, Inputs, 2, Weights, Readout.Probs);
        var dm = DensityMatrix.Run(C, Inputs, 2, Weights, Readout.Probs, new NoiseModel());
        Close.Assert(dm, pure.Select(v => (double)v).ToArray(), 1e-7, 1e-6, "density matrix with no noise = state vector");
    }

    /// <summary>The batched superoperator simulation against the Kraus-sum oracle, circuit by circuit.</summary>
    [TestCase(3, 2, Entangler.Circular, Encoding.Angle, "depolarizing=0.05,damping=0.1,dephasing=0.07,readout=0.03", 5)]
    [TestCase(4, 2, Entangler.All, Encoding.Angle, "depolarizing=0.02", 4)]
    [TestCase(4, 1, Entangler.Linear, Encoding.Angle, "damping=0.2", 1)]
    [TestCase(3, 2, Entangler.Linear, Encoding.Angle, "readout=0.1", 3)]
    [TestCase(3, 1, Entangler.Linear, Encoding.Amplitude, "dephasing=0.3,damping=0.05", 6)]
    [TestCase(5, 2, Entangler.Circular, Encoding.Angle, "depolarizing=0.01,damping=0.02,dephasing=0.01", 9)]
    public void Batched_simulation_equals_the_kraus_oracle(int qubits, int layers, Entangler e, Encoding enc, string spec, int batch)
    {
        var c = Circuit.Template(qubits, layers, e, enc);
        var noise = NoiseModel.Parse(spec);
        var rng = new Random(qubits * 31 + batch);
        var inputs = Enumerable.Range(0, batch * c.InputCount).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var weights = Enumerable.Range(0, c.WeightCount).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        var all = DensityMatrix.RunProbabilities(c, inputs, batch, weights, noise);
        for (int b = 0; b < batch; b++)
        {
            var want = KrausReference.Probabilities(c, inputs.AsSpan(b * c.InputCount, c.InputCount), weights, noise);
            var got = all.AsSpan(b * c.Dim, c.Dim).ToArray();
            for (int i = 0; i < c.Dim; i++)
                Assert.That(got[i], Is.EqualTo(want[i]).Within(1e-12), $"sample {b}, p[{i}]");
        }
        var expval = DensityMatrix.Run(c, inputs, batch, weights, Readout.Expval, noise);
        var probs = DensityMatrix.Run(c, inputs, batch, weights, Readout.Probs, noise);
        for (int b = 0; b < batch; b++)
            for (int q = 0; q < qubits; q++)
            {
                double z = 0;
                for (int i = 0; i < c.Dim; i++) z += ((i >> (qubits - 1 - q)) & 1) == 0 ? probs[b * c.Dim + i] : -probs[b * c.Dim + i];
                Assert.That(expval[b * qubits + q], Is.EqualTo(z).Within(1e-5), $"sample {b}, <Z_{q}>");
            }
    }

    /// <summary>Golden values from NumPy/SciPy (tools/golden/make_noise_fixtures.py: full matrices, expm rotations, Kraus sums).</summary>
    [Test]
    public void Noisy_probabilities_equal_numpy_golden_values()
    {
        var root = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "noise.json"))).RootElement;
        int count = 0;
        foreach (var k in root.GetProperty("cases").EnumerateArray())
        {
            int n = k.GetProperty("qubits").GetInt32(), batch = k.GetProperty("batch").GetInt32();
            var enc = k.GetProperty("encoding").GetString() == "amplitude" ? Encoding.Amplitude : Encoding.Angle;
            var c = Circuit.Template(n, k.GetProperty("layers").GetInt32(), Circuit.ParseEntangler(k.GetProperty("entangler").GetString()!), enc);
            var noise = NoiseModel.Parse(string.Join(",", k.GetProperty("noise").EnumerateObject().Select(p => $"{p.Name}={p.Value.GetDouble().ToString(System.Globalization.CultureInfo.InvariantCulture)}")));
            var inputs = k.GetProperty("inputs").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var weights = k.GetProperty("weights").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var got = DensityMatrix.RunProbabilities(c, inputs, batch, weights, noise);
            int b = 0;
            foreach (var row in k.GetProperty("probs").EnumerateArray())
            {
                int i = 0;
                foreach (var v in row.EnumerateArray())
                {
                    Assert.That(got[b * c.Dim + i], Is.EqualTo(v.GetDouble()).Within(1e-12), $"{n} qubits {c.Entangler} {enc} {noise}: sample {b}, p[{i}]");
                    i++;
                }
                b++;
            }
            count++;
        }
        Assert.That(count, Is.EqualTo(4), "fixture cases");
    }

    [Test]
    public void Cz_rx_and_gates_between_two_qubit_gates_equal_the_kraus_oracle()
    {
        Gate[] gates = [new(GateKind.H, 0), new(GateKind.RX, 1, -1, AngleSource.Input, 0), new(GateKind.CZ, 0, 1), new(GateKind.RX, 0, -1, AngleSource.Weight, 0),
                        new(GateKind.RZ, 2, -1, AngleSource.Input, 1), new(GateKind.CNOT, 2, 0), new(GateKind.RY, 1, -1, AngleSource.Weight, 1), new(GateKind.CZ, 1, 2),
                        new(GateKind.H, 2), new(GateKind.RX, 2, -1, AngleSource.Input, 2)];
        var c = new Circuit(3, 1, Entangler.Linear, Encoding.Angle, gates, 2);
        var noise = NoiseModel.Parse("depolarizing=0.04,damping=0.03,dephasing=0.05");
        var all = DensityMatrix.RunProbabilities(c, Inputs, 2, [0.7f, -1.3f], noise);
        for (int b = 0; b < 2; b++)
        {
            var want = KrausReference.Probabilities(c, Inputs.AsSpan(b * 3, 3), [0.7f, -1.3f], noise);
            for (int i = 0; i < 8; i++) Assert.That(all[b * 8 + i], Is.EqualTo(want[i]).Within(1e-12), $"sample {b}, p[{i}]");
        }
    }

    [TestCase("depolarizing=0.05")]
    [TestCase("damping=0.1")]
    [TestCase("dephasing=0.2")]
    [TestCase("readout=0.03")]
    [TestCase("depolarizing=0.02,damping=0.05,dephasing=0.05,readout=0.01")]
    public void Noise_keeps_the_trace_at_one_and_changes_the_distribution(string spec)
    {
        var noise = NoiseModel.Parse(spec);
        var p = DensityMatrix.Probabilities(C, Inputs.AsSpan(0, 3), Weights, noise);
        Assert.That(p.Sum(), Is.EqualTo(1).Within(1e-12), "trace 1");
        Assert.That(p.All(v => v >= 0));
        var pure = Simulator.Run<double>(C, Inputs.AsSpan(0, 3).ToArray(), 1, Weights, Readout.Probs);
        Assert.That(p.Zip(pure, (a, b) => Math.Abs(a - b)).Max(), Is.GreaterThan(1e-4), "noise is visible");
    }

    [Test]
    public void Full_depolarisation_gives_the_uniform_distribution()
    {
        var p = DensityMatrix.Probabilities(C, Inputs.AsSpan(0, 3), Weights, new NoiseModel(Depolarizing: 0.75));
        Close.Assert(p.Select(v => (float)v).ToArray(), Enumerable.Repeat(1 / 8.0, 8).ToArray(), 1e-9, 1e-9, "ρ = I/8");
        p = KrausReference.Probabilities(C, Inputs.AsSpan(0, 3), Weights, new NoiseModel(Depolarizing: 0.75));
        Close.Assert(p.Select(v => (float)v).ToArray(), Enumerable.Repeat(1 / 8.0, 8).ToArray(), 1e-9, 1e-9, "ρ = I/8");
    }

    [Test]
    public void Amplitude_damping_of_one_returns_every_qubit_to_zero()
    {
        var c = new Circuit(2, 0, Entangler.Linear, Encoding.Angle, [new(GateKind.H, 0), new(GateKind.H, 1)], 0);
        foreach (var p in new[] { DensityMatrix.Probabilities(c, new float[2], [], new NoiseModel(AmplitudeDamping: 1)),
                                  KrausReference.Probabilities(c, new float[2], [], new NoiseModel(AmplitudeDamping: 1)) })
            Close.Assert(p.Select(v => (float)v).ToArray(), new[] { 1.0, 0, 0, 0 }, 1e-12, 0, "|00⟩");
    }

    [Test]
    public void Noisy_gradients_by_shift_match_finite_differences_and_adjoint_refuses()
    {
        var noise = NoiseModel.Parse("depolarizing=0.03,damping=0.02");
        var cot = Enumerable.Range(0, 16).Select(i => (float)Math.Cos(i)).ToArray();
        var (_, ws, iis) = Gradients.Shift(C, Inputs, 2, Weights, Readout.Probs, cot, noise: noise);
        var (_, wf, iff) = Gradients.FiniteDifferences(C, Inputs, 2, Weights, Readout.Probs, cot, noise: noise);
        Close.Assert(ws, wf, 5e-4, 2e-3, "weights");
        Close.Assert(iis, iff, 5e-4, 2e-3, "inputs");
        Assert.That(Assert.Throws<ArgumentException>(() => Gradients.Compute(GradMethod.Adjoint, C, Inputs, 2, Weights, Readout.Probs, cot, noise: noise))!.Message,
            Does.Contain("shift"));
    }
}
