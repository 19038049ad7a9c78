using QGenEngine.Autograd.Optim;

namespace QGenEngine.Models.Metrics;

/// <summary>A discriminator's view of held-out real images and fresh samples: accuracy of its logit's sign and its mean probabilities.</summary>
public sealed record DiscriminatorView(int Step, double Accuracy, double DReal, double DFake);

/// <summary>The run's own discriminator on held-out data, and a fresh one's trajectory against the frozen generator.</summary>
public sealed record ProbeResult(DiscriminatorView Trained, IReadOnlyList<DiscriminatorView> Fresh, int Steps, int BatchSize, int HeldOut);

/// <summary>
/// Is a GAN's discriminator at chance because the generator is that good, or because the discriminator stopped
/// learning (issue #23: the qgan's sits at D(real) 0.505 / D(fake) 0.495)? Two measurements on held-out data - test
/// images the model never trained on and fresh samples: (1) the run's own discriminator; (2) a fresh discriminator of the
/// same architecture trained alone (Adam at the run's settings) against the frozen generator's samples, its accuracy
/// along the way. If the fresh one separates real from generated images well, the samples are distinguishable and
/// chance in training is a failure of the adversarial game, not an equilibrium.
/// </summary>
public static class DiscriminatorProbe
{
    public static ProbeResult Run(Gan gan, IDevice dev, ImageSet train, ImageSet test, int steps, int batch, float lr, float beta1, ulong seed, int heldOut = 2000,
                                  Action<DiscriminatorView>? progress = null)
    {
        if (steps < 1 || batch < 2) throw new ArgumentException($"the probe needs steps ≥ 1 and a batch ≥ 2 (got {steps}, {batch})");
        heldOut = Math.Min(heldOut, test.Count);
        int px = train.PixelsPerImage;
        // Held-out sets in [-1, 1], as the discriminator sees images: test digits and samples from latents no step uses.
        var real = TensorScope.Persist(Tensor.FromArray(dev, test.Pixels.AsSpan(0, heldOut * px), heldOut, 1, 28, 28).Affine(2f, -1f));
        var fakeHeld = TensorScope.Persist(Sample(gan, dev, heldOut, CounterRng.Derive(seed, 1)));
        var trained = View(gan, dev, real, fakeHeld, 0);

        var fresh = new Gan(dev, CounterRng.Derive(seed, 2), gan.Config);
        var part = new Part("discriminator", fresh.Discriminator, new Adam(fresh.Discriminator.NamedParameters("discriminator."), lr, beta1), 0);
        var views = new List<DiscriminatorView> { View(fresh, dev, real, fakeHeld, 0) };
        progress?.Invoke(views[0]);
        var buf = new float[batch * px];
        ulong order = CounterRng.Derive(seed, 3);
        int every = Math.Max(1, steps / 10);
        for (int step = 1; step <= steps; step++)
        {
            using (TensorScope.Begin())
            {
                for (int i = 0; i < batch; i++)
                {
                    int idx = (int)(CounterRng.Hash(order, (ulong)step * (ulong)batch + (ulong)i) % (ulong)train.Count);
                    train.Image(idx).CopyTo(buf.AsSpan(i * px, px));
                }
                var x = Tensor.FromArray(dev, buf, batch, 1, 28, 28).Affine(2f, -1f);
                var fake = Sample(gan, dev, batch, CounterRng.Derive(seed, 1000 + (ulong)step));
                fresh.Discriminator.Train();
                fresh.DiscriminatorStep(x, fake, part);
            }
            if (step % every == 0 || step == steps)
            {
                views.Add(View(fresh, dev, real, fakeHeld, step));
                progress?.Invoke(views[^1]);
            }
        }
        return new ProbeResult(trained, views, steps, batch, heldOut);
    }

    /// <summary>n samples of the frozen generator (eval mode, as FID sees them) in [-1, 1].</summary>
    private static Tensor Sample(Gan gan, IDevice dev, int n, ulong seed) =>
        ModelMode.Eval(gan.Generator, () => gan.Generator.Forward(gan.SampleLatents(dev, n, seed)));

    /// <summary>The discriminator in eval mode (no dropout): the share of real with logit &gt; 0 and fake with logit &lt; 0, and its mean σ(logit) on each.</summary>
    private static DiscriminatorView View(Gan g, IDevice dev, Tensor real, Tensor fake, int step)
    {
        float[] Logits(Tensor x) => ModelMode.Eval(g.Discriminator, () =>
        {
            var all = new float[x.Shape[0]];
            for (int s = 0; s < x.Shape[0]; s += 500)
            {
                int m = Math.Min(500, x.Shape[0] - s);
                using var scope = TensorScope.Begin();
                g.Discriminator.Forward(x.Slice(0, s, m)).ToArray().CopyTo(all, s);
            }
            return all;
        });
        var lr = Logits(real); var lf = Logits(fake);
        static double Sigmoid(float v) => 1 / (1 + Math.Exp(-v));
        double acc = (lr.Count(v => v > 0) + lf.Count(v => v < 0)) / (double)(lr.Length + lf.Length);
        return new DiscriminatorView(step, acc, lr.Average(v => Sigmoid(v)), lf.Average(v => Sigmoid(v)));
    }
}
