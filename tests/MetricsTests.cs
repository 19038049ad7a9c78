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
}
