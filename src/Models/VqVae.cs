using System.Text.Json.Nodes;

namespace QGenEngine.Models;

/// <summary>
/// The VQ-VAE's settings (MODELS.md: K = 512 codes of D = 64, commitment β = 0.25) and its codebook-health
/// options: EMA codebook updates (decay 0.99, Laplace smoothing ε = 1e-5), k-means initialisation from the
/// first training images' encodings, and the restart of codes unused for <see cref="RestartDead"/> steps.
/// </summary>
public sealed record VqVaeConfig(int CodebookSize = 512, int CodeDim = 64, float Commitment = 0.25f, bool Ema = false, bool KMeansInit = false,
                                 int RestartDead = 0, float Decay = 0.99f, float Epsilon = 1e-5f)
{
    /// <summary>Training images whose encodings k-means clusters (1,024 images: 50,176 vectors, ~100 per code at K = 512).</summary>
    public const int KMeansImages = 1024;
    public const int KMeansIterations = 10;
}

/// <summary>The VQ-VAE's own settings (MODELS.md: K = 512 codes of D = 64, commitment weight β) and the codebook's health.</summary>
public static class VqVaeSettings
{
    public static readonly Setting<int> CodebookSize = new("codebook_size", 512, "codes in the codebook, K",
        v => v is < 2 or > 65536 ? $"{v} is outside [2, 65536]" : null);
    public static readonly Setting<int> CodeDim = new("code_dim", 64, "dimension of a code, D", v => v is < 1 or > 4096 ? $"{v} is outside [1, 4096]" : null);
    public static readonly Setting<float> Commitment = new("commitment", 0.25f, "commitment weight beta",
        v => v >= 0 && !float.IsInfinity(v) ? null : $"{Setting.Show(v)} must be a number ≥ 0");
    public static readonly Setting<bool> Ema = new("ema", false, "codebook by exponential moving averages, decay 0.99, instead of its gradient");
    public static readonly Setting<bool> KMeansInit = new("kmeans_init", false, "codebook from k-means++ of the first 1,024 training images' encodings");
    public static readonly Setting<int> RestartDead = new("restart_dead", 0, "re-draw codes unused for N steps from the batch's encodings (0: never)",
        v => v < 0 ? $"{v} must be ≥ 0 (0: never)" : null);

    public static IReadOnlyList<Setting> All { get; } = [CodebookSize, CodeDim, Commitment, Ema, KMeansInit, RestartDead];

    public static VqVaeConfig Config(TrainOptions o) =>
        new(o.Get(CodebookSize), o.Get(CodeDim), o.Get(Commitment), o.Get(Ema), o.Get(KMeansInit), o.Get(RestartDead));
}

/// <summary>How a codebook was used over an epoch: perplexity = exp(entropy of the code shares), codes used at least once.</summary>
public sealed record CodebookUsage(double[] Counts, double Perplexity, int Used, int Dead, int Restarts)
{
    /// <summary>A codebook using fewer than this share of its codes is called collapsed.</summary>
    public const double CollapseShare = 0.1;

    public static CodebookUsage FromCounts(IReadOnlyList<float> counts, int restarts = 0)
    {
        double total = counts.Sum(c => (double)c), h = 0;
        if (total > 0) foreach (var c in counts) if (c > 0) { double p = c / total; h -= p * Math.Log(p); }
        int used = counts.Count(c => c > 0);
        return new CodebookUsage(counts.Select(c => (double)c).ToArray(), total > 0 ? Math.Exp(h) : 0, used, counts.Count - used, restarts);
    }

    public bool Collapsed => Used < CollapseShare * Counts.Length;
}

/// <summary>
/// The VQ-VAE (MODELS.md, `vqvae`). State_dict names follow a PyTorch module with attributes encoder and decoder
/// (nn.Sequential, ReLUs included in the indices) and quantizer.embedding (nn.Embedding(K, D)):
///   encoder: 0 Conv2d(1→32,k4 s2 p1) 1 ReLU 2 Conv2d(32→64,k4 s2 p1) 3 ReLU 4 Conv2d(64→D,k3 s1 p1) = z_e (N, D, 7, 7)
///   decoder: 0 Conv2d(D→64,k3 s1 p1) 1 ReLU 2 ConvTranspose2d(64→32,k4 s2 p1) 3 ReLU 4 ConvTranspose2d(32→1,k4 s2 p1) → logits
/// Loss per image, averaged over the batch: BCE summed over pixels + Σ||sg[z_e] − e||² + β·Σ||z_e − sg[e]||², the
/// two codebook terms summed over the 49 positions and D dimensions like the BCE over pixels (MODELS.md's ||·||²;
/// a per-element mean would leave the codebook terms ~3,000 times weaker against the summed BCE). With EMA the
/// codebook term is dropped: the EMA moves the codes.
/// </summary>
public sealed class VqVae : Module, ITrainable, IReconstructive, IPrepared, IEpochStatistics
{
    public const int Grid = 7, Positions = Grid * Grid;
    public VqVaeConfig Config { get; }
    public Sequential Encoder { get; }
    public VectorQuantizer Quantizer { get; }
    public Sequential Decoder { get; }
    private readonly IDevice _dev;

    public VqVae(IDevice dev, ulong seed, VqVaeConfig? config = null)
    {
        var c = Config = config ?? new VqVaeConfig();
        _dev = dev;
        var rng = new Generator(seed);
        int d = c.CodeDim;
        Encoder = Child("encoder", new Sequential(
            new Conv2d(dev, rng, 1, 32, 4, 2, 1), Lambda.ReLU(),      // 32 x 14 x 14
            new Conv2d(dev, rng, 32, 64, 4, 2, 1), Lambda.ReLU(),     // 64 x 7 x 7
            new Conv2d(dev, rng, 64, d, 3, 1, 1)));                   // z_e: D x 7 x 7
        Quantizer = Child("quantizer", new VectorQuantizer(dev, rng, c));
        Decoder = Child("decoder", new Sequential(
            new Conv2d(dev, rng, d, 64, 3, 1, 1), Lambda.ReLU(),
            new ConvTranspose2d(dev, rng, 64, 32, 4, 2, 1), Lambda.ReLU(),   // 32 x 14 x 14
            new ConvTranspose2d(dev, rng, 32, 1, 4, 2, 1)));                 // logits 1 x 28 x 28
    }

    /// <summary>(N, D, 7, 7) maps → (N·49, D) rows, one per grid position (row n·49 + 7h + w).</summary>
    public static Tensor ToRows(Tensor maps)
    {
        int n = maps.Shape[0], d = maps.Shape[1];
        return maps.Reshape(n, d, Positions).Transpose().Reshape(n * Positions, d);
    }

    /// <summary>(N·49, D) rows → (N, D, 7, 7) maps.</summary>
    public static Tensor FromRows(Tensor rows)
    {
        int d = rows.Shape[1], n = rows.Shape[0] / Positions;
        return rows.Reshape(n, Positions, d).Transpose().Reshape(n, d, Grid, Grid);
    }

    /// <summary>The encoder's vectors z_e of x (N, 1, 28, 28) as rows (N·49, D).</summary>
    public Tensor EncodeRows(Tensor x) => ToRows(Encoder.Forward(x));

    /// <summary>Logits (N, 1, 28, 28) from quantised rows (N·49, D).</summary>
    public Tensor DecodeRows(Tensor zq) => Decoder.Forward(FromRows(zq));

    /// <summary>Images' code grids (N, 49) as floats; eval mode, no graph.</summary>
    public Tensor CodeGrid(Tensor x) => ModelMode.Eval(this, () => Quantizer.Codes(EncodeRows(x)).Reshape(x.Shape[0], Positions));

    /// <summary>Logits of the images whose codes are <paramref name="codes"/> (N, 49) floats; no range check (see <see cref="CheckCodes"/>).</summary>
    public Tensor DecodeCodes(Tensor codes) => DecodeRows(Quantizer.Codebook.Embedding(codes.Reshape((int)codes.Numel)));

    /// <summary>Throws unless every code is an integer in [0, K).</summary>
    public void CheckCodes(ReadOnlySpan<float> codes, string what)
    {
        for (int i = 0; i < codes.Length; i++)
            if (!(codes[i] >= 0 && codes[i] < Config.CodebookSize && codes[i] == MathF.Floor(codes[i])))
                throw new ArgumentException($"{what}: value {codes[i]} at {i} is not a code in [0, {Config.CodebookSize})");
    }

    /// <summary>(loss, bce, vq, codes, z_e rows) of a batch: bce summed over pixels, vq = Σ||z_e − e||², both per image.</summary>
    public (Tensor Loss, Tensor Bce, Tensor Vq, Tensor Codes, Tensor Z) Loss(Tensor x)
    {
        int n = x.Shape[0];
        var z = EncodeRows(x);
        var (zq, codebookLoss, commitment, codes) = Quantizer.Quantize(z);
        var logits = DecodeRows(zq);
        var bce = logits.BceWithLogits(x, Reduction.Sum).Mul(1f / n);
        var vq = commitment.Mul(1f / n);
        var loss = bce.Add(commitment.Mul(Config.Commitment / n));
        if (!Config.Ema) loss = loss.Add(codebookLoss.Mul(1f / n));
        return (loss, bce, vq, codes, z);
    }

    // ---- what the trainer and the evaluation ask of it ------------------------------------------------
    public IReadOnlyList<(string Name, Module Module, string Prefix)> Parts => [("model", this, "")];
    public IReadOnlyList<string> Scalars { get; } = ["loss", "bce", "vq", "batch_perplexity"];

    public string? ScalarFormat(string name) => name switch { "test_ssim" => "F4", "codes_used" or "dead_codes" or "restarted_codes" => "F0", _ => null };

    public Tensor[] TrainStep(Batch batch, Parts parts)
    {
        var part = parts["model"];
        var (loss, bce, vq, codes, z) = Loss(batch.Images);
        part.Minimize(loss);
        var perplexity = Quantizer.Update(z.Detach(), codes, part.Optimizer.StepCount);
        return [loss, bce, vq, perplexity];
    }

    public IReadOnlyList<(string Name, double Value)> Validate(ImageSet test, int n)
    {
        var (bce, ssim) = Evaluation.ReconstructionScores(this, _dev, test.Pixels, Math.Min(n, test.Count));
        return [("test_bce", bce), ("test_ssim", ssim)];
    }

    /// <summary>--kmeans-init: before the first step, the codebook becomes k-means centroids of the first training images' encodings.</summary>
    public void Prepare(TrainingContext c)
    {
        if (!Config.KMeansInit || !c.Fresh) return;
        int n = Math.Min(VqVaeConfig.KMeansImages, c.Train.Count);
        var z = ModelMode.Eval(this, () =>
            EncodeRows(Tensor.FromArray(_dev, c.Train.Pixels.AsSpan(0, n * 784), n, 1, 28, 28)));
        var centres = KMeans.Fit(z, Config.CodebookSize, VqVaeConfig.KMeansIterations, CounterRng.Derive(c.Options.Seed, 0xC0DE));
        Quantizer.SetCodebook(centres);
        c.Log?.Invoke($"k-means: codebook initialised from {z.Shape[0]:N0} encoder vectors of the first {n:N0} training images");
    }

    public (IReadOnlyList<(string Name, JsonNode Value)> Values, string? Warning) EndEpoch()
    {
        var u = Quantizer.TakeEpochUsage();
        var values = new List<(string, JsonNode)>
        {
            ("perplexity", u.Perplexity), ("codes_used", u.Used), ("dead_codes", u.Dead),
            ("code_counts", new JsonArray(u.Counts.Select(x => (JsonNode)(long)x).ToArray())),
        };
        if (Config.RestartDead > 0) values.Add(("restarted_codes", u.Restarts));
        string? warning = u.Collapsed
            ? $"the codebook is collapsing: {u.Used} of {u.Counts.Length} codes used this epoch (perplexity {u.Perplexity:F1}); try ⟨restart_dead⟩ 100, ⟨kmeans_init⟩ or ⟨ema⟩"
            : null;
        return (values, warning);
    }

    Tensor IReconstructive.Encode(Tensor x) => ModelMode.Eval(this, () =>
    {
        var (zq, _, _, _) = Quantizer.Quantize(EncodeRows(x));
        return zq.Reshape(x.Shape[0], Positions * Config.CodeDim);
    });

    public (Tensor Images, Tensor Bce) Reconstruct(Tensor x) => ModelMode.Eval(this, () =>
    {
        var (zq, _, _, _) = Quantizer.Quantize(EncodeRows(x));
        var logits = DecodeRows(zq);
        return (logits.Sigmoid(), Evaluation.BcePerImage(logits, x));
    });
}
