using System.Text.Json;
using QGenEngine.Models;
using QGenEngine.Quantum;

namespace QGenEngine.Tests;

/// <summary>The router's parts that need no trained model: rank statistics, the streaming quantile, the online rule, the curve.</summary>
[TestFixture]
public class RouterTests
{
    private static JsonElement Fixture() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "spearman.json"))).RootElement;

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    [Test]
    public void Ranks_and_Spearman_match_SciPy_ties_included()
    {
        foreach (var c in Fixture().GetProperty("cases").EnumerateArray())
        {
            var a = Doubles(c.GetProperty("a")); var b = Doubles(c.GetProperty("b"));
            Assert.That(Ranking.Ranks(a), Is.EqualTo(Doubles(c.GetProperty("ranks_a"))).Within(1e-12), c.GetProperty("name").GetString());
            Assert.That(Ranking.Spearman(a, b), Is.EqualTo(c.GetProperty("spearman").GetDouble()).Within(1e-12), c.GetProperty("name").GetString());
        }
    }

    [Test]
    public void Spearman_of_a_constant_side_is_undefined()
    {
        Assert.That(Ranking.Spearman([1, 2, 3], [5, 5, 5]), Is.NaN);
        Assert.Throws<ArgumentException>(() => Ranking.Spearman([1, 2], [1]));
    }

    [Test]
    public void The_streaming_quantile_is_the_exact_order_statistic()
    {
        var rng = new Random(3);
        var q = new StreamingQuantile();
        var all = new List<double>();
        for (int i = 0; i < 1000; i++)
        {
            double v = Math.Round(rng.NextDouble() * 50);   // ties
            q.Add(v); all.Add(v);
            if (i % 97 != 0) continue;
            var sorted = all.Order().ToArray();
            foreach (double p in new[] { 0.0, 0.1, 0.5, 0.7, 0.999, 1.0 })
                Assert.That(q.Quantile(p), Is.EqualTo(sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)]));
        }
    }

    private static double[] Stream(int n, int seed, bool sorted)
    {
        var rng = new Random(seed);
        var v = Enumerable.Range(0, n).Select(_ => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble())).ToArray();
        if (sorted) Array.Sort(v);
        return v;
    }

    [TestCase(0.3, false)]
    [TestCase(0.05, false)]
    [TestCase(0.7, false)]
    [TestCase(0.3, true)]
    public void The_online_rule_holds_the_target_share_on_a_long_stream(double share, bool rising)
    {
        // A rising stream (every input harder than the last) is the quantile's worst case: each input is the largest so far.
        var rule = OnlineRouter.ForShare(share);
        var scores = Stream(10_000, 11, rising);
        var picked = scores.Select(rule.Route).ToArray();
        Assert.That(rule.Share, Is.EqualTo(share).Within(0.01), "within 1 % at 10,000 inputs");
        Assert.That(picked.Count(p => p) / 10_000.0, Is.EqualTo(rule.Share));
        if (!rising)
        {
            // It routes by difficulty: the inputs it sent to the quantum model are the harder ones.
            double qMean = scores.Where((_, i) => picked[i]).Average(), cMean = scores.Where((_, i) => !picked[i]).Average();
            Assert.That(qMean, Is.GreaterThan(cMean + 1));
        }
    }

    [Test]
    public void Shares_zero_and_one_route_nothing_and_everything()
    {
        var none = OnlineRouter.ForShare(0); var all = OnlineRouter.ForShare(1);
        foreach (double s in Stream(500, 2, false)) { none.Route(s); all.Route(s); }
        Assert.That(none.Quantum, Is.Zero);
        Assert.That(all.Quantum, Is.EqualTo(500));
        Assert.Throws<ArgumentException>(() => OnlineRouter.ForShare(1.2));
        Assert.Throws<ArgumentException>(() => OnlineRouter.ForShare(double.NaN));
    }

    [Test]
    public void A_quality_target_between_the_endpoints_is_met_on_average()
    {
        // Synthetic: difficulty s; the classical model's SSIM falls with it fast, the quantum model's slowly.
        // All-classical averages 0.75, all-quantum 0.85; aim for 0.80.
        var rng = new Random(5);
        var rule = OnlineRouter.ForQuality(0.80);
        double served = 0; int n = 10_000;
        for (int i = 0; i < n; i++)
        {
            double s = rng.NextDouble();
            double noise = (rng.NextDouble() - 0.5) * 0.1;
            double quality = rule.Route(s) ? 0.9 - 0.1 * s + noise : 0.9 - 0.3 * s + noise;
            rule.Observe(quality);
            served += quality;
        }
        Assert.That(served / n, Is.EqualTo(0.80).Within(0.005));
        Assert.That(rule.Share, Is.InRange(0.2, 0.8), "a share between the endpoints meets it");
    }

    [Test]
    public void The_curve_runs_from_classical_to_quantum_and_the_oracle_bounds_every_policy()
    {
        var rng = new Random(9);
        int n = 400;
        var cs = new double[n]; var qs = new double[n]; var score = new double[n];
        for (int i = 0; i < n; i++)
        {
            double d = rng.NextDouble();
            cs[i] = 0.9 - 0.4 * d + 0.05 * rng.NextDouble(); qs[i] = 0.88 - 0.1 * d + 0.05 * rng.NextDouble();
            score[i] = d + 0.3 * rng.NextDouble();    // a noisy estimate of difficulty
        }
        var o = new Outcomes(cs, cs.Select(c => 100 * (1 - c)).ToArray(), qs, qs.Select(q => 100 * (1 - q)).ToArray());
        var curve = Routing.Curve(o, score);
        Assert.That(curve[0].Router, Is.EqualTo(cs.Average()).Within(1e-12));
        Assert.That(curve[^1].Router, Is.EqualTo(qs.Average()).Within(1e-12));
        foreach (var p in curve)
        {
            Assert.That(p.Oracle, Is.GreaterThanOrEqualTo(p.Router - 1e-12));
            Assert.That(p.Oracle, Is.GreaterThanOrEqualTo(p.Random - 1e-12));
        }
        double router = Routing.GapRecovered(curve, p => p.Router), oracle = Routing.GapRecovered(curve, p => p.Oracle);
        Assert.That(Routing.GapRecovered(curve, p => p.Random), Is.EqualTo(0.5).Within(1e-12));
        Assert.That(router, Is.GreaterThan(0.6), "a useful estimate beats random");
        Assert.That(oracle, Is.GreaterThanOrEqualTo(router));
        // A seeded random draw at a share lies between the endpoints and near its expectation.
        var (rs, _) = o.Quality(Routing.Random(n, 120, 4));
        Assert.That(rs, Is.InRange(cs.Average(), qs.Average()));
        var first = Routing.Random(n, 120, 4);
        Assert.That(Routing.Random(n, 120, 4), Is.EqualTo(first), "seeded");
        Assert.That(Routing.Random(n, 120, 5), Is.Not.EqualTo(first));
        Assert.That(Routing.Random(n, 120, 4).Count(b => b), Is.EqualTo(120));
    }

    [Test]
    public void No_gap_to_recover_when_the_quantum_model_is_worse()
    {
        var o = new Outcomes([0.9, 0.8], [1, 2], [0.85, 0.7], [2, 3]);
        Assert.That(Routing.GapRecovered(Routing.Curve(o, [0.1, 0.2]), p => p.Router), Is.NaN);
    }

    [Test]
    public void Image_statistics_of_a_single_pixel()
    {
        var img = new float[784];
        img[3 * 28 + 5] = 1f;
        var f = ImageStatistics.Compute(img, 1);
        Assert.That(f, Has.Length.EqualTo(ImageStatistics.Count));
        float V(string name) => f[Array.IndexOf(ImageStatistics.Names, name)];
        Assert.That(V("ink"), Is.EqualTo(1f / 784).Within(1e-9));
        Assert.That(V("on"), Is.EqualTo(1f / 784).Within(1e-9));
        Assert.That(V("grey"), Is.Zero);
        Assert.That(V("height"), Is.EqualTo(1f / 28).Within(1e-7));
        Assert.That(V("width"), Is.EqualTo(1f / 28).Within(1e-7));
        Assert.That(V("centroid_y"), Is.EqualTo(3f / 28).Within(1e-7));
        Assert.That(V("centroid_x"), Is.EqualTo(5f / 28).Within(1e-7));
        Assert.That(V("var_y"), Is.EqualTo(0).Within(1e-7));
        Assert.That(V("total_variation"), Is.EqualTo(4f / 784).Within(1e-7), "four unit steps around the pixel");
        Assert.That(V("row_crossings"), Is.EqualTo(2f / 28).Within(1e-7));
        Assert.That(V("row_3"), Is.EqualTo(1f / 28).Within(1e-7));
        Assert.That(V("col_5"), Is.EqualTo(1f / 28).Within(1e-7));
        Assert.That(V("row_4"), Is.Zero);
    }

    [Test]
    public void Circuit_depth_is_the_critical_path()
    {
        // H, RY(x), then RY, RZ and one CNOT: five layers on two qubits.
        Assert.That(Circuit.Template(2, 1).Depth, Is.EqualTo(5));
        // A CNOT chain is serial: each CNOT waits for the previous one.
        Assert.That(Circuit.Template(4, 1).Depth, Is.EqualTo(4 + 3));
        Assert.That(Circuit.Template(8, 0).Depth, Is.EqualTo(2));
    }
}
