namespace QGenEngine.Models.Metrics;

/// <summary>The class histogram of a set of images as the metric classifier labels them (mode collapse shows here).</summary>
/// <param name="Histogram">share of the images per class (sums to 1)</param>
/// <param name="Modes">classes holding at least 10 % of their uniform share (≥ 1 % of the images for 10 classes)</param>
/// <param name="Kl">KL(histogram ‖ uniform) in nats: 0 when every class is equally common, ln 10 for one class</param>
public sealed record ModeStats(double[] Histogram, int Modes, double Kl)
{
    public const double CoveredFraction = 0.1;

    public static ModeStats FromProbabilities(ReadOnlySpan<float> probs, int n, int classes = Classifier.Classes)
    {
        var h = new double[classes];
        for (int i = 0; i < n; i++) h[Evaluation.ArgMax(probs.Slice(i * classes, classes))]++;
        for (int c = 0; c < classes; c++) h[c] /= n;
        double kl = 0;
        foreach (double p in h) if (p > 0) kl += p * Math.Log(p * classes);
        return new ModeStats(h, h.Count(p => p >= CoveredFraction / classes), kl);
    }

    /// <summary>Classes covered in <paramref name="before"/> that this histogram no longer covers.</summary>
    public int[] Lost(double[] before) =>
        Enumerable.Range(0, Histogram.Length).Where(c => before[c] >= CoveredFraction / before.Length && Histogram[c] < CoveredFraction / Histogram.Length).ToArray();
}

/// <summary>FID, IS and modes of one set of generated images.</summary>
public sealed record GenerativeScores(double Fid, double Is, double IsStd, ModeStats Modes, int Count);

/// <summary>
/// Evaluation over what a model can do (generate, reconstruct, classify), for the trainer, `eval`,
/// `sample` and `metrics` alike. Images are 28×28 floats in [0, 1], row-major, one after another.
/// </summary>
public static class Evaluation
{
    public const string FidNote = "FID here uses the MNIST metric classifier's 128-d features, not Inception's: not comparable with Inception-FID figures";
    private const int Px = 784, Chunk = 500;

    /// <summary>Images from given latents (n, latent), in chunks, on the model's device.</summary>
    public static float[] Generate(IGenerative model, IDevice dev, ReadOnlySpan<float> latents, int n)
    {
        int l = model.LatentSize;
        if (latents.Length != n * l) throw new ArgumentException($"latents hold {latents.Length} values; {n} vectors of {l} expected");
        return ImagesInChunks(dev, latents, n, l, model.Generate);
    }

    /// <summary>Images from a circuit generator's readouts (n, 2^q) - probabilities measured on a device - in chunks.</summary>
    public static float[] GenerateFromReadout(ICircuitGenerator model, IDevice dev, ReadOnlySpan<float> readouts, int n)
    {
        int w = model.GeneratingCircuit?.Circuit.Dim ?? throw new ArgumentException("the model has no generating circuit");
        if (readouts.Length != n * w) throw new ArgumentException($"readouts hold {readouts.Length} values; {n} vectors of {w} expected");
        return ImagesInChunks(dev, readouts, n, w, model.GenerateFromReadout);
    }

    /// <summary>Images (n, 1, 28, 28) made from rows of <paramref name="width"/> inputs, Chunk rows at a time, each chunk in its own tensor scope.</summary>
    private static float[] ImagesInChunks(IDevice dev, ReadOnlySpan<float> inputs, int n, int width, Func<Tensor, Tensor> make)
    {
        var images = new float[n * Px];
        for (int s = 0; s < n; s += Chunk)
        {
            int m = Math.Min(Chunk, n - s);
            using var scope = TensorScope.Begin();
            make(Tensor.FromArray(dev, inputs.Slice(s * width, m * width), m, width)).CopyTo(images.AsSpan(s * Px, m * Px));
        }
        return images;
    }

    /// <summary>The input angles (n, q) of a model's image-fed circuit for the first n images, in chunks.</summary>
    public static float[] CircuitInputs(ICircuitReconstructor model, IDevice dev, ReadOnlySpan<float> images, int n)
    {
        int q = model.InputCircuit?.Circuit.InputCount ?? throw new ArgumentException("the model has no circuit fed by images");
        var angles = new float[n * q];
        for (int s = 0; s < n; s += Chunk)
        {
            int m = Math.Min(Chunk, n - s);
            using var scope = TensorScope.Begin();
            model.CircuitInputs(Tensor.FromArray(dev, images.Slice(s * Px, m * Px), m, 1, 28, 28)).CopyTo(angles.AsSpan(s * q, m * q));
        }
        return angles;
    }

    /// <summary>Each of the first n images' reconstruction BCE and SSIM with the circuit's readout made from given probabilities (n, 2^q) - measured on a device.</summary>
    public static (double[] Bce, double[] Ssim) ReconstructionScoresFromProbabilities(ICircuitReconstructor model, IDevice dev, ReadOnlySpan<float> images,
                                                                                      ReadOnlySpan<float> probabilities, int n)
    {
        int w = model.InputCircuit?.Circuit.Dim ?? throw new ArgumentException("the model has no circuit fed by images");
        if (probabilities.Length != n * w) throw new ArgumentException($"probabilities hold {probabilities.Length} values; {n} vectors of {w} expected");
        var bce = new double[n];
        var ssim = new double[n];
        for (int s = 0; s < n; s += Chunk)
        {
            int m = Math.Min(Chunk, n - s);
            using var scope = TensorScope.Begin();
            var (r, b) = model.ReconstructFromProbabilities(Tensor.FromArray(dev, images.Slice(s * Px, m * Px), m, 1, 28, 28),
                                                            Tensor.FromArray(dev, probabilities.Slice(s * w, m * w), m, w));
            var rh = r.ToArray(); var bh = b.ToArray();
            for (int i = 0; i < m; i++)
            {
                bce[s + i] = bh[i];
                ssim[s + i] = Ssim.Compute(images.Slice((s + i) * Px, Px), rh.AsSpan(i * Px, Px), 28, 28);
            }
        }
        return (bce, ssim);
    }

    /// <summary>n images from the model's prior, seeded: the same seed gives the same latents on every device.</summary>
    public static float[] Generate(IGenerative model, IDevice dev, int n, ulong seed) => Generate(model, dev, Latents(model, dev, n, seed), n);

    /// <summary>The latents <see cref="Generate(IGenerative, IDevice, int, ulong)"/> uses, as a host array (n, latent).</summary>
    public static float[] Latents(IGenerative model, IDevice dev, int n, ulong seed)
    {
        using var scope = TensorScope.Begin();
        return model.SampleLatents(dev, n, seed).ToArray();
    }

    /// <summary>Each image's BCE (nats, summed over its pixels) of logits against targets (n, ...): a tensor (n).</summary>
    public static Tensor BcePerImage(Tensor logits, Tensor x) =>
        logits.BceWithLogits(x, Reduction.None).Reshape(x.Shape[0], (int)(x.Numel / x.Shape[0])).Sum([1]);

    /// <summary>Reconstructions of n images and each one's BCE summed over its pixels.</summary>
    public static (float[] Images, double[] Bce) Reconstruct(IReconstructive model, IDevice dev, ReadOnlySpan<float> images, int n)
    {
        var recon = new float[n * Px];
        var bce = new double[n];
        for (int s = 0; s < n; s += Chunk)
        {
            int m = Math.Min(Chunk, n - s);
            using var scope = TensorScope.Begin();
            var (r, b) = model.Reconstruct(Tensor.FromArray(dev, images.Slice(s * Px, m * Px), m, 1, 28, 28));
            r.CopyTo(recon.AsSpan(s * Px, m * Px));
            var bh = b.ToArray();
            for (int i = 0; i < m; i++) bce[s + i] = bh[i];
        }
        return (recon, bce);
    }

    /// <summary>Each of the first n images' reconstruction BCE (nats) and SSIM: what the router's policies choose between.</summary>
    public static (double[] Bce, double[] Ssim) ReconstructionScoresPerImage(IReconstructive model, IDevice dev, ReadOnlySpan<float> images, int n)
    {
        var (recon, bce) = Reconstruct(model, dev, images, n);
        var ssim = new double[n];
        for (int i = 0; i < n; i++) ssim[i] = Ssim.Compute(images.Slice(i * Px, Px), recon.AsSpan(i * Px, Px), 28, 28);
        return (bce, ssim);
    }

    /// <summary>Mean reconstruction BCE (nats per image) and mean SSIM of the first n images.</summary>
    public static (double Bce, double Ssim) ReconstructionScores(IReconstructive model, IDevice dev, ReadOnlySpan<float> images, int n)
    {
        var (bce, ssim) = ReconstructionScoresPerImage(model, dev, images, n);
        return (bce.Sum() / n, ssim.Sum() / n);
    }

    /// <summary>rows pairs of images (2·rows of them); between their latent codes, `steps` decoded images each (endpoints included).</summary>
    public static float[] Interpolate(IReconstructive encoder, IGenerative model, IDevice dev, ReadOnlySpan<float> pairs, int rows, int steps)
    {
        float[] mu;
        using (TensorScope.Begin()) mu = encoder.Encode(Tensor.FromArray(dev, pairs[..(2 * rows * Px)], 2 * rows, 1, 28, 28)).ToArray();
        int l = model.LatentSize;
        var z = new float[rows * steps * l];
        for (int r = 0; r < rows; r++)
            for (int s = 0; s < steps; s++)
            {
                float t = steps == 1 ? 0 : s / (float)(steps - 1);
                for (int k = 0; k < l; k++) z[(r * steps + s) * l + k] = (1 - t) * mu[2 * r * l + k] + t * mu[(2 * r + 1) * l + k];
            }
        return Generate(model, dev, z, rows * steps);
    }

    // ---- scores of generated images against a reference set -----------------------------------------
    private static readonly Dictionary<(string, int), Frechet.Stats> ReferenceCache = new();

    /// <summary>The metric classifier's feature statistics of a reference set (cached per process by key and count).</summary>
    public static Frechet.Stats ReferenceStats(Classifier clf, IDevice dev, string key, ReadOnlySpan<float> images, int n)
    {
        lock (ReferenceCache)
        {
            if (ReferenceCache.TryGetValue((key, n), out var s)) return s;
            var f = clf.Embed(dev, images, n).Features;
            return ReferenceCache[(key, n)] = Frechet.Fit(f, n, Classifier.FeatureSize);
        }
    }

    /// <summary>FID against the reference statistics, IS (10 splits, fewer for small sets) and the class histogram of n images.</summary>
    public static GenerativeScores Score(Classifier clf, IDevice dev, Frechet.Stats reference, ReadOnlySpan<float> images, int n)
    {
        var (feats, probs) = clf.Embed(dev, images, n);
        double fid = Frechet.Distance(reference, Frechet.Fit(feats, n, Classifier.FeatureSize));
        var (isMean, isStd) = InceptionScore.Compute(probs, n, Classifier.Classes, Math.Min(10, n));
        return new GenerativeScores(fid, isMean, isStd, ModeStats.FromProbabilities(probs, n), n);
    }

    /// <summary>The index of the largest value (the lowest on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int arg = 0;
        for (int c = 1; c < v.Length; c++) if (v[c] > v[arg]) arg = c;
        return arg;
    }

    /// <summary>The share of the first n images of a labelled set that the model classifies correctly.</summary>
    public static double Accuracy(IClassifying model, IDevice dev, QGenEngine.Models.Data.ImageSet set, int n = int.MaxValue)
    {
        n = Math.Min(n, set.Count);
        int right = 0;
        for (int s = 0; s < n; s += Chunk)
        {
            int m = Math.Min(Chunk, n - s);
            using var scope = TensorScope.Begin();
            var probs = model.Probabilities(Tensor.FromArray(dev, set.Pixels.AsSpan(s * Px, m * Px), m, 1, 28, 28)).ToArray();
            int classes = probs.Length / m;
            for (int i = 0; i < m; i++) if (ArgMax(probs.AsSpan(i * classes, classes)) == set.Labels[s + i]) right++;
        }
        return right / (double)n;
    }

    /// <summary>The class histogram of n images under the metric classifier.</summary>
    public static ModeStats Modes(Classifier clf, IDevice dev, ReadOnlySpan<float> images, int n) =>
        ModeStats.FromProbabilities(clf.Embed(dev, images, n).Probs, n);
}
