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
    }

    [Test]
    public void Amplitude_damping_of_one_returns_every_qubit_to_zero()
    {
        var c = new Circuit(2, 0, Entangler.Linear, Encoding.Angle, [new(GateKind.H, 0), new(GateKind.H, 1)], 0);
        var p = DensityMatrix.Probabilities(c, new float[2], [], new NoiseModel(AmplitudeDamping: 1));
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
