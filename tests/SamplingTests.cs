using QGenEngine.Autograd;
using QGenEngine.Kernels;
using QGenEngine.Tensors;

namespace QGenEngine.Tests;

/// <summary>Arg-max / arg-min and seeded categorical sampling: exact values, the distribution, reproducibility across backends.</summary>
[TestFixture]
public class SamplingTests
{
    private static readonly float[] TieRows = [1, 3, 3, 0, 2, 2, 2, 2, -1, -5, -5, -1];

    [Test]
    public void Arg_reductions_take_the_lowest_index_on_ties_on_every_backend()
    {
        foreach (var dev in new IDevice[] { Backends.Reference, Backends.Cpu, Backends.Get("ilgpu-cpu") })
        {
            var x = Tensor.FromArray(dev, TieRows, 3, 4);
            Assert.That(x.ArgMax().ToArray(), Is.EqualTo(new float[] { 1, 0, 0 }), dev.Name + " argmax");
            Assert.That(x.ArgMin().ToArray(), Is.EqualTo(new float[] { 3, 0, 1 }), dev.Name + " argmin");
            Assert.That(x.ArgMax(0).ToArray(), Is.EqualTo(new float[] { 1, 0, 0, 1 }), dev.Name + " argmax over rows");
        }
    }

    /// <summary>
    /// 20,000 draws from fixed logits: a chi-square test against softmax(logits) at 9 degrees of freedom
    /// (the 0.999 quantile is 27.9, so a correct sampler fails this with probability 0.001, and the seed is fixed).
    /// </summary>
    [Test]
    public void Categorical_draws_follow_the_softmax_distribution()
    {
        const int n = 20_000, k = 10;
        float[] logit = [0.5f, -1f, 2f, 0f, 0f, 1f, -3f, 0.25f, 1.5f, -0.5f];
        var rows = new float[n * k];
        for (int i = 0; i < n; i++) logit.CopyTo(rows, i * k);
        var draws = Tensor.FromArray(Backends.Cpu, rows, n, k).SampleCategorical(777UL).ToArray();
        double z = logit.Sum(l => Math.Exp(l));
        var counts = new double[k];
        foreach (var d in draws) counts[(int)d]++;
        double chi2 = 0;
        for (int c = 0; c < k; c++)
        {
            double expected = n * Math.Exp(logit[c]) / z;
            chi2 += (counts[c] - expected) * (counts[c] - expected) / expected;
        }
        TestContext.Out.WriteLine($"chi-square {chi2:F2} (9 dof)");
        Assert.That(chi2, Is.LessThan(27.88));
        Assert.That(counts[6], Is.GreaterThan(0), "a rare class is drawn");
    }

    [Test]
    public void Categorical_draws_are_reproducible_and_the_same_on_every_backend()
    {
        var logits = Tensor.Normal(Backends.Cpu, 5, 0, 2, 500, 7).ToArray();
        float[] Draw(IDevice dev, ulong seed) => Tensor.FromArray(dev, logits, 500, 7).SampleCategorical(seed).ToArray();
        var cpu = Draw(Backends.Cpu, 9);
        Assert.That(Draw(Backends.Cpu, 9), Is.EqualTo(cpu), "the same seed, the same draws");
        Assert.That(Draw(Backends.Cpu, 10), Is.Not.EqualTo(cpu), "another seed, other draws");
        Assert.That(Draw(Backends.Reference, 9), Is.EqualTo(cpu), "reference (double) agrees");
        Assert.That(Draw(Backends.Get("ilgpu-cpu"), 9), Is.EqualTo(cpu), "the ILGPU kernel agrees");
        var gen = new Generator(3);
        var a = Tensor.FromArray(Backends.Cpu, logits, 500, 7).SampleCategorical(gen).ToArray();
        var b = Tensor.FromArray(Backends.Cpu, logits, 500, 7).SampleCategorical(gen).ToArray();
        Assert.That(b, Is.Not.EqualTo(a), "a generator hands out a fresh stream per call");
        Assert.That(gen.Position, Is.EqualTo(2UL));
    }

    [Test]
    public void Transpose_turns_nchw_maps_into_rows_of_channel_vectors_on_every_backend()
    {
        // x[n, c, h, w] = 1000n + 100c + 10h + w: after (N, C, H·W) → (N, H·W, C), row (n, p) holds the channels at p.
        var x = new float[2 * 3 * 2 * 2];
        for (int n = 0; n < 2; n++) for (int c = 0; c < 3; c++) for (int h = 0; h < 2; h++) for (int w = 0; w < 2; w++)
            x[((n * 3 + c) * 2 + h) * 2 + w] = 1000 * n + 100 * c + 10 * h + w;
        foreach (var dev in new IDevice[] { Backends.Reference, Backends.Cpu, Backends.Get("ilgpu-cpu") })
        {
            var rows = Tensor.FromArray(dev, x, 2, 3, 2, 2).Reshape(2, 3, 4).Transpose();
            Assert.That(rows.Shape, Is.EqualTo(new[] { 2, 4, 3 }));
            var v = rows.ToArray();
            Assert.That(v[..3], Is.EqualTo(new float[] { 0, 100, 200 }), dev.Name + ": n 0, pixel (0, 0)");
            Assert.That(v[(7 * 3)..(8 * 3)], Is.EqualTo(new float[] { 1011, 1111, 1211 }), dev.Name + ": n 1, pixel (1, 1)");
        }
    }
}
