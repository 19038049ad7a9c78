namespace QGenEngine.Models.Metrics;

/// <summary>One class's share of the samples (as the metric classifier labels them) and their FID against that class's test images.</summary>
/// <param name="Fid">null when fewer than <see cref="SampleQuality.MinPerClass"/> samples fell in the class (an FID of a few samples is mostly bias)</param>
public sealed record ClassQuality(int Class, double Share, int Count, double? Fid);

/// <summary>
/// A generative model's samples scored in depth (`eval`, the study report): FID, IS and modes; FID's own sampling
/// noise (the sd of FID over bootstrap resamples of the samples, the reference fixed) to set beside the seed-to-seed
/// spread; precision / recall / density / coverage (fidelity and diversity apart); and per class the share of samples
/// and their FID against that class's test images (the report claims the quantum models helped digits 3, 5 and 8).
/// </summary>
public sealed record SampleQuality(GenerativeScores Scores, double FidBootstrapSd, int Bootstraps, PrdcScores Prdc, ClassQuality[] PerClass)
{
    public const int MinPerClass = 200, DefaultBootstraps = 20;

    /// <param name="realFeatures">the metric classifier's features of the reference (test) images, (nReal, 128)</param>
    /// <param name="realLabels">their labels (per-class FID); null skips per-class FID</param>
    public static SampleQuality Compute(Classifier clf, QGenEngine.Tensors.IDevice dev, float[] realFeatures, int nReal, byte[]? realLabels,
                                        ReadOnlySpan<float> images, int n, ulong seed, int bootstraps = DefaultBootstraps)
    {
        const int d = Classifier.FeatureSize;
        var (feats, probs) = clf.Embed(dev, images, n);
        var reference = Frechet.Fit(realFeatures, nReal, d);
        double fid = Frechet.Distance(reference, Frechet.Fit(feats, n, d));
        var (isMean, isStd) = InceptionScore.Compute(probs, n, Classifier.Classes, Math.Min(10, n));
        var modes = ModeStats.FromProbabilities(probs, n);

        // FID's sampling noise: resample the n samples with replacement, the reference fixed.
        var fids = new double[bootstraps];
        var resampled = new float[n * d];
        for (int b = 0; b < bootstraps; b++)
        {
            ulong s = QGenEngine.Tensors.CounterRng.Derive(seed, (ulong)b);
            for (int i = 0; i < n; i++)
            {
                int j = (int)(QGenEngine.Tensors.CounterRng.Hash(s, (ulong)i) % (ulong)n);
                feats.AsSpan(j * d, d).CopyTo(resampled.AsSpan(i * d, d));
            }
            fids[b] = Frechet.Distance(reference, Frechet.Fit(resampled, n, d));
        }
        double sd = bootstraps > 1 ? Statistics.Summarise(fids).Sd : double.NaN;

        var prdc = Metrics.Prdc.Compute(realFeatures, nReal, feats, n, d);

        var classOf = Enumerable.Range(0, n).Select(i => Evaluation.ArgMax(probs.AsSpan(i * Classifier.Classes, Classifier.Classes))).ToArray();
        var perClass = new ClassQuality[Classifier.Classes];
        for (int c = 0; c < Classifier.Classes; c++)
        {
            var fake = Rows(feats, d, Enumerable.Range(0, n).Where(i => classOf[i] == c).ToArray());
            int count = fake.Length / d;
            double? classFid = null;
            if (realLabels is not null && count >= MinPerClass)
            {
                var real = Rows(realFeatures, d, Enumerable.Range(0, nReal).Where(i => realLabels[i] == c).ToArray());
                if (real.Length / d >= 2) classFid = Frechet.Distance(Frechet.Fit(real, real.Length / d, d), Frechet.Fit(fake, count, d));
            }
            perClass[c] = new ClassQuality(c, count / (double)n, count, classFid);
        }
        return new SampleQuality(new GenerativeScores(fid, isMean, isStd, modes, n), sd, bootstraps, prdc, perClass);
    }

    private static float[] Rows(float[] x, int d, int[] rows)
    {
        var r = new float[rows.Length * d];
        for (int i = 0; i < rows.Length; i++) x.AsSpan(rows[i] * d, d).CopyTo(r.AsSpan(i * d, d));
        return r;
    }
}
