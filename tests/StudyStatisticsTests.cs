using System.Text.Json;
using QGenEngine.Models.Metrics;

namespace QGenEngine.Tests;

/// <summary>Statistics over seeds and precision/recall/density/coverage against SciPy/NumPy (tools/golden/make_study_fixtures.py).</summary>
[TestFixture]
public class StudyStatisticsTests
{
    private static JsonElement Fixture(string part) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "study.json"))).RootElement.GetProperty(part);

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
    private static float[] F(JsonElement e) => e.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    [Test]
    public void Student_t_cdf_and_quantiles_match_scipy()
    {
        int n = 0;
        foreach (var c in Fixture("t").EnumerateArray())
        {
            double df = c.GetProperty("df").GetDouble();
            if (c.TryGetProperty("cdf", out var cdf))
                Assert.That(Statistics.TCdf(c.GetProperty("t").GetDouble(), df), Is.EqualTo(cdf.GetDouble()).Within(1e-12 + 1e-10 * cdf.GetDouble()), $"cdf t={c.GetProperty("t")} df={df}");
            else
            {
                // SciPy's t.ppf is itself good to ~1e-8 in the tails (its ppf(0.005, 10) has cdf 0.0050000000462), so the
                // quantile is held to SciPy at 2e-8 and, tighter, to its own definition: cdf(quantile) = p.
                double p = c.GetProperty("p").GetDouble(), q = Statistics.TQuantile(p, df), want = c.GetProperty("ppf").GetDouble();
                Assert.That(q, Is.EqualTo(want).Within(2e-8 * Math.Max(1, Math.Abs(want))), $"ppf p={p} df={df}");
                Assert.That(Statistics.TCdf(q, df), Is.EqualTo(p).Within(1e-13), $"cdf(ppf) p={p} df={df}");
            }
            n++;
        }
        Assert.That(n, Is.GreaterThan(90));
    }

    [Test]
    public void Welch_test_matches_scipy_ttest_ind()
    {
        foreach (var c in Fixture("welch").EnumerateArray())
        {
            var w = Statistics.Welch(Doubles(c.GetProperty("a")), Doubles(c.GetProperty("b")));
            string name = c.GetProperty("name").GetString()!;
            Assert.That(w.T, Is.EqualTo(c.GetProperty("t").GetDouble()).Within(1e-10), name + " t");
            Assert.That(w.Df, Is.EqualTo(c.GetProperty("df").GetDouble()).Within(1e-10), name + " df");
            Assert.That(w.P, Is.EqualTo(c.GetProperty("p").GetDouble()).Within(1e-10), name + " p");
            Assert.That(w.Difference, Is.EqualTo(c.GetProperty("difference").GetDouble()).Within(1e-10), name + " difference");
            Assert.That(w.Low, Is.EqualTo(c.GetProperty("low").GetDouble()).Within(1e-8), name + " low");
            Assert.That(w.High, Is.EqualTo(c.GetProperty("high").GetDouble()).Within(1e-8), name + " high");
        }
    }

    [Test]
    public void Confidence_intervals_of_a_mean_match_scipy()
    {
        foreach (var c in Fixture("summaries").EnumerateArray())
        {
            var s = Statistics.Summarise(Doubles(c.GetProperty("x")));
            string name = c.GetProperty("name").GetString()!;
            Assert.That(s.Mean, Is.EqualTo(c.GetProperty("mean").GetDouble()).Within(1e-12), name);
            Assert.That(s.Sd, Is.EqualTo(c.GetProperty("sd").GetDouble()).Within(1e-12), name);
            Assert.That(s.Low, Is.EqualTo(c.GetProperty("low").GetDouble()).Within(1e-8), name);
            Assert.That(s.High, Is.EqualTo(c.GetProperty("high").GetDouble()).Within(1e-8), name);
        }
        var one = Statistics.Summarise([3.5]);
        Assert.That((one.Mean, double.IsNaN(one.Sd), double.IsNaN(one.Low)), Is.EqualTo((3.5, true, true)), "one seed has a mean and no interval");
        Assert.Throws<ArgumentException>(() => Statistics.Welch([1.0], [2.0, 3.0]));
    }

    [Test]
    public void Holm_adjusted_p_values_match_the_reference()
    {
        int n = 0;
        foreach (var c in Fixture("holm").EnumerateArray())
        {
            var got = Statistics.Holm(Doubles(c.GetProperty("p")));
            Assert.That(got, Is.EqualTo(Doubles(c.GetProperty("adjusted"))).Within(1e-15), c.GetProperty("name").GetString());
            n++;
        }
        Assert.That(n, Is.EqualTo(4));
        // By hand: sorted 0.005, 0.01, 0.03, 0.04 → 4·0.005, 3·0.01, 2·0.03, max(0.06, 1·0.04); back in the input's order.
        Assert.That(Statistics.Holm([0.01, 0.04, 0.03, 0.005]), Is.EqualTo(new[] { 0.03, 0.06, 0.06, 0.02 }).Within(1e-15));
        // A NaN (no test) is no test: it stays NaN and the others are adjusted for the rest.
        var withNan = Statistics.Holm([0.01, double.NaN, 0.04]);
        Assert.That((withNan[0], double.IsNaN(withNan[1]), withNan[2]), Is.EqualTo((0.02, true, 0.04)));
        Assert.Throws<ArgumentException>(() => Statistics.Holm([0.5, 1.5]));
    }

    [Test]
    public void Precision_recall_density_coverage_match_the_reference_formulas()
    {
        foreach (var c in Fixture("prdc").EnumerateArray())
        {
            int d = c.GetProperty("d").GetInt32(), k = c.GetProperty("k").GetInt32();
            var s = Prdc.Compute(F(c.GetProperty("real")), c.GetProperty("n_real").GetInt32(), F(c.GetProperty("fake")), c.GetProperty("n_fake").GetInt32(), d, k);
            string name = c.GetProperty("name").GetString()!;
            Assert.That(s.Precision, Is.EqualTo(c.GetProperty("precision").GetDouble()).Within(1e-12), name + " precision");
            Assert.That(s.Recall, Is.EqualTo(c.GetProperty("recall").GetDouble()).Within(1e-12), name + " recall");
            Assert.That(s.Density, Is.EqualTo(c.GetProperty("density").GetDouble()).Within(1e-12), name + " density");
            Assert.That(s.Coverage, Is.EqualTo(c.GetProperty("coverage").GetDouble()).Within(1e-12), name + " coverage");
        }
    }

    [Test]
    public void A_collapsed_fake_set_has_precision_without_recall()
    {
        var r = new Random(5);
        float G() => (float)(Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble()));
        var real = Enumerable.Range(0, 400 * 4).Select(_ => G()).ToArray();
        var collapsed = Enumerable.Range(0, 300 * 4).Select(_ => 0.05f * G()).ToArray();   // every sample near the mean
        var s = Prdc.Compute(real, 400, collapsed, 300, 4);
        Assert.That(s.Precision, Is.GreaterThan(0.95));
        Assert.That(s.Recall, Is.LessThan(0.2));
        Assert.That(s.Coverage, Is.LessThan(0.2));
        var same = Prdc.Compute(real, 400, real, 400, 4);
        Assert.That((same.Precision, same.Recall, same.Coverage), Is.EqualTo((1.0, 1.0, 1.0)), "a set against itself");
        Assert.Throws<ArgumentException>(() => Prdc.Compute(real, 400, collapsed[..20], 5, 4));
    }
}
