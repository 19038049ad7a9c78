namespace QGenEngine.Models;

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
