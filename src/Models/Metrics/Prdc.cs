using QGenEngine.Kernels.Cpu;

namespace QGenEngine.Models.Metrics;

/// <summary>Fidelity and diversity apart, which FID mixes: precision, recall, density and coverage of one set of samples.</summary>
/// <param name="Precision">share of fake samples inside some real sample's k-NN ball (fidelity; Kynkäänniemi et al. 2019)</param>
/// <param name="Recall">share of real samples inside some fake sample's k-NN ball (diversity; Kynkäänniemi et al. 2019)</param>
/// <param name="Density">mean number of real k-NN balls a fake sample falls in, over k (fidelity, robust to outliers; Naeem et al. 2020)</param>
/// <param name="Coverage">share of real samples whose k-NN ball holds some fake sample (diversity; Naeem et al. 2020)</param>
public sealed record PrdcScores(double Precision, double Recall, double Density, double Coverage, int K);

/// <summary>
/// Precision / recall (Kynkäänniemi et al. 2019) and density / coverage (Naeem et al. 2020) of feature rows, as the
/// authors' reference implementation (`prdc`) computes them: Euclidean distances, each point's k-NN radius the
/// distance to its k-th nearest other point of its own set, strict inequalities, one k for all four (k = 5, the
/// value Naeem et al. recommend). Brute force, each distance a SIMD sum of squared differences in float32 (no |a|² + |b|² − 2a·b cancellation).
/// </summary>
public static class Prdc
{
    public const int DefaultK = 5;

    public static PrdcScores Compute(ReadOnlySpan<float> real, int nReal, ReadOnlySpan<float> fake, int nFake, int d, int k = DefaultK)
    {
        if (real.Length != nReal * d || fake.Length != nFake * d) throw new ArgumentException($"features hold {real.Length} and {fake.Length} values; expected {nReal} and {nFake} rows of {d}");
        if (k < 1 || nReal <= k || nFake <= k) throw new ArgumentException($"precision/recall with k = {k} need more than {k} real and fake samples (got {nReal} and {nFake})");
        float[] r = real.ToArray(), f = fake.ToArray();
        var rRadius = KthNeighbour(r, nReal, d, k);
        var fRadius = KthNeighbour(f, nFake, d, k);

        // One pass over the real × fake distances gives all four counts.
        var fakeInBalls = new int[nFake];        // for each fake: how many real balls hold it (density); > 0: precision
        var realCovered = new bool[nReal];       // some fake within the real point's own ball (coverage)
        var realRecalled = new bool[nReal];      // within some fake point's ball (recall)
        Parallel.For(0, nReal, new ParallelOptions { MaxDegreeOfParallelism = QGenEngine.Kernels.Cpu.CpuParallel.Threads }, i =>
        {
            var ri = r.AsSpan(i * d, d);
            bool covered = false, recalled = false;
            for (int j = 0; j < nFake; j++)
            {
                double dist = FixedReduce.Distance(ri, f.AsSpan(j * d, d));
                if (dist < rRadius[i]) { Interlocked.Increment(ref fakeInBalls[j]); covered = true; }
                if (dist < fRadius[j]) recalled = true;
            }
            realCovered[i] = covered; realRecalled[i] = recalled;
        });
        return new PrdcScores(
            Precision: fakeInBalls.Count(c => c > 0) / (double)nFake,
            Recall: realRecalled.Count(x => x) / (double)nReal,
            Density: fakeInBalls.Sum(c => (double)c) / ((double)k * nFake),
            Coverage: realCovered.Count(x => x) / (double)nReal,
            K: k);
    }

    /// <summary>Each row's distance to its k-th nearest other row of the same set.</summary>
    private static double[] KthNeighbour(float[] x, int n, int d, int k)
    {
        var radius = new double[n];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = QGenEngine.Kernels.Cpu.CpuParallel.Threads }, () => new double[k], (i, _, best) =>
        {
            Array.Fill(best, double.PositiveInfinity);   // the k smallest so far, ascending
            var xi = x.AsSpan(i * d, d);
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double dist = FixedReduce.Distance(xi, x.AsSpan(j * d, d));
                if (dist >= best[k - 1]) continue;
                int p = k - 1;
                while (p > 0 && best[p - 1] > dist) { best[p] = best[p - 1]; p--; }
                best[p] = dist;
            }
            radius[i] = best[k - 1];
            return best;
        }, _ => { });
        return radius;
    }
}
