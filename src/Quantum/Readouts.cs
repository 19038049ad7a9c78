using QGenEngine.Tensors;

namespace QGenEngine.Quantum;

internal static class Readouts
{
    /// <summary>Writes one sample's readout from its basis probabilities.</summary>
    public static void FromProbabilities(ReadOnlySpan<double> p, int n, Readout r, ulong seed, ulong sample, Span<float> o)
    {
        Span<double> d = o.Length <= 4096 ? stackalloc double[o.Length] : new double[o.Length];
        FromProbabilities(p, n, r, seed, sample, d);
        for (int i = 0; i < o.Length; i++) o[i] = (float)d[i];
    }

    public static void FromProbabilities(ReadOnlySpan<double> p, int n, Readout r, ulong seed, ulong sample, Span<double> o)
    {
        switch (r.Kind)
        {
            case ReadoutKind.Probs:
                for (int i = 0; i < p.Length; i++) o[i] = p[i];
                break;
            case ReadoutKind.Expval:
                for (int q = 0; q < n; q++)
                {
                    int bit = 1 << (n - 1 - q); double e = 0;
                    for (int i = 0; i < p.Length; i++) e += (i & bit) == 0 ? p[i] : -p[i];
                    o[q] = e;
                }
                break;
            default:
                {
                    // N draws by inverse CDF with the counter-based generator: stream (seed, sample), draw s.
                    Span<double> cdf = p.Length <= 4096 ? stackalloc double[p.Length] : new double[p.Length];
                    double acc = 0;
                    for (int i = 0; i < p.Length; i++) { acc += p[i]; cdf[i] = acc; }
                    Span<int> counts = p.Length <= 4096 ? stackalloc int[p.Length] : new int[p.Length];
                    ulong stream = CounterRng.Derive(seed, sample);
                    for (int s = 0; s < r.Shots; s++)
                    {
                        double u = CounterRng.Uniform(stream, (ulong)s) * acc;
                        int lo = 0, hi = p.Length - 1;
                        while (lo < hi) { int mid = (lo + hi) >> 1; if (cdf[mid] > u) hi = mid; else lo = mid + 1; }
                        counts[lo]++;
                    }
                    for (int i = 0; i < p.Length; i++) o[i] = (double)counts[i] / r.Shots;
                    break;
                }
        }
    }
}
