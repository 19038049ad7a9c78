using System.Text;

namespace QGenEngine.Tests.Support;

/// <summary>
/// The one comparison used by every test: |got − ref| ≤ atol + rtol·|ref|, element by element,
/// NaN-aware (NaN matches only NaN, ±∞ only itself), lengths checked first, failing with the first mismatching indices.
/// Every overload is this one rule (the float ones widen to double).
/// </summary>
public static class Close
{
    public static void Assert(ReadOnlySpan<double> got, ReadOnlySpan<double> want, double atol, double rtol, string what)
    {
        if (got.Length != want.Length) NUnit.Framework.Assert.Fail($"{what}: {got.Length} values, expected {want.Length}");
        var bad = new StringBuilder(); int count = 0; double worst = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double g = got[i], w = want[i];
            if (Matches(g, w, atol, rtol)) continue;
            worst = Math.Max(worst, Math.Abs(g - w));
            if (count++ < 5) bad.Append($"\n  [{i}] got {g:R}, expected {w:R} (diff {Math.Abs(g - w):E3})");
        }
        if (count > 0) NUnit.Framework.Assert.Fail($"{what}: {count} of {got.Length} values differ beyond atol={atol:E1}, rtol={rtol:E1} (worst {worst:E3}):{bad}");
    }

    /// <summary>The rule for one value: NaN matches only NaN, ±∞ only itself, anything else within atol + rtol·|want|.</summary>
    public static bool Matches(double got, double want, double atol, double rtol) =>
        double.IsNaN(want) ? double.IsNaN(got)
        : double.IsInfinity(want) ? got == want
        : !double.IsNaN(got) && Math.Abs(got - want) <= atol + rtol * Math.Abs(want);

    public static void Assert(ReadOnlySpan<float> got, ReadOnlySpan<double> want, double atol, double rtol, string what) =>
        Assert(Widen(got), want, atol, rtol, what);

    public static void Assert(ReadOnlySpan<float> got, ReadOnlySpan<float> want, double atol, double rtol, string what) =>
        Assert(Widen(got), Widen(want), atol, rtol, what);

    private static double[] Widen(ReadOnlySpan<float> v)
    {
        var d = new double[v.Length];
        for (int i = 0; i < d.Length; i++) d[i] = v[i];
        return d;
    }
}
