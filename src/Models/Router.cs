using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace QGenEngine.Models;

/// <summary>What the router's difficulty estimator reads: the image through a tiny CNN, or cheap statistics of it through a linear model.</summary>
public enum EstimatorKind { Cnn, Linear }

/// <summary>
/// Cheap statistics of 28×28 images in [0, 1], computed on the host in one pass over the pixels: ink (mean, mean
/// square, share above 0.5, share of grey pixels in (0.1, 0.9)), the bounding box of pixels above 0.1, the ink's
/// centroid and second moments, total variation, threshold crossings per row and column, and the row and column
/// ink profiles (28 + 28). About 15 operations per pixel.
/// </summary>
public static class ImageStatistics
{
    private const int S = 28, Px = S * S;
    public static readonly string[] Names =
    [
        "ink", "ink_sq", "on", "grey", "height", "width", "centroid_y", "centroid_x", "var_y", "var_x", "cov_yx",
        "total_variation", "row_crossings", "col_crossings",
        .. Enumerable.Range(0, S).Select(r => $"row_{r}"), .. Enumerable.Range(0, S).Select(c => $"col_{c}"),
    ];
    public static int Count => Names.Length;

    /// <summary>Approximate floating-point operations per image (for the estimator's cost).</summary>
    public const long FlopsPerImage = 15L * Px;

    /// <summary>The statistics of n images, (n, <see cref="Count"/>) row-major.</summary>
    public static float[] Compute(ReadOnlySpan<float> pixels, int n)
    {
        if (pixels.Length < n * Px) throw new ArgumentException($"{pixels.Length} pixels hold fewer than {n} images of 28×28");
        int f = Count;
        var o = new float[n * f];
        for (int i = 0; i < n; i++) Compute(pixels.Slice(i * Px, Px), o.AsSpan(i * f, f));
        return o;
    }

    private static void Compute(ReadOnlySpan<float> p, Span<float> o)
    {
        double ink = 0, sq = 0, my = 0, mx = 0, yy = 0, xx = 0, yx = 0, tv = 0;
        int on = 0, grey = 0, top = S, bottom = -1, left = S, right = -1, rowCross = 0, colCross = 0;
        Span<float> rows = stackalloc float[S], cols = stackalloc float[S];
        rows.Clear(); cols.Clear();
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                float v = p[y * S + x];
                ink += v; sq += v * v; my += v * y; mx += v * x; yy += v * y * y; xx += v * x * x; yx += v * y * x;
                rows[y] += v; cols[x] += v;
                if (v > 0.5f) on++;
                if (v > 0.1f)
                {
                    if (v < 0.9f) grey++;
                    top = Math.Min(top, y); bottom = Math.Max(bottom, y); left = Math.Min(left, x); right = Math.Max(right, x);
                }
                if (x > 0) { tv += Math.Abs(v - p[y * S + x - 1]); if ((v > 0.5f) != (p[y * S + x - 1] > 0.5f)) rowCross++; }
                if (y > 0) { tv += Math.Abs(v - p[(y - 1) * S + x]); if ((v > 0.5f) != (p[(y - 1) * S + x] > 0.5f)) colCross++; }
            }
        double w = Math.Max(ink, 1e-6);
        double cy = my / w, cx = mx / w;
        o[0] = (float)(ink / Px); o[1] = (float)(sq / Px); o[2] = on / (float)Px; o[3] = grey / (float)Px;
        o[4] = bottom < 0 ? 0 : (bottom - top + 1) / (float)S; o[5] = right < 0 ? 0 : (right - left + 1) / (float)S;
        o[6] = (float)(cy / S); o[7] = (float)(cx / S);
        o[8] = (float)((yy / w - cy * cy) / (S * S)); o[9] = (float)((xx / w - cx * cx) / (S * S)); o[10] = (float)((yx / w - cy * cx) / (S * S));
        o[11] = (float)(tv / Px); o[12] = rowCross / (float)S; o[13] = colCross / (float)S;
        for (int r = 0; r < S; r++) { o[14 + r] = rows[r] / S; o[14 + S + r] = cols[r] / S; }
    }
}

/// <summary>
/// The adaptive router's difficulty estimator (MODELS.md, `route`): from an image it predicts how hard that image is
/// for the classical model - the standardised log of the classical model's reconstruction BCE of it (nats per image;
/// the log because the BCE is skewed, a long tail of hard digits; ranks are unchanged). Two estimators:
/// <list type="bullet">
/// <item><c>cnn</c>: Conv2d(1→8, k3 s2 p1) + ReLU → Conv2d(8→16, k3 s2 p1) + ReLU → Flatten 784 → Linear(784→1); ~143 kFLOP an image.</item>
/// <item><c>linear</c>: Linear(70→1) on <see cref="ImageStatistics"/>, standardised by the training set's mean and std.</item>
/// </list>
/// The targets are computed once from the classical run (<c>difficulty-train.npy</c>, <c>difficulty-test.npy</c> in the
/// router's run directory, checked against the classical checkpoint's SHA-256 in <c>difficulty.json</c>). The classical
/// and quantum runs are the router's options, not part of its checkpoint: `route` loads them from their run directories.
/// state_dict: <c>estimator.*</c> (cnn: estimator.0, .2, .5; linear: estimator.weight/bias), <c>feature_mean</c>,
/// <c>feature_std</c>, <c>target_mean</c>, <c>target_std</c>.
/// </summary>
public sealed class Router : Module, ITrainable, IPrepared
{
    public const string TrainCache = "difficulty-train.npy", TestCache = "difficulty-test.npy", CacheInfo = "difficulty.json";
    /// <summary>The models a router chooses between: those that reconstruct their input through a latent (the VAE family).</summary>
    public static readonly string[] VaeFamily = ["vae", "qvae", "vae-attn"];

    public EstimatorKind Kind { get; }
    private readonly Layer _net;
    private readonly Tensor _featMean, _featStd, _targetMean, _targetStd;
    private readonly IDevice _dev;
    private float[]? _trainTargets, _testBce;
    private Tensor? _batchTargets;

    public Router(IDevice dev, ulong seed, EstimatorKind kind)
    {
        _dev = dev; Kind = kind;
        var rng = new Generator(CounterRng.Derive(seed, 0x2047E));
        _net = Child<Layer>("estimator", kind == EstimatorKind.Cnn
            ? new Sequential(new Conv2d(dev, rng, 1, 8, 3, 2, 1), Lambda.ReLU(),    // 8x14x14
                             new Conv2d(dev, rng, 8, 16, 3, 2, 1), Lambda.ReLU(),   // 16x7x7
                             Lambda.Flatten(), new Linear(dev, rng, 784, 1))
            : new Linear(dev, rng, ImageStatistics.Count, 1));
        int f = kind == EstimatorKind.Linear ? ImageStatistics.Count : 1;
        _featMean = Buffer("feature_mean", Tensor.Zeros(dev, f));
        _featStd = Buffer("feature_std", Tensor.FromArray(dev, Enumerable.Repeat(1f, f).ToArray(), f));
        _targetMean = Buffer("target_mean", Tensor.Zeros(dev, 1));
        _targetStd = Buffer("target_std", Tensor.FromArray(dev, [1f], 1));
    }

    public static EstimatorKind ParseEstimator(string s) => s switch
    {
        "cnn" => EstimatorKind.Cnn, "linear" => EstimatorKind.Linear,
        _ => throw new ArgumentException($"'{s}'; expected cnn or linear"),
    };

    /// <summary>Floating-point operations of one image's estimate (multiply-adds count two).</summary>
    public long FlopsPerImage => Kind == EstimatorKind.Cnn
        ? 2L * (14 * 14 * 8 * 9 + 7 * 7 * 16 * 8 * 9 + 784)
        : ImageStatistics.FlopsPerImage + 2L * ImageStatistics.Count;

    /// <summary>The estimate of images (n, 1, 28, 28): standardised log classical BCE (n); with a graph if one is recorded.</summary>
    public Tensor Score(Tensor images)
    {
        int n = images.Shape[0];
        if (Kind == EstimatorKind.Cnn) return _net.Forward(images).Reshape(n);
        int f = ImageStatistics.Count;
        var stats = ImageStatistics.Compute(images.ToArray(), n);
        var mean = _featMean.ToArray(); var std = _featStd.ToArray();
        for (int i = 0; i < n; i++)
            for (int k = 0; k < f; k++) stats[i * f + k] = (stats[i * f + k] - mean[k]) / std[k];
        return _net.Forward(Tensor.FromArray(_dev, stats, n, f)).Reshape(n);
    }

    /// <summary>Estimates of the first n images of a host array, in chunks, eval mode.</summary>
    public float[] Scores(ReadOnlySpan<float> pixels, int n)
    {
        var o = new float[n];
        const int chunk = 500;
        for (int s = 0; s < n; s += chunk)
        {
            int m = Math.Min(chunk, n - s);
            using var _ = TensorScope.Begin();
            var t = Tensor.FromArray(_dev, pixels.Slice(s * 784, m * 784), m, 1, 28, 28);
            ModelMode.Eval(this, () => Score(t)).CopyTo(o.AsSpan(s, m));
        }
        return o;
    }

    // ---- options: the two runs ----------------------------------------------------------------------------
    /// <summary>
    /// A new router run's options, checked: its classical and quantum runs are trained VAE-family runs on the dataset the
    /// router trains on; their paths are made absolute (config.json keeps them for `route`).
    /// </summary>
    public static TrainOptions Resolve(TrainOptions o)
    {
        string c = CheckRun(o.Get(ClassicalRun), ClassicalRun.Ref), q = CheckRun(o.Get(QuantumRun), QuantumRun.Ref);
        var co = ModelCatalog.ReadOptions(c); var qo = ModelCatalog.ReadOptions(q);
        if ((co.Dataset, co.DataDir) != (qo.Dataset, qo.DataDir))
            throw new ArgumentException($"{ClassicalRun.Ref} {c} was trained on {co.DataDir ?? co.Dataset} but {QuantumRun.Ref} {q} on {qo.DataDir ?? qo.Dataset}; a router compares two models of one dataset");
        if ((co.Dataset, co.DataDir) != (o.Dataset, o.DataDir))
            throw new ArgumentException($"{ClassicalRun.Ref} {c} was trained on {co.DataDir ?? co.Dataset}, the router would train on {o.DataDir ?? o.Dataset}; pass {TrainSettings.Dataset.Ref}/{TrainSettings.DataDir.Ref} to match");
        return o.With(ClassicalRun, c).With(QuantumRun, q);
    }

    /// <summary>The router's own settings: the two runs it chooses between, and its estimator.</summary>
    public static readonly Setting<string?> ClassicalRun = Setting.OfPath("classical_run", "the classical model's run directory (vae, qvae or vae-attn)", "a vae, qvae or vae-attn run directory");
    public static readonly Setting<string?> QuantumRun = Setting.OfPath("quantum_run", "the quantum model's run directory (vae, qvae or vae-attn)", "a vae, qvae or vae-attn run directory");
    public static readonly Setting<string> Estimator = new("estimator", "cnn", "cnn (a tiny CNN on the image) | linear (a linear model on cheap image statistics)",
        v => CircuitSettings.Parses(() => ParseEstimator(v)));

    public static IReadOnlyList<Setting> Settings { get; } = [ClassicalRun, QuantumRun, Estimator];

    /// <summary>The absolute path of a VAE-family run directory with a checkpoint, or a one-line error naming the option.</summary>
    public static string CheckRun(string? dir, string option)
    {
        if (string.IsNullOrEmpty(dir)) throw new ArgumentException($"train router needs {option} RUN: the run directory of a trained {string.Join(", ", VaeFamily)}");
        var cfg = Path.Combine(dir, Trainer.ConfigFile);
        if (!File.Exists(cfg)) throw new ArgumentException($"{option} {dir}: no {Trainer.ConfigFile}; expected the run directory of a `qgen-engine train` ({string.Join(", ", VaeFamily)})");
        var ro = ModelCatalog.ReadOptions(dir);
        if (!VaeFamily.Contains(ro.Model)) throw new ArgumentException($"{option} {dir}: a '{ro.Model}' run; the router chooses between VAE-family models ({string.Join(", ", VaeFamily)})");
        if (!File.Exists(Path.Combine(dir, Trainer.CheckpointFile))) throw new ArgumentException($"{option} {dir}: no {Trainer.CheckpointFile}; train it for an epoch first");
        return Path.GetFullPath(dir);
    }

    // ---- preparing: the classical model's per-image difficulty, once ------------------------------------------
    public void Prepare(TrainingContext c)
    {
        string ckpt = Path.Combine(c.Options.Get(ClassicalRun)!, Trainer.CheckpointFile);
        string sha = Sha256(ckpt);
        var infoPath = Path.Combine(c.RunDir, CacheInfo);
        bool stale = false;
        if (File.Exists(infoPath))
        {
            var info = JsonNode.Parse(File.ReadAllText(infoPath))!;
            stale = info["classical_sha256"]?.GetValue<string>() != sha;
            if (stale) c.Log?.Invoke($"router: {ckpt} changed since its losses were cached; computing them again");
        }
        IReconstructive? classical = null;
        IReconstructive Classical() => classical ??= (IReconstructive)ModelCatalog.LoadRun(c.Options.Get(ClassicalRun)!, _dev).Model;
        var train = DifficultyCache(Path.Combine(c.RunDir, TrainCache), c.Train, stale, Classical, c.Log);
        _testBce = DifficultyCache(Path.Combine(c.RunDir, TestCache), c.Test, stale, Classical, c.Log);
        QGenEngine.Autograd.AtomicFile.WriteText(infoPath, new JsonObject { ["classical"] = c.Options.Get(ClassicalRun), ["classical_sha256"] = sha }.ToJsonString());

        SetTargets(c.Train.Pixels, train);
    }

    /// <summary>
    /// The training targets from the classical BCE of each training image, with the target standardisation and the linear
    /// estimator's feature standardisation taken from the training set: the same numbers on every start, so a resumed
    /// run continues bit for bit.
    /// </summary>
    private void SetTargets(ReadOnlySpan<float> pixels, float[] trainBce)
    {
        var logs = trainBce.Select(b => Math.Log(b)).ToArray();
        double mean = logs.Average(), std = Math.Max(1e-6, Math.Sqrt(logs.Sum(v => (v - mean) * (v - mean)) / logs.Length));
        _targetMean.CopyFrom([(float)mean]); _targetStd.CopyFrom([(float)std]);
        _trainTargets = logs.Select(v => (float)((v - mean) / std)).ToArray();
        if (Kind == EstimatorKind.Linear) SetFeatureStandardisation(pixels, trainBce.Length);
    }

    private void SetFeatureStandardisation(ReadOnlySpan<float> pixels, int n)
    {
        int f = ImageStatistics.Count;
        var stats = ImageStatistics.Compute(pixels, n);
        var mean = new float[f]; var std = new float[f];
        for (int k = 0; k < f; k++)
        {
            double m = 0, v = 0;
            for (int i = 0; i < n; i++) m += stats[i * f + k];
            m /= n;
            for (int i = 0; i < n; i++) v += (stats[i * f + k] - m) * (stats[i * f + k] - m);
            mean[k] = (float)m; std[k] = (float)Math.Max(Math.Sqrt(v / n), 1e-6);
        }
        _featMean.CopyFrom(mean); _featStd.CopyFrom(std);
    }

    private float[] DifficultyCache(string path, ImageSet set, bool stale, Func<IReconstructive> model, Action<string>? log)
    {
        if (File.Exists(path) && !stale)
        {
            var (data, shape) = Npy.Read(path);
            if (shape.Length != 1 || shape[0] != set.Count)
                throw new FormatException($"{path}: holds losses of shape ({string.Join(", ", shape)}), expected ({set.Count}) for {set.Source}; delete it to compute them again");
            if (data.Any(v => !(v > 0) || float.IsInfinity(v)))
                throw new FormatException($"{path}: holds a loss that is not a positive number; delete it to compute them again");
            return data;
        }
        var (_, bce) = Evaluation.Reconstruct(model(), _dev, set.Pixels, set.Count);
        var f = bce.Select(b => (float)b).ToArray();
        Npy.Write(path, f, set.Count);
        log?.Invoke($"router: the classical model's reconstruction BCE of {set.Count:N0} images of {set.Source} ({Path.GetFileName(path)})");
        return f;
    }

    public static string Sha256(string path)
    {
        using var s = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(s));
    }

    // ---- training ----------------------------------------------------------------------------------------
    public IReadOnlyList<(string Name, Module Module, string Prefix)> Parts => [("estimator", _net, "estimator.")];

    /// <summary>mse: mean squared error of the standardised log BCE.</summary>
    public IReadOnlyList<string> Scalars { get; } = ["mse"];

    public string? ScalarFormat(string name) => name == "test_spearman" ? "F4" : null;

    public Tensor[] TrainStep(Batch batch, Parts parts)
    {
        if (_trainTargets is null) throw new InvalidOperationException("the router's targets are not loaded (Prepare was not called)");
        if (batch.Indices is null) throw new ArgumentException("the router trains on cached losses and needs the batch's image indices");
        int b = batch.Size;
        if (_batchTargets is null || _batchTargets.Shape[0] != b) _batchTargets = TensorScope.Persist(Tensor.Empty(_dev, b));
        var host = new float[b];
        for (int i = 0; i < b; i++) host[i] = _trainTargets[batch.Indices[i]];
        _batchTargets.CopyFrom(host);
        var mse = Score(batch.Images).Mse(_batchTargets);
        parts["estimator"].Minimize(mse);
        return [mse];
    }

    /// <summary>Spearman's rank correlation of the estimate with the classical model's true BCE on the first n test images.</summary>
    public IReadOnlyList<(string Name, double Value)> Validate(ImageSet test, int n)
    {
        if (_testBce is null) return [];
        n = Math.Min(n, test.Count);
        var s = Scores(test.Pixels, n);
        return [("test_spearman", Ranking.Spearman(s.Select(v => (double)v).ToArray(), _testBce.Take(n).Select(v => (double)v).ToArray()))];
    }
}
