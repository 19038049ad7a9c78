using QGenEngine.Kernels;
using QGenEngine.Models;
using QGenEngine.Models.Data;
using QGenEngine.Models.Metrics;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

/// <summary>The discriminator probe (issue #23): a fresh discriminator learns to tell an untrained generator's noise from digits; the views are what they say.</summary>
[TestFixture]
public class DiscriminatorProbeTests : TempDirTest
{
    [Test]
    public void A_fresh_discriminator_separates_an_untrained_generators_samples_from_real_images()
    {
        var dev = Backends.Cpu;
        var pixels = TrainStepTests.Blobs(256, 7);
        var set = new ImageSet(pixels, new byte[256], 28, 28, "blobs");
        var gan = new Gan(dev, 1, new GanConfig(Width: 4));
        var views = new List<DiscriminatorView>();
        var r = DiscriminatorProbe.Run(gan, dev, set, set, steps: 60, batch: 16, lr: 2e-3f, beta1: 0.5f, seed: 3, heldOut: 100, progress: views.Add);
        Assert.That(r.Fresh.Select(v => v.Step), Is.EqualTo(new[] { 0, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60 }));
        Assert.That(views, Is.EqualTo(r.Fresh), "progress sees every view");
        Assert.That(r.Fresh[0].Accuracy, Is.InRange(0.3, 0.7), "untrained: near chance");
        Assert.That(r.Fresh[^1].Accuracy, Is.GreaterThan(0.95), "blobs against an untrained generator's output are easy to tell apart");
        Assert.That(r.Fresh[^1].DReal, Is.GreaterThan(r.Fresh[^1].DFake));
        Assert.That(r.Trained.Step, Is.Zero);
        Assert.That(r.HeldOut, Is.EqualTo(100));
        // The run's own discriminator is only looked at: the probe never changes the model it was given.
        var before = gan.Discriminator.NamedParameters().Select(p => p.Param.ToArray()).ToList();
        DiscriminatorProbe.Run(gan, dev, set, set, steps: 2, batch: 16, lr: 2e-3f, beta1: 0.5f, seed: 3, heldOut: 20);
        Assert.That(gan.Discriminator.NamedParameters().Select(p => p.Param.ToArray()), Is.EqualTo(before));
    }

    [Test]
    public void The_probe_refuses_a_model_without_a_discriminator()
    {
        string run = Path.Combine(Dir, "vae");
        var (c, o, e) = CliRunner.Run("train", "vae", "--epochs", "1", "--limit", "64", "--batch-size", "32", "--eval-images", "10", "--fid-every", "0", "--out", run);
        Assert.That(c, Is.Zero, o + e);
        var (code, _, err) = CliRunner.Run("probe", "--run", run, "--steps", "1");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.Trim(), Does.Contain("a vae run; the probe needs a GAN's discriminator"));
        Assert.That(err.Trim().Split('\n'), Has.Length.EqualTo(1));
    }
}
