using System.Text.Json.Nodes;
using QGenEngine.Autograd;
using QGenEngine.Kernels;
using QGenEngine.Kernels.Cpu;
using QGenEngine.Models;
using QGenEngine.Models.Training;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

/// <summary>The DCGAN: PyTorch's names and losses, gradients against finite differences, part isolation, steady state.</summary>
[TestFixture]
public class GanTests
{
    private static JsonNode Fixture => JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "gan.json")))!;

    private static Parts PartsOf(Gan gan, float lr = 2e-4f) =>
        Parts.For(gan, TrainOptions.Defaults("gan") with { Lr = lr, Beta1 = 0.5f, ClipNorm = 0 });

    [Test]
    public void State_dict_names_shapes_and_counts_are_pytorchs()
    {
        var gan = new Gan(Backends.Cpu, 1);
        var fx = Fixture;
        foreach (var (part, module) in new[] { ("generator", (QGenEngine.Autograd.Nn.Module)gan.Generator), ("discriminator", gan.Discriminator) })
        {
            var want = fx[part + "_state"]!.AsArray().Select(e => (Name: e![0]!.GetValue<string>(), Shape: e[1]!.AsArray().Select(d => d!.GetValue<int>()).ToArray())).ToList();
            var got = module.StateDict().ToList();
            Assert.That(got.Select(g => g.Name), Is.EquivalentTo(want.Select(w => w.Name)), part + " state_dict keys");
            foreach (var (name, shape) in want)
                Assert.That(got.Single(g => g.Name == name).T.Shape, Is.EqualTo(shape), $"{part}.{name}");
            Assert.That(module.ParameterCount, Is.EqualTo(fx[part + "_params"]!.GetValue<long>()), part + " parameters");
        }
        Assert.That(gan.StateDict().Select(s => s.Name), Has.Some.EqualTo("generator.1.num_batches_tracked"));
    }

    [Test]
    public void Losses_and_their_gradients_match_pytorch()
    {
        var l = Fixture["losses"]!;
        double[] A(string k) => l[k]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        var dev = Backends.Reference;
        var real = Tensor.FromArray(dev, A("real_logits").Select(v => (float)v).ToArray(), 6, 1); real.RequiresGrad = true;
        var fake = Tensor.FromArray(dev, A("fake_logits").Select(v => (float)v).ToArray(), 6, 1); fake.RequiresGrad = true;
        // The fixture's logits are float64; ours went through float on the way in, so compare at float precision.
        var d = Gan.DiscriminatorLoss(real, fake);
        Graph.Backward(d);
        Assert.That(d.Item(), Is.EqualTo(l["d_loss"]!.GetValue<double>()).Within(1e-6));
        Close.Assert(real.Grad!.ToArray(), A("d_loss_grad_real").Select(v => (float)v).ToArray(), 1e-6, 1e-5, "dD/dreal");
        Close.Assert(fake.Grad!.ToArray(), A("d_loss_grad_fake").Select(v => (float)v).ToArray(), 1e-6, 1e-5, "dD/dfake");
        var fake2 = Tensor.FromArray(dev, A("fake_logits").Select(v => (float)v).ToArray(), 6, 1); fake2.RequiresGrad = true;
        var g = Gan.GeneratorLoss(fake2);
        Graph.Backward(g);
        Assert.That(g.Item(), Is.EqualTo(l["g_loss"]!.GetValue<double>()).Within(1e-6));
        Close.Assert(fake2.Grad!.ToArray(), A("g_loss_grad_fake").Select(v => (float)v).ToArray(), 1e-6, 1e-5, "dG/dfake");
    }

    /// <summary>
    /// Both losses through the whole (small) GAN on the double-precision reference: the gradient of every
    /// parameter tensor, at a few entries each, against central differences. The discriminator runs in eval
    /// mode (dropout is random); the generator's batch norms in training mode (batch statistics).
    /// </summary>
    [TestCase("generator")]
    [TestCase("discriminator")]
    public void Gradients_match_finite_differences_on_the_reference(string which)
    {
        var dev = Backends.Reference;
        var gan = new Gan(dev, 5, new GanConfig(Latent: 3, Width: 2));
        gan.Train(); gan.Discriminator.Eval();
        var z = Tensor.Normal(dev, 11, 0, 1, 3, 3);
        var real = Tensor.FromArray(dev, TrainStepTests.Blobs(3, 4).Select(v => 2 * v - 1).ToArray(), 3, 1, 28, 28);
        var (Loss, module) = PartLoss(gan, which, z, real);
        int checkedEntries = 0;
        foreach (var (name, p) in module.NamedParameters())
        {
            for (int k = 0; k < 3; k++)
            {
                FiniteDifferences.AssertEntry($"{which}.{name}", p, (int)((k * 7919L + 13) % p.Numel), Loss, h: 1e-6);
                checkedEntries++;
            }
        }
        Assert.That(checkedEntries, Is.GreaterThanOrEqualTo(which == "generator" ? 30 : 24));
    }

    /// <summary>
    /// The loss of one part ("generator": the non-saturating generator loss; "discriminator": its loss on real and detached
    /// fakes) as a function for finite differences, and that part; the gradients of the loss are computed once, fresh.
    /// </summary>
    internal static (Func<Tensor> Loss, QGenEngine.Autograd.Nn.Module Part) PartLoss(Gan gan, string which, Tensor z, Tensor real)
    {
        Tensor Loss() => which == "generator"
            ? Gan.GeneratorLoss(gan.Discriminator.Forward(gan.Generator.Forward(z)))
            : Gan.DiscriminatorLoss(gan.Discriminator.Forward(real), gan.Discriminator.Forward(gan.Generator.Forward(z).Detach()));
        foreach (var (_, p) in gan.NamedParameters()) p.Grad = null;
        Graph.Backward(Loss());
        return (Loss, which == "generator" ? gan.Generator : gan.Discriminator);
    }

    private static Dictionary<string, float[]> Weights(QGenEngine.Autograd.Nn.Module m) => m.NamedParameters().ToDictionary(p => p.Name, p => p.Param.ToArray());

    [Test]
    public void A_discriminator_step_leaves_the_generator_unchanged_and_vice_versa()
    {
        var dev = Backends.Cpu;
        var gan = new Gan(dev, 3, new GanConfig(Width: 4));
        var parts = PartsOf(gan, 1e-2f);
        var real = Tensor.FromArray(dev, TrainStepTests.Blobs(4, 2).Select(v => 2 * v - 1).ToArray(), 4, 1, 28, 28);
        var fake = gan.Generator.Forward(Tensor.Normal(dev, 5, 0, 1, 4, 100));
        var g0 = Weights(gan.Generator); var d0 = Weights(gan.Discriminator);
        gan.DiscriminatorStep(real, fake, parts["discriminator"]);
        var g1 = Weights(gan.Generator); var d1 = Weights(gan.Discriminator);
        foreach (var k in g0.Keys) Assert.That(g1[k], Is.EqualTo(g0[k]), "generator " + k + " after a discriminator step");
        Assert.That(d0.Keys.Count(k => !d1[k].SequenceEqual(d0[k])), Is.EqualTo(d0.Count), "every discriminator tensor moved");
        gan.GeneratorStep(fake, parts["generator"]);
        var g2 = Weights(gan.Generator); var d2 = Weights(gan.Discriminator);
        foreach (var k in d1.Keys) Assert.That(d2[k], Is.EqualTo(d1[k]), "discriminator " + k + " after a generator step");
        Assert.That(g1.Keys.Count(k => !g2[k].SequenceEqual(g1[k])), Is.EqualTo(g1.Count), "every generator tensor moved");
    }

    [Test]
    public void Batch_norm_counts_training_batches_only()
    {
        var gan = new Gan(Backends.Cpu, 1, new GanConfig(Width: 2));
        var bn = gan.StateDict().Single(s => s.Name == "generator.5.num_batches_tracked").T;
        var z = Tensor.Normal(Backends.Cpu, 1, 0, 1, 2, 100);
        gan.Generator.Forward(z); gan.Generator.Forward(z);
        Assert.That(bn.Item(), Is.EqualTo(2f));
        gan.Generate(z);
        Assert.That(bn.Item(), Is.EqualTo(2f), "eval mode leaves it");
    }

    [Test]
    public void Steady_state_gan_steps_allocate_no_tensor_memory()
    {
        var dev = Backends.Cpu;
        var gan = new Gan(dev, 11, new GanConfig(Width: 8));
        var parts = PartsOf(gan);
        var batch = new Batch(Tensor.FromArray(dev, TrainStepTests.Blobs(8, 5), 8, 1, 28, 28), new int[8]);
        void Step() { using var scope = TensorScope.Begin(); gan.TrainStep(batch, parts); }
        for (int i = 0; i < 10; i++) Step();
        long fresh0 = FloatPool.FreshAllocations, bytes0 = GC.GetTotalAllocatedBytes(precise: true);
        const int steps = 100;
        for (int i = 0; i < steps; i++) Step();
        double perStep = (GC.GetTotalAllocatedBytes(precise: true) - bytes0) / (double)steps;
        TestContext.Out.WriteLine($"managed allocation {perStep:F0} B/step");
        Assert.That(FloatPool.FreshAllocations - fresh0, Is.Zero, "every tensor buffer came from the pool");
        Assert.That(perStep, Is.LessThan(96 * 1024), "managed bytes per step (graph objects only)");
    }
}
