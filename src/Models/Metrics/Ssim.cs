namespace QGenEngine.Models.Metrics;

/// <summary>
/// SSIM (Wang, Bovik, Sheikh, Simoncelli 2004) as METRICS.md fixes it: Gaussian window 11×11, σ = 1.5,
/// K1 = 0.01, K2 = 0.03, data range 1, population covariances, mean of the map over the valid region
/// (scikit-image's structural_similarity with gaussian_weights=True, use_sample_covariance=False).
/// </summary>
public static class Ssim
{
    private const int Radius = 5;
    private static readonly double[] Kernel = MakeKernel();

    private static double[] MakeKernel()
    {
        var k = new double[2 * Radius + 1];
        double s = 0;
        for (int i = -Radius; i <= Radius; i++) s += k[i + Radius] = Math.Exp(-i * i / (2 * 1.5 * 1.5));
        for (int i = 0; i < k.Length; i++) k[i] /= s;
        return k;
    }

    /// <summary>SSIM of two h×w images with values in [0, 1], in double precision.</summary>
    public static double Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int h, int w, double dataRange = 1.0)
    {
        if (a.Length != h * w || b.Length != h * w) throw new ArgumentException($"SSIM needs two {h}×{w} images, got {a.Length} and {b.Length} values");
        if (h < 2 * Radius + 1 || w < 2 * Radius + 1) throw new ArgumentException($"SSIM's 11×11 window does not fit a {h}×{w} image");
        double c1 = Math.Pow(0.01 * dataRange, 2), c2 = Math.Pow(0.03 * dataRange, 2);
        int oh = h - 2 * Radius, ow = w - 2 * Radius;
        // Separable valid filtering of x, y, x², y², xy: rows first, then columns.
        var rows = new double[5, h, ow];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < ow; x++)
            {
                double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
                for (int k = 0; k <= 2 * Radius; k++)
                {
                    double va = a[y * w + x + k], vb = b[y * w + x + k], g = Kernel[k];
                    sa += g * va; sb += g * vb; saa += g * va * va; sbb += g * vb * vb; sab += g * va * vb;
                }
                rows[0, y, x] = sa; rows[1, y, x] = sb; rows[2, y, x] = saa; rows[3, y, x] = sbb; rows[4, y, x] = sab;
            }
        double total = 0;
        Span<double> m = stackalloc double[5];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                for (int c = 0; c < 5; c++)
                {
                    double s = 0;
                    for (int k = 0; k <= 2 * Radius; k++) s += Kernel[k] * rows[c, y + k, x];
                    m[c] = s;
                }
                double mx = m[0], my = m[1], vx = m[2] - mx * mx, vy = m[3] - my * my, cxy = m[4] - mx * my;
                total += (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
            }
        return total / (oh * ow);
    }
}
