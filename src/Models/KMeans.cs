namespace QGenEngine.Models;

/// <summary>
/// k-means: k-means++ seeding (each next centre drawn with probability ∝ its squared distance to the nearest chosen one,
/// on the host), then Lloyd's iterations on the device (assign by nearest code, average; an empty cluster keeps its centre).
/// </summary>
public static class KMeans
{
    public static Tensor Fit(Tensor data, int k, int iterations, ulong seed)
    {
        using var _ = Graph.NoGrad();
        var dev = data.Device;
        int m = data.Shape[0], d = data.Shape[1];
        if (m < k) throw new ArgumentException($"k-means: {m} vectors cannot seed {k} clusters");
        var centres = Tensor.FromArray(dev, PlusPlus(data.ToArray(), m, d, k, seed), k, d);
        var ones = Tensor.Ones(dev, m, 1);
        for (int it = 0; it < iterations; it++)
        {
            var codes = data.NearestCode(centres);
            var sums = Tensor.Zeros(dev, k, d);
            var counts = Tensor.Zeros(dev, k, 1);
            dev.IndexAdd(data, codes, sums);
            dev.IndexAdd(ones, codes, counts);
            var filled = counts.Clamp(0, 1);                          // 1 where the cluster has members
            var means = sums.Div(counts.Clamp(1, float.MaxValue));
            centres = means.Mul(filled).Add(centres.Mul(filled.Neg().Add(1f)));
        }
        return centres;
    }

    /// <summary>k-means++ seeding of k centres among m rows of x (m, d), by the counter-based generator (seed, draw).</summary>
    public static float[] PlusPlus(float[] x, int m, int d, int k, ulong seed)
    {
        var centres = new float[k * d];
        var best = new double[m];
        Array.Fill(best, double.PositiveInfinity);
        int pick = (int)(CounterRng.Hash(seed, 0) % (ulong)m);
        for (int c = 0; c < k; c++)
        {
            Array.Copy(x, (long)pick * d, centres, (long)c * d, d);
            double total = 0;
            for (int i = 0; i < m; i++)
            {
                double s = 0;
                for (int j = 0; j < d; j++) { double t = x[(long)i * d + j] - centres[(long)c * d + j]; s += t * t; }
                if (s < best[i]) best[i] = s;
                total += best[i];
            }
            if (c + 1 == k) break;
            double u = (CounterRng.Hash(seed, (ulong)c + 1) >> 11) * (1.0 / (1UL << 53)) * total, acc = 0;
            pick = m - 1;
            for (int i = 0; i < m; i++) { acc += best[i]; if (acc > u) { pick = i; break; } }
        }
        return centres;
    }
}
