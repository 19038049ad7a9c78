using System.Text.Json.Nodes;
using QGenEngine.Autograd;
using QGenEngine.Autograd.Nn;
using QGenEngine.Kernels;
using QGenEngine.Models;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

/// <summary>The VQ-VAE and its prior: PyTorch's names, EMA against NumPy, gradients against finite differences, causality, codebook health.</summary>
[TestFixture]
public class VqVaeTests
{
    private static JsonNode Fixture => JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "vqvae.json")))!;
    private static float[] F(JsonNode n) => n.AsArray().Select(v => (float)v!.GetValue<double>()).ToArray();
    private static double[] Dbl(JsonNode n) => n.AsArray().Select(v => v!.GetValue<double>()).ToArray();

    [Test]
    public void State_dict_names_shapes_and_count_are_pytorchs_and_training_state_stays_outside()
    {
        var vq = new VqVae(Backends.Cpu, 1, new VqVaeConfig(Ema: true));
        var want = Fixture["state"]!.AsArray().Select(e => (Name: e![0]!.GetValue<string>(), Shape: e[1]!.AsArray().Select(d => d!.GetValue<int>()).ToArray())).ToList();
        var got = vq.StateDict().ToList();
        Assert.That(got.Select(g => g.Name), Is.EqualTo(want.Select(w => w.Name)));
        foreach (var (name, shape) in want) Assert.That(got.Single(g => g.Name == name).T.Shape, Is.EqualTo(shape), name);
        Assert.That(vq.ParameterCount, Is.EqualTo(Fixture["params"]!.GetValue<long>()));
        Assert.That(vq.NamedTrainingState().Select(s => s.Name), Is.EquivalentTo(new[]
        {
            "quantizer.code_counts", "quantizer.window_counts", "quantizer.restarts", "quantizer.ema_cluster_size", "quantizer.ema_embed_sum",
        }));
    }

    /// <summary>Three EMA updates from fixed encoder outputs equal tools/golden/make_vqvae_fixtures.py's NumPy computation, on every CPU backend.</summary>
    [Test]
    public void Ema_codebook_updates_match_numpy()
    {
        var fx = Fixture["ema"]!;
        int k = fx["k"]!.GetValue<int>(), d = fx["d"]!.GetValue<int>(), m = fx["m"]!.GetValue<int>();
        foreach (var dev in new[] { Backends.Reference, Backends.Cpu })
        {
            var q = new Probe(dev, new VqVaeConfig(k, d, Ema: true));
            q.Quantizer.SetCodebook(Tensor.FromArray(dev, F(fx["codebook0"]!), k, d));
            long step = 0;
            foreach (var s in fx["steps"]!.AsArray())
            {
                var z = Tensor.FromArray(dev, F(s!["z"]!), m, d);
                var codes = q.Quantizer.Codes(z);
                Assert.That(codes.ToArray(), Is.EqualTo(s["codes"]!.AsArray().Select(c => (float)c!.GetValue<int>()).ToArray()), $"{dev.Name} step {step + 1}: codes");
                q.Quantizer.Update(z, codes, ++step);
                Close.Assert(q.Quantizer.Codebook.ToArray(), Dbl(s["codebook"]!), 1e-5, 1e-4, $"{dev.Name} step {step}: codebook");
                var state = q.Quantizer.NamedTrainingState().ToDictionary(t => t.Name, t => t.State.ToArray());
                Close.Assert(state["ema_cluster_size"], Dbl(s["cluster_size"]!), 1e-6, 1e-5, $"{dev.Name} step {step}: N");
                Close.Assert(state["ema_embed_sum"], Dbl(s["embed_sum"]!), 1e-6, 1e-5, $"{dev.Name} step {step}: m");
            }
        }
    }

    /// <summary>A host for a quantiser alone.</summary>
    private sealed class Probe : Module
    {
        public VectorQuantizer Quantizer { get; }
        public Probe(IDevice dev, VqVaeConfig c) { Quantizer = Child("q", new VectorQuantizer(dev, new Generator(1), c)); }
    }

    private static Tensor Images(IDevice dev, int n) => Tensor.FromArray(dev, TrainStepTests.Blobs(n, 7), n, 1, 28, 28);

    /// <summary>
    /// On the double-precision reference, with the codes held fixed (they are locally constant): the decoder's gradients
    /// are the loss's; the encoder's are those of BCE(dec(e + z − sg z)) + β||z − e||², i.e. straight through plus the
    /// commitment; the codebook's are those of ||sg z − e||² alone. Each against central differences.
    /// </summary>
    [Test]
    public void Straight_through_codebook_and_commitment_gradients_match_finite_differences()
    {
        var dev = Backends.Reference;
        var vq = new VqVae(dev, 4, new VqVaeConfig(CodebookSize: 8, CodeDim: 4, Commitment: 0.3f));
        var x = Images(dev, 2);
        var (loss, _, _, codes, z0) = vq.Loss(x);
        Graph.Backward(loss);
        var e = vq.Quantizer.Codebook.Detach().Embedding(codes);          // fixed: the codes at the start
        var zConst = z0.Detach();
        int n = 2;
        Tensor EncoderSide()
        {
            var z = vq.EncodeRows(x);
            var bce = vq.DecodeRows(e.Add(z.Sub(zConst))).BceWithLogits(x, Reduction.Sum).Mul(1f / n);
            return bce.Add(z.Mse(e, Reduction.Sum).Mul(0.3f / n));
        }
        Tensor CodebookSide() => zConst.Mse(vq.Quantizer.Codebook.Embedding(codes), Reduction.Sum).Mul(1f / n);
        Tensor Full() => vq.Loss(x).Loss;
        int checkedEntries = 0;
        foreach (var (name, p) in vq.NamedParameters())
        {
            Func<Tensor> f = name.StartsWith("encoder", StringComparison.Ordinal) ? EncoderSide : name.StartsWith("quantizer", StringComparison.Ordinal) ? CodebookSide : Full;
            for (int j = 0; j < 3; j++)
            {
                int i = (int)((j * 7919L + 29) % p.Numel);
                if (name.StartsWith("quantizer", StringComparison.Ordinal)) i = (int)codes.ToArray()[j * 11] * 4 + j;   // a code in use
                // h small: a bias shifts all 98 vectors, and 1e-6 already crosses a decoder ReLU's kink
                FiniteDifferences.AssertEntry(name, p, i, f, h: 1e-7);
                checkedEntries++;
            }
        }
        Assert.That(checkedEntries, Is.EqualTo(13 * 3));
        Assert.That(vq.Loss(x).Codes.ToArray(), Is.EqualTo(codes.ToArray()), "the codes did not move under the probes");
    }

    [Test]
    public void Ema_leaves_the_codebook_to_the_ema_and_out_of_the_gradient()
    {
        var dev = Backends.Cpu;
        var vq = new VqVae(dev, 2, new VqVaeConfig(CodebookSize: 16, CodeDim: 8, Ema: true));
        var (loss, _, _, _, _) = vq.Loss(Images(dev, 2));
        Graph.Backward(loss);
        Assert.That(vq.Quantizer.Codebook.Grad, Is.Null, "no gradient reaches an EMA codebook");
        Assert.That(vq.NamedParameters().Where(p => p.Name.StartsWith("encoder", StringComparison.Ordinal)).All(p => p.Param.Grad is not null));
    }

    [Test]
    public void A_code_unused_for_n_steps_is_redrawn_from_the_batch()
    {
        var dev = Backends.Cpu;
        var q = new Probe(dev, new VqVaeConfig(4, 2, RestartDead: 2));
        q.Quantizer.SetCodebook(Tensor.FromArray(dev, [0, 0, 1, 1, 50, 50, -50, -50], 4, 2));
        var z = Tensor.FromArray(dev, [0.1f, 0, 0.9f, 1, 0, 0.2f, 1.1f, 0.8f], 4, 2);
        q.Quantizer.Update(z, q.Quantizer.Codes(z), 1);
        Assert.That(q.Quantizer.Codebook.ToArray()[4..], Is.EqualTo(new float[] { 50, 50, -50, -50 }), "not yet checked at step 1");
        q.Quantizer.Update(z, q.Quantizer.Codes(z), 2);
        var book = q.Quantizer.Codebook.ToArray();
        Assert.That(book[..4], Is.EqualTo(new float[] { 0, 0, 1, 1 }), "used codes stay");
        var rows = Enumerable.Range(0, 4).Select(r => (z.ToArray()[2 * r], z.ToArray()[2 * r + 1])).ToList();
        Assert.That(rows, Does.Contain((book[4], book[5])), "code 2 is now one of the batch's vectors");
        Assert.That(rows, Does.Contain((book[6], book[7])), "code 3 too");
        var usage = q.Quantizer.TakeEpochUsage();
        Assert.That(usage.Restarts, Is.EqualTo(2));
        Assert.That(usage.Counts, Is.EqualTo(new double[] { 4, 4, 0, 0 }));
    }

    [Test]
    public void Codebook_usage_is_the_perplexity_of_the_whole_epochs_counts()
    {
        var u = CodebookUsage.FromCounts([30, 10, 0, 60]);
        double h = -(0.3 * Math.Log(0.3) + 0.1 * Math.Log(0.1) + 0.6 * Math.Log(0.6));
        Assert.That(u.Perplexity, Is.EqualTo(Math.Exp(h)).Within(1e-12));
        Assert.That((u.Used, u.Dead), Is.EqualTo((3, 1)));
        Assert.That(CodebookUsage.FromCounts([5, 5, 5, 5]).Perplexity, Is.EqualTo(4).Within(1e-12), "uniform use: perplexity K");
        Assert.That(CodebookUsage.FromCounts(Enumerable.Repeat(0f, 99).Append(7f).ToArray()).Collapsed, Is.True);
    }

    [Test]
    public void Kmeans_finds_separated_clusters()
    {
        var dev = Backends.Cpu;
        float[][] centres = [[0, 0], [10, 0], [0, 10], [10, 10]];
        var pts = new float[400 * 2];
        var noise = Tensor.Normal(dev, 3, 0, 0.5f, 400, 2).ToArray();
        for (int i = 0; i < 400; i++) { pts[2 * i] = centres[i % 4][0] + noise[2 * i]; pts[2 * i + 1] = centres[i % 4][1] + noise[2 * i + 1]; }
        var found = KMeans.Fit(Tensor.FromArray(dev, pts, 400, 2), 4, 10, 17).ToArray();
        var rows = Enumerable.Range(0, 4).Select(r => (found[2 * r], found[2 * r + 1])).ToList();
        foreach (var c in centres)
            Assert.That(rows.Min(r => Math.Abs(r.Item1 - c[0]) + Math.Abs(r.Item2 - c[1])), Is.LessThan(0.2), $"a centre near ({c[0]}, {c[1]})");
    }

    /// <summary>
    /// The prior's network and one type-B block, on the reference: the gradient of position i's logits with respect to the
    /// embedded input at every position ≥ i is exactly 0 (type A first: the prior never sees the code it predicts), and
    /// for a type-B layer at every position &gt; i; the positions before i do reach it.
    /// </summary>
    [Test]
    public void Masked_convolutions_are_causal_in_raster_order()
    {
        var dev = Backends.Reference;
        var net = new PixelCnn(dev, new Generator(3), 10, new PixelCnnConfig(Channels: 4, Blocks: 2, FirstKernel: 5, Head: 8));
        var typeB = new MaskedConv2d(dev, new Generator(4), 'B', 4, 4, 3);
        foreach (var (name, f, strict) in new (string, Func<Tensor, Tensor>, bool)[] { ("prior", net.Forward, true), ("type B", typeB.Forward, false) })
            foreach (int i in new[] { 0, 9, 24, 40, 48 })
            {
                var x = Tensor.Normal(dev, 5, 0, 1, 1, 4, 7, 7); x.RequiresGrad = true;
                var y = f(x);
                int c = y.Shape[1];
                var pick = new float[y.Numel];
                for (int ch = 0; ch < c; ch++) pick[ch * 49 + i] = 1;
                Graph.Backward(y.Mul(Tensor.FromArray(dev, pick, y.Shape)).Sum());
                var g = x.Grad!.ToArray();
                for (int pos = 0; pos < 49; pos++)
                {
                    double mass = Enumerable.Range(0, 4).Sum(ch => Math.Abs(g[ch * 49 + pos]));
                    bool hidden = strict ? pos >= i : pos > i;
                    if (hidden) Assert.That(mass, Is.Zero, $"{name}: output {i} depends on input {pos}");
                }
                if (i > 0) Assert.That(Enumerable.Range(0, 4).Sum(ch => Math.Abs(g[ch * 49 + i - 1])), Is.GreaterThan(0), $"{name}: output {i} sees input {i - 1}");
            }
    }

    /// <summary>Sampling runs the prior on the rows up to the current one: those logits must be the full grid's, bit for bit.</summary>
    [Test]
    public void Logits_of_a_grids_top_rows_equal_the_full_grids()
    {
        var dev = Backends.Cpu;
        var net = new PixelCnn(dev, new Generator(2), 12, new PixelCnnConfig(Channels: 8, Blocks: 2, FirstKernel: 5, Head: 16));
        var codes = Tensor.Uniform(dev, 3, 0, 12, 3, 49).ToArray().Select(MathF.Floor).ToArray();
        var full = net.Logits(Tensor.FromArray(dev, codes, 3, 49)).ToArray();
        for (int h = 1; h <= 7; h++)
        {
            int p = 7 * h;
            var top = Enumerable.Range(0, 3).SelectMany(n => codes.Skip(n * 49).Take(p)).ToArray();
            var part = net.Logits(Tensor.FromArray(dev, top, 3, p), h).ToArray();
            for (int n = 0; n < 3; n++)
                Assert.That(part.AsSpan((n * p) * 12, p * 12).ToArray(), Is.EqualTo(full.AsSpan((n * 49) * 12, p * 12).ToArray()), $"grid {n}, top {h} rows");
        }
    }

    [Test]
    public void Cross_entropy_with_device_targets_equals_the_host_version_and_its_gradient()
    {
        var dev = Backends.Reference;
        int[] t = [2, 0, 4, 4, 1];
        var a = Tensor.Normal(dev, 8, 0, 2, 5, 6); a.RequiresGrad = true;
        var b = Tensor.FromArray(dev, a.ToArray(), 5, 6); b.RequiresGrad = true;
        var la = a.CrossEntropy(t);
        var lb = b.CrossEntropy(Tensor.FromArray(dev, t.Select(v => (float)v).ToArray(), 5));
        Graph.Backward(la); Graph.Backward(lb);
        Assert.That(lb.Item(), Is.EqualTo(la.Item()).Within(1e-12));
        Close.Assert(b.Grad!.ToArray(), a.Grad!.ToArray(), 1e-12, 1e-9, "gradient");
    }
}
