namespace QGenEngine.Models.Metrics;

/// <summary>A sample's mean, standard deviation (n − 1) and 95 % confidence interval of the mean (Student's t).</summary>
public sealed record Summary(int N, double Mean, double Sd, double Low, double High);

/// <summary>Welch's comparison of two samples' means: the difference a − b, its 95 % interval, t, the Welch–Satterthwaite df and the two-sided p.</summary>
public sealed record WelchTest(double Difference, double Low, double High, double T, double Df, double P);

/// <summary>
/// The statistics a study over seeds needs (issue #23): confidence intervals from Student's t and Welch's unequal-variance
/// t-test, with the t distribution computed here (regularised incomplete beta by Lentz's continued fraction, its
/// quantile by bisection) - checked against SciPy's stats.t and stats.ttest_ind(equal_var=False) in the tests.
/// </summary>
public static class Statistics
{
    public static Summary Summarise(IReadOnlyList<double> x)
    {
        int n = x.Count;
        if (n == 0) throw new ArgumentException("no values to summarise");
        double mean = x.Average();
        if (n == 1) return new Summary(1, mean, double.NaN, double.NaN, double.NaN);
        double sd = Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        double half = TQuantile(0.975, n - 1) * sd / Math.Sqrt(n);
        return new Summary(n, mean, sd, mean - half, mean + half);
    }

    /// <summary>Welch's t-test of mean(a) − mean(b); each sample needs at least two values and not both zero variance.</summary>
    public static WelchTest Welch(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count < 2 || b.Count < 2) throw new ArgumentException($"Welch's test needs two values a side (got {a.Count} and {b.Count})");
        var sa = Summarise(a); var sb = Summarise(b);
        double va = sa.Sd * sa.Sd / a.Count, vb = sb.Sd * sb.Sd / b.Count, se = Math.Sqrt(va + vb);
        double diff = sa.Mean - sb.Mean;
        if (se == 0) return new WelchTest(diff, diff, diff, diff == 0 ? 0 : Math.Sign(diff) * double.PositiveInfinity, double.NaN, diff == 0 ? 1 : 0);
        double df = (va + vb) * (va + vb) / (va * va / (a.Count - 1) + vb * vb / (b.Count - 1));
        double t = diff / se;
        double half = TQuantile(0.975, df) * se;
        return new WelchTest(diff, diff - half, diff + half, t, df, 2 * TCdf(-Math.Abs(t), df));
    }

    /// <summary>
    /// Holm's step-down adjustment of m p-values tested together (Holm 1979): sorted ascending, the i-th smallest (0-based)
    /// becomes max over j ≤ i of min(1, (m − j)·p₍ⱼ₎), returned in the input's order. Rejecting where the adjusted p &lt; α
    /// keeps the chance of any false rejection among the m at most α, whatever their dependence. NaN stays NaN and
    /// does not count towards m.
    /// </summary>
    public static double[] Holm(IReadOnlyList<double> p)
    {
        var order = Enumerable.Range(0, p.Count).Where(i => !double.IsNaN(p[i])).OrderBy(i => p[i]).ThenBy(i => i).ToArray();
        var adjusted = Enumerable.Repeat(double.NaN, p.Count).ToArray();
        double running = 0;
        for (int j = 0; j < order.Length; j++)
        {
            double v = p[order[j]];
            if (v is < 0 or > 1) throw new ArgumentException($"p-value {v} is outside [0, 1]");
            running = Math.Max(running, Math.Min(1, (order.Length - j) * v));
            adjusted[order[j]] = running;
        }
        return adjusted;
    }

    /// <summary>P(T ≤ t) for Student's t with df degrees of freedom (df &gt; 0, not necessarily whole).</summary>
    public static double TCdf(double t, double df)
    {
        if (!(df > 0)) throw new ArgumentException($"degrees of freedom {df} must be positive");
        if (double.IsNaN(t)) return double.NaN;
        if (double.IsInfinity(t)) return t > 0 ? 1 : 0;
        double tail = 0.5 * RegularizedBeta(df / (df + t * t), df / 2, 0.5);   // P(T > |t|)
        return t >= 0 ? 1 - tail : tail;
    }

    /// <summary>The p-quantile of Student's t (0 &lt; p &lt; 1), by bisection on <see cref="TCdf"/> to double precision.</summary>
    public static double TQuantile(double p, double df)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentException($"quantile probability {p} is outside (0, 1)");
        if (p == 0.5) return 0;
        double lo = -1, hi = 1;
        while (TCdf(lo, df) > p) lo *= 2;
        while (TCdf(hi, df) < p) hi *= 2;
        for (int i = 0; i < 200 && hi - lo > 1e-15 * Math.Max(1, Math.Abs(lo)); i++)
        {
            double mid = 0.5 * (lo + hi);
            if (TCdf(mid, df) < p) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>I_x(a, b), the regularised incomplete beta function (Numerical Recipes' continued fraction, evaluated by modified Lentz).</summary>
    public static double RegularizedBeta(double x, double a, double b)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        double front = Math.Exp(LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x));
        // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) otherwise.
        return x < (a + 1) / (a + b + 2) ? front * BetaFraction(x, a, b) / a : 1 - front * BetaFraction(1 - x, b, a) / b;
    }

    private static double BetaFraction(double x, double a, double b)
    {
        const double Tiny = 1e-300, Eps = 1e-16;
        double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
        if (Math.Abs(d) < Tiny) d = Tiny;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 10_000; m++)
        {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + aa * d; if (Math.Abs(d) < Tiny) d = Tiny;
            c = 1 + aa / c; if (Math.Abs(c) < Tiny) c = Tiny;
            d = 1 / d; h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + aa * d; if (Math.Abs(d) < Tiny) d = Tiny;
            c = 1 + aa / c; if (Math.Abs(c) < Tiny) c = Tiny;
            d = 1 / d;
            double del = d * c;
            h *= del;
            if (Math.Abs(del - 1) < Eps) return h;
        }
        return h;
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7, 9 terms: ~1e-15 relative).</summary>
    public static double LogGamma(double x)
    {
        ReadOnlySpan<double> c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
                                  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
        if (x < 0.5) return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        x -= 1;
        double s = c[0], t = x + 7.5;
        for (int i = 1; i < 9; i++) s += c[i] / (x + i);
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(s);
    }
}
