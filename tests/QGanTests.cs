using QGenEngine.Autograd;
using QGenEngine.Kernels;
using QGenEngine.Models;
using QGenEngine.Models.Training;
using QGenEngine.Quantum;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

/// <summary>The quantum GAN: names, gradients through the circuits, shift against adjoint, seeded shots and noise, circuit statistics.</summary>
[TestFixture]
public class QGanTests : TempDirTest
{
    private static GanConfig Small(QuantumParts q, string readout = "probs", GradMethod grad = GradMethod.Adjoint, NoiseModel? noise = null) =>
        new(Latent: 3, Width: 2, Quantum: q, Circuit: new CircuitConfig(Qubits: 3, Layers: 2, Readout: readout, Grad: grad, Noise: noise));

    [Test]
    public void The_circuits_sit_where_models_md_puts_them()
    {
        var g = new Gan(Backends.Cpu, 1, new GanConfig(Quantum: QuantumParts.Both));
        var names = g.NamedParameters().ToDictionary(p => p.Name, p => p.Param.Shape);
        Assert.That(names["generator.0.weight"], Is.EqualTo(new[] { 3, 8, 2 }), "the generator's circuit: 48 angles");
        Assert.That(names["generator.2.weight"], Is.EqualTo(new[] { 6272, 256 }), "Linear(256 → 6272) after c = 256p − 1");
        Assert.That(names["discriminator.10.weight"], Is.EqualTo(new[] { 8, 2048 }), "Linear(2048 → 8): the angles");
        Assert.That(names["discriminator.11.weight"], Is.EqualTo(new[] { 3, 8, 2 }));
        Assert.That(names["discriminator.13.weight"], Is.EqualTo(new[] { 1, 1 }), "logit = a⟨Z_0⟩ + b");
        Assert.That(g.LatentSize, Is.EqualTo(8));
        var z = g.SampleLatents(Backends.Cpu, 200, 3).ToArray();
        Assert.That(z.Min(), Is.GreaterThanOrEqualTo(0f)); Assert.That(z.Max(), Is.LessThan(MathF.PI));
    }

    /// <summary>
    /// Both losses through each variant on the double-precision reference device (its circuits run in double too:
    /// state, inputs and outputs), against central differences, as tight as the classical GAN's check.
    /// </summary>
    [TestCase(QuantumParts.Generator, "generator")]
    [TestCase(QuantumParts.Discriminator, "discriminator")]
    [TestCase(QuantumParts.Both, "generator")]
    [TestCase(QuantumParts.Both, "discriminator")]
    public void Gradients_through_the_circuits_match_finite_differences(QuantumParts q, string which)
    {
        var dev = Backends.Reference;
        var gan = new Gan(dev, 5, Small(q));
        gan.Train(); gan.Discriminator.Eval();
        var z = gan.SampleLatents(dev, 3, 11);
        var real = Tensor.FromArray(dev, TrainStepTests.Blobs(3, 4).Select(v => 2 * v - 1).ToArray(), 3, 1, 28, 28);
        var (Loss, module) = GanTests.PartLoss(gan, which, z, real);
        int circuits = 0;
        foreach (var (name, p) in module.NamedParameters())
        {
            bool circuit = p.Shape.Length == 3;
            circuits += circuit ? 1 : 0;
            for (int k = 0; k < (circuit ? 6 : 2); k++)
                FiniteDifferences.AssertEntry($"{which}.{name}", p, (int)((k * 7919L + 13) % p.Numel), Loss, h: 1e-6);
        }
        Assert.That(circuits, Is.EqualTo(1), "the part's circuit was checked");
    }

    private static (Gan Gan, Parts Parts) Built(GanConfig c)
    {
        var gan = new Gan(Backends.Cpu, 9, c);
        return (gan, Parts.For(gan, TrainOptions.Defaults("qgan") with { Lr = 1e-2f, Beta1 = 0.5f, ClipNorm = 0 }));
    }

    private static Dictionary<string, float[]> StepAndGrads(GanConfig c)
    {
        var (gan, parts) = Built(c);
        var batch = new Batch(Tensor.FromArray(Backends.Cpu, TrainStepTests.Blobs(4, 2), 4, 1, 28, 28), new int[4]);
        gan.TrainStep(batch, parts);
        return gan.NamedParameters().ToDictionary(p => p.Name, p => p.Param.ToArray());
    }

    /// <summary>Every parameter's gradient of the generator's and the discriminator's loss (no step), on the CPU.</summary>
    private static Dictionary<string, float[]> Gradients(GanConfig c)
    {
        var (gan, _) = Built(c);
        gan.Discriminator.Eval();
        var z = gan.SampleLatents(Backends.Cpu, 4, 3);
        var real = Tensor.FromArray(Backends.Cpu, TrainStepTests.Blobs(4, 2).Select(v => 2 * v - 1).ToArray(), 4, 1, 28, 28);
        Graph.Backward(Gan.DiscriminatorLoss(gan.Discriminator.Forward(real), gan.Discriminator.Forward(gan.Generator.Forward(z).Detach())));
        var d = gan.Discriminator.NamedParameters("discriminator.").ToDictionary(p => p.Name, p => p.Param.Grad!.ToArray());
        Graph.Backward(Gan.GeneratorLoss(gan.Discriminator.Forward(gan.Generator.Forward(z))));
        foreach (var (name, p) in gan.Generator.NamedParameters("generator.")) d[name] = p.Grad!.ToArray();
        return d;
    }

    [Test]
    public void Parameter_shift_equals_adjoint_without_noise()
    {
        var adj = Gradients(Small(QuantumParts.Both));
        var shift = Gradients(Small(QuantumParts.Both, grad: GradMethod.Shift));
        Assert.That(shift.Keys, Is.EquivalentTo(adj.Keys));
        foreach (var k in adj.Keys) Close.Assert(shift[k], adj[k], 1e-6, 1e-4, k);
    }

    [Test]
    public void Shots_and_noise_in_training_are_seeded_and_reproducible()
    {
        var noise = NoiseModel.Parse("depolarizing=0.02,damping=0.01,readout=0.02");
        foreach (var c in new[] { Small(QuantumParts.Both, "shots:50", GradMethod.Shift), Small(QuantumParts.Both, grad: GradMethod.Shift, noise: noise) })
        {
            var a = StepAndGrads(c); var b = StepAndGrads(c);
            foreach (var k in a.Keys) Assert.That(b[k], Is.EqualTo(a[k]), k);
            var exact = StepAndGrads(Small(QuantumParts.Both));
            Assert.That(a["generator.0.weight"], Is.Not.EqualTo(exact["generator.0.weight"]), "shots or noise change the step");
        }
    }

    [Test]
    public void Adjoint_with_noise_or_shots_is_refused_naming_the_gradient_that_works()
    {
        var noise = NoiseModel.Parse("depolarizing=0.01");
        var e1 = Assert.Throws<ArgumentException>(() => new Gan(Backends.Cpu, 1, Small(QuantumParts.Generator, noise: noise)))!;
        Assert.That(e1.Message, Does.Contain("⟨grad⟩ shift"));
        var e2 = Assert.Throws<ArgumentException>(() => new Gan(Backends.Cpu, 1, Small(QuantumParts.Generator, "shots:100")))!;
        Assert.That(e2.Message, Does.Contain("⟨grad⟩ shift"));
    }

    [Test]
    public void Each_epoch_records_the_circuits_gradient_norm_and_angle_change()
    {
        var o = (TrainOptions.Defaults("qgan") with { Epochs = 2, Limit = 64, BatchSize = 16, EvalImages = 8, FidEvery = 0, Lr = 5e-2f }).With(GanSettings.Quantum, "both").With(CircuitSettings.Qubits, 4);
        new Trainer(o, Dir, Backends.Cpu, false).Run(null, null, CancellationToken.None);
        var m = RunLogs.ReadMetrics(Dir);
        foreach (var part in new[] { "generator", "discriminator" })
        {
            double g1 = m[0]["circuit_grad_norm_" + part]!.GetValue<double>(), a1 = m[0]["circuit_angle_change_" + part]!.GetValue<double>();
            double a2 = m[1]["circuit_angle_change_" + part]!.GetValue<double>();
            Assert.That(g1, Is.GreaterThan(0), part);
            Assert.That(a1, Is.GreaterThan(0), part + ": the angles moved");
            Assert.That(a2, Is.Not.EqualTo(a1), part + ": measured from the start, not per epoch");
        }
    }
}
