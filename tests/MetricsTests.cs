using System.Text.Json;
using QGenEngine.Models.Metrics;

namespace QGenEngine.Tests;

[TestFixture]
public class MetricsTests
{
    private static JsonElement Fixture() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "fid.json"))).RootElement;

    private static float[] F(JsonElement e) => e.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    [Test]
    public void Frechet_distance_matches_scipy_sqrtm()
    {
        foreach (var c in Fixture().GetProperty("cases").EnumerateArray())
        {
            int d = c.GetProperty("d").GetInt32();
            var s1 = Frechet.Fit(F(c.GetProperty("f1")), c.GetProperty("n1").GetInt32(), d);
            var s2 = Frechet.Fit(F(c.GetProperty("f2")), c.GetProperty("n2").GetInt32(), d);
            double want = c.GetProperty("fid").GetDouble();
            Assert.That(Frechet.Distance(s1, s2), Is.EqualTo(want).Within(1e-6 + 1e-6 * Math.Abs(want)), c.GetProperty("name").GetString());
        }
    }

    [Test]
    public void A_set_against_itself_has_distance_zero_and_sqrtm_squares_back()
    {
        var r = new Random(3);
        var f = Enumerable.Range(0, 500 * 8).Select(_ => (float)r.NextDouble()).ToArray();
        var s = Frechet.Fit(f, 500, 8);
        Assert.That(Frechet.Distance(s, s), Is.EqualTo(0).Within(1e-9));
        var root = Frechet.Sqrtm(s.Cov);
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++)
            {
                double sq = 0;
                for (int k = 0; k < 8; k++) sq += root[i, k] * root[k, j];
                Assert.That(sq, Is.EqualTo(s.Cov[i, j]).Within(1e-12));
            }
    }

    [Test]
    public void Inception_score_matches_numpy()
    {
        var j = Fixture().GetProperty("is");
        var (m, sd) = InceptionScore.Compute(F(j.GetProperty("probs")), j.GetProperty("n").GetInt32(), j.GetProperty("classes").GetInt32());
        Assert.That(m, Is.EqualTo(j.GetProperty("mean").GetDouble()).Within(1e-5));
        Assert.That(sd, Is.EqualTo(j.GetProperty("std").GetDouble()).Within(1e-5));
        var uniform = Enumerable.Repeat(0.1f, 100 * 10).ToArray();
        Assert.That(InceptionScore.Compute(uniform, 100, 10).Mean, Is.EqualTo(1).Within(1e-9), "no confidence: IS = 1");
        var sure = new float[100 * 10];
        for (int i = 0; i < 100; i++) sure[i * 10 + i % 10] = 1;
        Assert.That(InceptionScore.Compute(sure, 100, 10).Mean, Is.EqualTo(10).Within(1e-9), "confident and balanced: IS = 10");
    }

    /// <summary>
    /// The mode statistics on hand-made classifier outputs: 200 images, 100 labelled 3, 99 labelled 5 and one 8.
    /// Histogram (0.5, 0.495, 0.005 at 3, 5, 8); covered = shares ≥ 0.01 → 2; KL to uniform, by hand:
    /// 0.5·ln 5 + 0.495·ln 4.95 + 0.005·ln 0.05.
    /// </summary>
    [Test]
    public void Mode_statistics_match_a_hand_computation()
    {
        const int n = 200;
        var probs = new float[n * 10];
        for (int i = 0; i < n; i++)
        {
            int label = i < 100 ? 3 : i < 199 ? 5 : 8;
            for (int c = 0; c < 10; c++) probs[i * 10 + c] = c == label ? 0.55f : 0.05f;
        }
        var m = ModeStats.FromProbabilities(probs, n);
        Assert.That(m.Histogram, Is.EqualTo(new[] { 0, 0, 0, 0.5, 0, 0.495, 0, 0, 0.005, 0 }).Within(1e-12));
        Assert.That(m.Modes, Is.EqualTo(2), "the single 8 is under 10 % of its uniform share (0.5 % < 1 %)");
        Assert.That(m.Kl, Is.EqualTo(0.5 * Math.Log(5) + 0.495 * Math.Log(4.95) + 0.005 * Math.Log(0.05)).Within(1e-12));
        double[] before = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
        Assert.That(m.Lost(before), Is.EqualTo(new[] { 0, 1, 2, 4, 6, 7, 8, 9 }), "classes covered before and not now");
        Assert.That(m.Lost(m.Histogram), Is.Empty);
    }
}
