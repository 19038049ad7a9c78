namespace QGenEngine.Models.Metrics;

/// <summary>
/// FID's statistics and distance (METRICS.md), in double precision: mean and unbiased (n − 1)
/// covariance of feature rows; FID = ||μ1 − μ2||² + Tr(Σ1 + Σ2 − 2 (Σ1^½ Σ2 Σ1^½)^½), the square
/// roots from symmetric eigendecompositions (cyclic Jacobi) with negative eigenvalues from rounding
/// clamped to 0.
/// </summary>
public static class Frechet
{
    public sealed record Stats(double[] Mean, double[,] Cov, int Count);

    /// <summary>Statistics of n feature rows of dimension d (row-major).</summary>
    public static Stats Fit(ReadOnlySpan<float> features, int n, int d)
    {
        if (n < 2) throw new ArgumentException($"FID needs at least 2 images per set, got {n}");
        if (features.Length != n * d) throw new ArgumentException($"{features.Length} feature values for {n} × {d}");
        var mean = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mean[j] += features[i * d + j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        var cov = new double[d, d];
        var row = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) row[j] = features[i * d + j] - mean[j];
            for (int a = 0; a < d; a++)
            {
                double ra = row[a];
                if (ra == 0) continue;
                for (int b = a; b < d; b++) cov[a, b] += ra * row[b];
            }
        }
        for (int a = 0; a < d; a++) for (int b = a; b < d; b++) { cov[a, b] /= n - 1; cov[b, a] = cov[a, b]; }
        return new Stats(mean, cov, n);
    }

    public static double Distance(Stats s1, Stats s2)
    {
        int d = s1.Mean.Length;
        if (s2.Mean.Length != d) throw new ArgumentException($"feature dimensions differ: {d} and {s2.Mean.Length}");
        double meanTerm = 0, trace = 0;
        for (int j = 0; j < d; j++) { double m = s1.Mean[j] - s2.Mean[j]; meanTerm += m * m; trace += s1.Cov[j, j] + s2.Cov[j, j]; }
        var sqrt1 = Sqrtm(s1.Cov);
        var m12 = Multiply(Multiply(sqrt1, s2.Cov), sqrt1);
        Symmetrise(m12);   // S·Σ2·S is symmetric; rounding made it slightly not
        var (vals, _) = SymmetricEigen(m12, vectors: false);
        double trSqrt = vals.Sum(v => Math.Sqrt(Math.Max(v, 0)));
        return meanTerm + trace - 2 * trSqrt;
    }

    /// <summary>The symmetric PSD square root V·diag(√max(λ, 0))·Vᵀ.</summary>
    public static double[,] Sqrtm(double[,] a)
    {
        int n = a.GetLength(0);
        var (vals, vecs) = SymmetricEigen(a, vectors: true);
        var r = new double[n, n];
        for (int k = 0; k < n; k++)
        {
            double s = Math.Sqrt(Math.Max(vals[k], 0));
            if (s == 0) continue;
            for (int i = 0; i < n; i++)
            {
                double vi = vecs![i, k] * s;
                for (int j = 0; j < n; j++) r[i, j] += vi * vecs[j, k];
            }
        }
        return r;
    }

    private static double[,] Multiply(double[,] a, double[,] b)
    {
        int n = a.GetLength(0);
        var r = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++)
            {
                double aik = a[i, k];
                if (aik == 0) continue;
                for (int j = 0; j < n; j++) r[i, j] += aik * b[k, j];
            }
        return r;
    }

    private static void Symmetrise(double[,] r)
    {
        int n = r.GetLength(0);
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) { double m = 0.5 * (r[i, j] + r[j, i]); r[i, j] = r[j, i] = m; }
    }

    /// <summary>Eigenvalues (and, if asked, eigenvectors as columns) of a symmetric matrix by cyclic Jacobi rotations.</summary>
    public static (double[] Values, double[,]? Vectors) SymmetricEigen(double[,] input, bool vectors)
    {
        int n = input.GetLength(0);
        var a = (double[,])input.Clone();
        double[,]? v = null;
        if (vectors) { v = new double[n, n]; for (int i = 0; i < n; i++) v[i, i] = 1; }
        double scale = 0;
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) scale = Math.Max(scale, Math.Abs(a[i, j]));
        if (scale == 0) return (new double[n], v);
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += a[p, q] * a[p, q];
            if (Math.Sqrt(off) <= 1e-15 * scale * n) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p, q];
                    if (Math.Abs(apq) <= 1e-300) continue;
                    double theta = (a[q, q] - a[p, p]) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - s * akq; a[k, q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk; a[q, k] = s * apk + c * aqk;
                    }
                    if (v is not null)
                        for (int k = 0; k < n; k++)
                        {
                            double vkp = v[k, p], vkq = v[k, q];
                            v[k, p] = c * vkp - s * vkq; v[k, q] = s * vkp + c * vkq;
                        }
                }
        }
        var vals = new double[n];
        for (int i = 0; i < n; i++) vals[i] = a[i, i];
        return (vals, v);
    }
}
