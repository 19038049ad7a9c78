using System.Text;

namespace QGenEngine.Tests.Support;

/// <summary>
/// The one comparison used by every test: |got − ref| ≤ atol + rtol·|ref|, element by element,
/// NaN-aware (NaN matches only NaN, ±∞ only itself), failing with the first mismatching indices.
/// </summary>
public static class Close
{
    public static void Assert(ReadOnlySpan<float> got, ReadOnlySpan<double> want, double atol, double rtol, string what)
    {
        if (got.Length != want.Length) NUnit.Framework.Assert.Fail($"{what}: {got.Length} values, expected {want.Length}");
        var bad = new StringBuilder(); int count = 0; double worst = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double g = got[i], w = want[i];
            bool ok = double.IsNaN(w) ? double.IsNaN(g)
                    : double.IsInfinity(w) ? g == w
                    : !double.IsNaN(g) && Math.Abs(g - w) <= atol + rtol * Math.Abs(w);
            if (ok) continue;
            worst = Math.Max(worst, Math.Abs(g - w));
            if (count++ < 5) bad.Append($"\n  [{i}] got {g:R}, expected {w:R} (diff {Math.Abs(g - w):E3})");
        }
        if (count > 0) NUnit.Framework.Assert.Fail($"{what}: {count} of {got.Length} values differ beyond atol={atol:E1}, rtol={rtol:E1} (worst {worst:E3}):{bad}");
    }

    public static void Assert(ReadOnlySpan<float> got, ReadOnlySpan<float> want, double atol, double rtol, string what)
    {
        var w = new double[want.Length];
        for (int i = 0; i < w.Length; i++) w[i] = want[i];
        Assert(got, w, atol, rtol, what);
    }

    public static void Assert(ReadOnlySpan<double> got, ReadOnlySpan<double> want, double atol, double rtol, string what)
    {
        var bad = new StringBuilder(); int count = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double d = Math.Abs(got[i] - want[i]);
            if (d <= atol + rtol * Math.Abs(want[i]) && !double.IsNaN(got[i])) continue;
            if (count++ < 5) bad.Append($"\n  [{i}] got {got[i]:R}, expected {want[i]:R} (diff {d:E3})");
        }
        if (got.Length != want.Length) NUnit.Framework.Assert.Fail($"{what}: {got.Length} values, expected {want.Length}");
        if (count > 0) NUnit.Framework.Assert.Fail($"{what}: {count} of {got.Length} values differ beyond atol={atol:E1}, rtol={rtol:E1}:{bad}");
    }
}
