using System.Text.Json.Nodes;
using QGenEngine.Autograd;
using QGenEngine.Autograd.Nn;
using QGenEngine.Models.Data;
using QGenEngine.Models.Metrics;
using QGenEngine.Tensors;

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

/// <summary>
/// The codebook and its bookkeeping. State_dict: embedding.weight (K, D), as nn.Embedding. Training-only
/// state (kept by checkpoints under "train.state.", outside the state_dict): the epoch's code counts, the counts
/// since the last dead-code check, the number of restarted codes, and the EMA statistics.
/// Rows of z are the encoder's vectors, one per grid position: (M, D).
/// </summary>
public sealed class VectorQuantizer : Module
{
    public VqVaeConfig Config { get; }
    public int K => Config.CodebookSize;
    public int D => Config.CodeDim;
    private readonly Embedding _embedding;
    private readonly Tensor _epochCounts, _windowCounts, _restarts;   // (K, 1), (K, 1), 0-d
    private readonly Tensor? _emaSize, _emaSum;                      // (K, 1), (K, D): N_k and m_k
    private readonly Generator _restartRng;
    private readonly IDevice _dev;
    private Tensor? _ones;

    public VectorQuantizer(IDevice dev, Generator rng, VqVaeConfig c)
    {
        Config = c; _dev = dev;
        _embedding = Child("embedding", new Embedding(dev, rng, c.CodebookSize, c.CodeDim));
        // U(-1/K, 1/K), as the VQ-VAE's common PyTorch code initialises the codebook (nn.Embedding's N(0, 1) is far from a fresh encoder's outputs).
        using (Graph.NoGrad()) Assign(Codebook, Tensor.Uniform(dev, rng.NextSeed(), -1f / c.CodebookSize, 1f / c.CodebookSize, c.CodebookSize, c.CodeDim));
        _epochCounts = TrainingState("code_counts", Tensor.Zeros(dev, c.CodebookSize, 1));
        _windowCounts = TrainingState("window_counts", Tensor.Zeros(dev, c.CodebookSize, 1));
        _restarts = TrainingState("restarts", Tensor.Zeros(dev));
        if (c.Ema)
        {
            // N = 1 and m = e: consistent from the first step (e = m / N), as vector-quantize-pytorch starts.
            _emaSize = TrainingState("ema_cluster_size", Tensor.Ones(dev, c.CodebookSize, 1));
            _emaSum = TrainingState("ema_embed_sum", Tensor.Zeros(dev, c.CodebookSize, c.CodeDim));
            Assign(_emaSum, Codebook);
        }
        _restartRng = Stream("restart", new Generator(CounterRng.Derive(rng.NextSeed(), 0xDEAD)));
    }

    /// <summary>The codebook (K, D): a parameter Adam updates through the codebook loss, or, with EMA, a weight the EMA sets.</summary>
    public Tensor Codebook => _embedding.Weight;

    /// <summary>
    /// z (M, D) → (zq, vq, codes): zq equals the nearest codebook rows forward and passes the gradient straight
    /// through to z; vq = Σ ||z − e||² (summed; its gradient reaches the codebook unless EMA sets it), codes (M) as floats.
    /// </summary>
    public (Tensor Zq, Tensor CodebookLoss, Tensor CommitmentLoss, Tensor Codes) Quantize(Tensor z)
    {
        var book = Config.Ema ? Codebook.Detach() : Codebook;
        var (zq, e, codes) = z.VectorQuantize(book);
        var codebookLoss = z.Detach().Mse(e, Reduction.Sum);      // ||sg[z_e] − e||²: moves the codes (Adam)
        var commitment = z.Mse(e.Detach(), Reduction.Sum);        // ||z_e − sg[e]||²: holds the encoder to its codes
        return (zq, codebookLoss, commitment, codes);
    }

    /// <summary>Codes of z (M, D) without a graph.</summary>
    public Tensor Codes(Tensor z) => z.NearestCode(Codebook);

    /// <summary>
    /// After the optimiser step of a training batch: counts the codes used, moves the codebook by EMA if on, and
    /// every RestartDead steps re-draws the codes unused since the last check from this batch's encoder outputs.
    /// Returns the batch's code-use perplexity (0-d).
    /// </summary>
    public Tensor Update(Tensor z, Tensor codes, long step)
    {
        using var _ = Graph.NoGrad();
        int m = z.Shape[0];
        if (_ones is null || _ones.Shape[0] != m) _ones = TensorScope.Persist(Tensor.Ones(_dev, m, 1));
        var counts = Tensor.Zeros(_dev, K, 1);
        _dev.IndexAdd(_ones, codes, counts);
        _dev.Binary(BinaryOp.Add, _epochCounts, counts, _epochCounts);
        _dev.Binary(BinaryOp.Add, _windowCounts, counts, _windowCounts);
        if (Config.Ema) EmaUpdate(z, codes, counts);
        if (Config.RestartDead > 0 && step % Config.RestartDead == 0) RestartDead(z);
        var p = counts.Mul(1f / m);
        return p.Mul(p.Add(1e-12f).Log()).Sum().Neg().Exp();
    }

    /// <summary>
    /// N_k ← γN_k + (1−γ)n_k, m_k ← γm_k + (1−γ)Σ_{i: code i = k} z_i, e_k = m_k / Ñ_k with Laplace smoothing
    /// Ñ_k = (N_k + ε) / (Σ N + Kε) · Σ N (the VQ-VAE paper's appendix; tools/golden/make_vqvae_fixtures.py in NumPy).
    /// </summary>
    private void EmaUpdate(Tensor z, Tensor codes, Tensor counts)
    {
        float g = Config.Decay;
        var sums = Tensor.Zeros(_dev, K, D);
        _dev.IndexAdd(z, codes, sums);
        Assign(_emaSize!, _emaSize!.Mul(g).Add(counts.Mul(1 - g)));
        Assign(_emaSum!, _emaSum!.Mul(g).Add(sums.Mul(1 - g)));
        var n = _emaSize!.Sum();
        var smoothed = _emaSize!.Add(Config.Epsilon).Div(n.Add(K * Config.Epsilon)).Mul(n);
        Assign(Codebook, _emaSum!.Div(smoothed));
    }

    private void RestartDead(Tensor z)
    {
        var window = _windowCounts.ToArray();
        _dev.Fill(_windowCounts, 0f);
        var dead = Enumerable.Range(0, K).Where(k => window[k] == 0).Select(k => (float)k).ToArray();
        if (dead.Length == 0) return;
        ulong seed = _restartRng.NextSeed();
        int m = z.Shape[0];
        var rows = new float[dead.Length];
        for (int i = 0; i < rows.Length; i++) rows[i] = (float)(CounterRng.Hash(seed, (ulong)i) % (ulong)m);
        var deadIdx = Tensor.FromArray(_dev, dead, dead.Length);
        var fresh = z.Embedding(Tensor.FromArray(_dev, rows, rows.Length));
        SetRows(Codebook, deadIdx, fresh);
        if (Config.Ema)
        {
            SetRows(_emaSum!, deadIdx, fresh);
            SetRows(_emaSize!, deadIdx, Tensor.Ones(_dev, dead.Length, 1));
        }
        _dev.Unary(UnaryOp.Affine, _restarts, _restarts, 1f, dead.Length);
    }

    /// <summary>t[idx[i]] = rows[i] (distinct indices), exactly, on the device: add −t[idx] (x + (−x) = 0 exactly), then rows.</summary>
    private void SetRows(Tensor t, Tensor idx, Tensor rows)
    {
        _dev.IndexAdd(t.Embedding(idx).Neg(), idx, t);
        _dev.IndexAdd(rows, idx, t);
    }

    /// <summary>Sets the codebook (k-means); with EMA, its statistics start from it (N = 1, m = e).</summary>
    public void SetCodebook(Tensor codes)
    {
        using var _ = Graph.NoGrad();
        Assign(Codebook, codes);
        if (Config.Ema) { Assign(_emaSum!, codes); _dev.Fill(_emaSize!, 1f); }
    }

    /// <summary>The epoch's code-use statistics (perplexity over the whole epoch, codes used, dead codes, restarts, counts); resets them.</summary>
    public CodebookUsage TakeEpochUsage()
    {
        var counts = _epochCounts.ToArray();
        int restarts = (int)_restarts.Item();
        _dev.Fill(_epochCounts, 0f);
        _dev.Fill(_restarts, 0f);
        return CodebookUsage.FromCounts(counts, restarts);
    }

    private static void Assign(Tensor dst, Tensor src) => dst.Device.Copy2D(src, 0, src.Numel, dst, 0, dst.Numel, 1, (int)dst.Numel);
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
            ? $"the codebook is collapsing: {u.Used} of {u.Counts.Length} codes used this epoch (perplexity {u.Perplexity:F1}); try --restart-dead 100, --kmeans-init or --ema"
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
