using QGenEngine.Kernels;
using QGenEngine.Models;
using QGenEngine.Models.Training;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

/// <summary>
/// The qgan's classical controls (issue #23): qgan-control is qgan's generator with softmax(Linear(n → 2^n)) in the
/// circuit's place; gan-uniform feeds the same n angles straight to the GAN. Everything else must be the qgan's / gan's.
/// </summary>
[TestFixture]
public class GanControlTests
{
    private static Gan Build(string model, ulong seed = 1) => (Gan)ModelCatalog.Get(model).Create(Backends.Cpu, TrainOptions.Defaults(model) with { Seed = seed });

    private static Dictionary<string, int[]> Shapes(Gan g) => g.NamedParameters().ToDictionary(p => p.Name, p => p.Param.Shape);

    [Test]
    public void The_controls_differ_from_qgan_and_gan_only_in_the_generators_head()
    {
        var qgan = Shapes(Build("qgan")); var control = Shapes(Build("qgan-control"));
        var gan = Shapes(Build("gan")); var uniform = Shapes(Build("gan-uniform"));
        Assert.That(control["generator.0.weight"], Is.EqualTo(new[] { 256, 8 }), "Linear(8 → 256) where the circuit's 48 angles were");
        Assert.That(control["generator.0.bias"], Is.EqualTo(new[] { 256 }));
        Assert.That(qgan["generator.0.weight"], Is.EqualTo(new[] { 3, 8, 2 }));
        // Everything but generator.0 has the qgan's names and shapes (the discriminator included).
        var rest = qgan.Keys.Where(k => !k.StartsWith("generator.0.", StringComparison.Ordinal)).ToList();
        Assert.That(control.Keys.Where(k => !k.StartsWith("generator.0.", StringComparison.Ordinal)), Is.EquivalentTo(rest));
        foreach (var k in rest) Assert.That(control[k], Is.EqualTo(qgan[k]), k);
        // gan-uniform is the GAN with an 8-wide input: only its first Linear's weight differs.
        Assert.That(uniform.Keys, Is.EquivalentTo(gan.Keys));
        Assert.That(uniform["generator.0.weight"], Is.EqualTo(new[] { 6272, 8 }));
        Assert.That(gan["generator.0.weight"], Is.EqualTo(new[] { 6272, 100 }));
        foreach (var k in gan.Keys.Where(k => k != "generator.0.weight")) Assert.That(uniform[k], Is.EqualTo(gan[k]), k);
        // The parameter counts the README quotes: 2,304 against 48 angles; 50,176 against 627,200 input weights.
        Assert.That(Build("qgan-control").ParameterCount - Build("qgan").ParameterCount, Is.EqualTo(2304 - 48));
        Assert.That(Build("gan").ParameterCount - Build("gan-uniform").ParameterCount, Is.EqualTo(6272 * (100 - 8)));
    }

    [TestCase("qgan-control")]
    [TestCase("gan-uniform")]
    public void The_controls_draw_the_qgans_noise(string model)
    {
        var g = Build(model);
        var q = Build("qgan");
        Assert.That(g.LatentSize, Is.EqualTo(8));
        var z = g.SampleLatents(Backends.Cpu, 500, 9).ToArray();
        Assert.That(z, Is.EqualTo(q.SampleLatents(Backends.Cpu, 500, 9).ToArray()), "the same draws as qgan's for the same seed");
        Assert.That(z.Min(), Is.GreaterThanOrEqualTo(0f)); Assert.That(z.Max(), Is.LessThan(MathF.PI));
        Assert.That(z.Average(), Is.EqualTo(MathF.PI / 2).Within(0.05), "uniform on [0, π)");
    }

    [Test]
    public void The_control_head_is_the_circuits_readout_of_a_classical_probability_vector()
    {
        var g = Build("qgan-control", seed: 4);
        g.Eval();
        var dev = Backends.Cpu;
        var z = g.SampleLatents(dev, 5, 2);
        var c = g.Generator[1].Forward(g.Generator[0].Forward(z)).ToArray();
        var w = g.Generator.NamedParameters().Single(p => p.Name == "0.weight").Param.ToArray();
        var b = g.Generator.NamedParameters().Single(p => p.Name == "0.bias").Param.ToArray();
        var zh = z.ToArray();
        for (int i = 0; i < 5; i++)
        {
            // c = 256 · softmax(W z + b) − 1, in double from the weights
            var logits = Enumerable.Range(0, 256).Select(o => b[o] + Enumerable.Range(0, 8).Sum(k => (double)w[o * 8 + k] * zh[i * 8 + k])).ToArray();
            double max = logits.Max(), sum = logits.Sum(l => Math.Exp(l - max));
            for (int o = 0; o < 256; o++)
                Assert.That(c[i * 256 + o], Is.EqualTo(256 * Math.Exp(logits[o] - max) / sum - 1).Within(2e-4), $"sample {i}, state {o}");
            Assert.That(Enumerable.Range(0, 256).Sum(o => (double)c[i * 256 + o]), Is.EqualTo(0).Within(2e-3), "mean zero over the basis states, as the circuit's readout");
        }
    }

    [Test]
    public void The_control_heads_gradient_matches_finite_differences()
    {
        var dev = Backends.Reference;
        // Small, as the qgan's check (QGanTests): at the full width each head weight moves 3 x 6,272 pre-activations behind
        // the batch norm and some ReLUs cross their kink within h (numeric and analytic then agree only as h -> 1e-7).
        var gan = new Gan(dev, 5, new GanConfig(Latent: 3, Width: 2, Circuit: new CircuitConfig(Qubits: 3, Layers: 2), Control: GeneratorControl.Softmax));
        gan.Train(); gan.Discriminator.Eval();
        var z = gan.SampleLatents(dev, 3, 11);
        var real = Tensor.FromArray(dev, TrainStepTests.Blobs(3, 4).Select(v => 2 * v - 1).ToArray(), 3, 1, 28, 28);
        var (loss, module) = GanTests.PartLoss(gan, "generator", z, real);
        var head = module.NamedParameters().Single(p => p.Name == "0.weight").Param;
        Assert.That(head.Shape, Is.EqualTo(new[] { 8, 3 }), "Linear(3 → 8) at 3 qubits");
        for (int k = 0; k < head.Numel; k++) FiniteDifferences.AssertEntry("generator.0.weight", head, k, loss, h: 1e-6);
    }

    [Test]
    public void A_control_has_no_circuit_to_configure()
    {
        // Its catalogue entry takes no circuit settings but the noise angles' count (and the GAN family's discriminator
        // rate), so `train qgan-control --quantum both` is refused by the parser (CliTests).
        Assert.That(ModelCatalog.Get("qgan-control").Own, Is.EqualTo(new Setting[] { CircuitSettings.Qubits, GanSettings.DLr }));
        Assert.That(Build("qgan-control").NamedModules().Select(m => m.Module).OfType<QGenEngine.Quantum.QuantumLayer>(), Is.Empty);
    }
}
