using System.Diagnostics;

namespace QGenEngine.Models.Metrics;

/// <summary>A reconstructing model on the test set: mean SSIM and BCE, and the mean SSIM of each class (null: no image of it).</summary>
public sealed record ReconstructionQuality(double Ssim, double Bce, double?[]? SsimPerClass);

/// <summary>The spread (sample standard deviation) of per-step scalars over the last epoch's steps.</summary>
public sealed record StepSpread(IReadOnlyList<(string Name, double Sd)> Scalars, int Steps)
{
    public double this[string name] => Scalars.First(s => s.Name == name).Sd;
}

/// <summary>
/// What `eval` measures of a trained run, by what its model can do: its samples (<see cref="SampleQuality"/> and the
/// sampling speed), its reconstructions, its accuracy, and the spread of its per-step scalars over the last epoch
/// (<see cref="Stability"/>: the ones the model says show whether training was stable).
/// </summary>
public sealed record RunScores(SampleQuality? Samples, double SamplingImagesPerSecond, ReconstructionQuality? Reconstruction, double? Accuracy,
                               StepSpread? LastEpoch, IReadOnlyList<string> Stability);

/// <summary>Evaluation of image sets and trained runs (the `metrics` and `eval` commands' computations).</summary>
public static class RunEvaluation
{
    /// <summary>FID of two image sets in the metric classifier's feature space.</summary>
    public static double Fid(Classifier clf, IDevice dev, ReadOnlySpan<float> a, int na, ReadOnlySpan<float> b, int nb)
    {
        const int d = Classifier.FeatureSize;
        return Frechet.Distance(Frechet.Fit(clf.Embed(dev, a, na).Features, na, d), Frechet.Fit(clf.Embed(dev, b, nb).Features, nb, d));
    }

    /// <summary>Inception Score of an image set under the metric classifier (10 splits).</summary>
    public static (double Mean, double Std) InceptionScore(Classifier clf, IDevice dev, ReadOnlySpan<float> images, int n) =>
        Metrics.InceptionScore.Compute(clf.Embed(dev, images, n).Probs, n, Classifier.Classes);

    /// <summary>Mean reconstruction SSIM and BCE over n images, and per class where labels are given.</summary>
    public static ReconstructionQuality Reconstruction(IReconstructive model, IDevice dev, ReadOnlySpan<float> images, int n, byte[]? labels)
    {
        var (bces, ssims) = Evaluation.ReconstructionScoresPerImage(model, dev, images, n);
        double?[]? perClass = labels is null ? null : Enumerable.Range(0, Classifier.Classes).Select(c =>
        {
            var idx = Enumerable.Range(0, n).Where(i => labels[i] == c).ToArray();
            return idx.Length == 0 ? (double?)null : idx.Average(i => ssims[i]);
        }).ToArray();
        return new ReconstructionQuality(ssims.Average(), bces.Average(), perClass);
    }

    /// <summary>The spread of every per-step scalar over a run's last epoch (steps.csv), or null with fewer than two steps logged.</summary>
    public static StepSpread? LastEpochSpread(string runDir)
    {
        var (cols, rows) = RunLogs.ReadSteps(runDir);
        if (rows.Count <= 1) return null;
        int last = (int)Math.Ceiling(rows[^1][1]) - 1;
        var tail = rows.Where(r => r[1] > last).ToList();
        var spread = new List<(string, double)>();
        for (int col = 2; col < cols.Length; col++)
        {
            double mean = tail.Average(r => r[col]);
            spread.Add((cols[col], Math.Sqrt(tail.Sum(r => (r[col] - mean) * (r[col] - mean)) / Math.Max(1, tail.Count - 1))));
        }
        return new StepSpread(spread, tail.Count);
    }

    /// <summary>
    /// A trained run scored by what its model can do: <paramref name="samples"/> generated images against the test set
    /// (seed 7), reconstructions of the test set, accuracy on it, and the last epoch's spread from the run's steps.csv.
    /// </summary>
    public static RunScores Evaluate(Module model, TrainOptions o, IDevice dev, string runDir, float[] test, int testCount, byte[]? testLabels, int samples)
    {
        SampleQuality? quality = null;
        double rate = double.NaN;
        if (model is IGenerative g)
        {
            var clf = MetricClassifier.Load(dev, o.Dataset);
            var sw = Stopwatch.StartNew();
            var images = Evaluation.Generate(g, dev, samples, 7);
            rate = samples / sw.Elapsed.TotalSeconds;
            var realFeatures = clf.Embed(dev, test, testCount).Features;
            quality = SampleQuality.Compute(clf, dev, realFeatures, testCount, testLabels, images, samples, seed: 7);
        }
        var reconstruction = model is IReconstructive r ? Reconstruction(r, dev, test, testCount, testLabels) : null;
        double? accuracy = null;
        if (model is IClassifying c)
        {
            var (dir, verify) = Data.DataSets.Resolve(o.Dataset, o.DataDir);
            accuracy = Evaluation.Accuracy(c, dev, Data.DataSets.Load(dir, "t10k", verify));
        }
        return new RunScores(quality, rate, reconstruction, accuracy, LastEpochSpread(runDir), (model as ITrainable)?.StabilityScalars ?? []);
    }
}
