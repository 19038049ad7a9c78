namespace QGenEngine.Models;

/// <summary>The prior's sizes: code embeddings and hidden channels C, gated residual blocks, the first (type A) kernel, the head's width.</summary>
public sealed record PixelCnnConfig(int Channels = 64, int Blocks = 6, int FirstKernel = 5, int Head = 256);

/// <summary>
/// A gated residual block of masked convolutions (type B): h + Conv1x1(tanh(a) ⊙ σ(b)), (a, b) = MaskedConv3x3(h) split in
/// two halves of channels (the gated PixelCNN's activation, van den Oord et al. 2016).
/// </summary>
public sealed class GatedBlock : Layer
{
    private readonly MaskedConv2d _conv;
    private readonly Conv2d _out;

    public GatedBlock(IDevice dev, Generator rng, int channels)
    {
        _conv = Child("conv", new MaskedConv2d(dev, rng, 'B', channels, 2 * channels, 3));
        _out = Child("out", new Conv2d(dev, rng, channels, channels, 1));
    }

    public static Tensor Gate(Tensor t)
    {
        int c = t.Shape[1] / 2;
        return t.Slice(1, 0, c).Tanh().Mul(t.Slice(1, c, c).Sigmoid());
    }

    public override Tensor Forward(Tensor h) => h.Add(_out.Forward(Gate(_conv.Forward(h))));
}

/// <summary>
/// A PixelCNN over the 7×7 code grid in raster order (MODELS.md's prior): code embeddings (K → C) → masked
/// convolution type A (the centre hidden) with the gate → gated type-B blocks → ReLU, 1×1 (C → Head), ReLU, 1×1 (Head → K):
/// a K-way softmax per position that sees only the codes before it. State_dict: embedding.weight, input.*,
/// blocks.&lt;i&gt;.conv.* / .out.*, head.1.*, head.3.* (the masks are buffers, as PyTorch's MaskedConv2d keeps them).
/// </summary>
public sealed class PixelCnn : Module
{
    public PixelCnnConfig Config { get; }
    public int Codes { get; }
    private readonly Embedding _embedding;
    private readonly MaskedConv2d _input;
    private readonly Sequential _blocks, _head;

    public PixelCnn(IDevice dev, Generator rng, int codes, PixelCnnConfig? config = null)
    {
        var c = Config = config ?? new PixelCnnConfig();
        Codes = codes;
        _embedding = Child("embedding", new Embedding(dev, rng, codes, c.Channels));
        _input = Child("input", new MaskedConv2d(dev, rng, 'A', c.Channels, 2 * c.Channels, c.FirstKernel));
        _blocks = Child("blocks", new Sequential(Enumerable.Range(0, c.Blocks).Select(_ => (Layer)new GatedBlock(dev, rng, c.Channels)).ToArray()));
        _head = Child("head", new Sequential(Lambda.ReLU(), new Conv2d(dev, rng, c.Channels, c.Head, 1), Lambda.ReLU(), new Conv2d(dev, rng, c.Head, codes, 1)));
    }

    /// <summary>Code embeddings of grids (N, height·7) floats, the top <paramref name="height"/> rows of 7 → (N, C, height, 7).</summary>
    public Tensor Embed(Tensor codes, int height = VqVae.Grid)
    {
        int n = codes.Shape[0], p = height * VqVae.Grid, c = Config.Channels;
        return _embedding.Weight.Embedding(codes.Reshape(n * p)).Reshape(n, p, c).Transpose().Reshape(n, c, height, VqVae.Grid);
    }

    /// <summary>Logits (N, K, H, 7) from embedded grids (N, C, H, 7): position i depends only on positions before i.</summary>
    public Tensor Forward(Tensor embedded) => _head.Forward(_blocks.Forward(GatedBlock.Gate(_input.Forward(embedded))));

    /// <summary>
    /// Logits as rows (N·H·7, K), row n·H·7 + i for position i of grid n. With height H &lt; 7 the grids are their top H
    /// rows: no mask looks down, so those rows' logits are exactly the full grid's (sampling row r needs rows ≤ r only).
    /// </summary>
    public Tensor Logits(Tensor codes, int height = VqVae.Grid)
    {
        var y = Forward(Embed(codes, height));
        int n = y.Shape[0], k = y.Shape[1], p = height * VqVae.Grid;
        return y.Reshape(n, k, p).Transpose().Reshape(n * p, k);
    }
}

/// <summary>
/// The VQ-VAE's generator (`prior`): a PixelCNN over its code grids, trained on the codes of the training set
/// (encoded once by the VQ-VAE, cached in the run directory as codes-train.npy / codes-test.npy), sampled
/// ancestrally (49 positions, every sample of a batch at once) and decoded by the VQ-VAE. The checkpoint holds
/// both (vqvae.*, pixelcnn.*), so a prior run samples without its VQ-VAE run; only pixelcnn.* trains.
/// Its latents are code grids (N, 49) as floats, which `sample --latents` also takes.
/// </summary>
public sealed class CodePrior : Module, ITrainable, IGenerative, IReconstructive, IPrepared
{
    public const string TrainCache = "codes-train.npy", TestCache = "codes-test.npy";
    /// <summary>Grids sampled at once (49 forward passes each); draws depend on (seed, chunk, position), so on this constant.</summary>
    public const int SampleChunk = 250;

    public VqVae VqVae { get; }
    public PixelCnn PixelCnn { get; }
    private readonly IDevice _dev;
    private float[]? _trainCodes, _testCodes;
    private Tensor? _batchCodes;

    public CodePrior(IDevice dev, ulong seed, VqVaeConfig vq, PixelCnnConfig? config = null)
    {
        _dev = dev;
        VqVae = Child("vqvae", new VqVae(dev, seed, vq));
        PixelCnn = Child("pixelcnn", new PixelCnn(dev, new Generator(CounterRng.Derive(seed, 0x9121)), vq.CodebookSize, config));
    }

    /// <summary>
    /// A new prior run's options, completed from its VQ-VAE run (--vqvae RUN): the codebook's size and dimension. Refuses
    /// a run that is not a VQ-VAE, and a --codebook-size or --code-dim that contradicts it.
    /// </summary>
    public static TrainOptions Resolve(TrainOptions o, TrainOptions defaults)
    {
        string? run = o.Get(VqVaeRun);
        if (string.IsNullOrEmpty(run)) throw new ArgumentException($"train prior needs {VqVaeRun.Ref} RUN: the run directory of a trained vqvae");
        var cfg = Path.Combine(run, Trainer.ConfigFile);
        if (!File.Exists(cfg)) throw new ArgumentException($"{cfg}: not found; {VqVaeRun.Ref} expects the run directory of a `qgen-engine train vqvae`");
        var v = ModelCatalog.ReadOptions(run);
        if (v.Model != "vqvae") throw new ArgumentException($"{cfg}: a '{v.Model}' run; {VqVaeRun.Ref} expects a vqvae run");
        if (!File.Exists(Path.Combine(run, Trainer.CheckpointFile))) throw new ArgumentException($"{run}: has no {Trainer.CheckpointFile}; train the vqvae for an epoch first");
        int k = o.Get(VqVaeSettings.CodebookSize), d = o.Get(VqVaeSettings.CodeDim), vk = v.Get(VqVaeSettings.CodebookSize), vd = v.Get(VqVaeSettings.CodeDim);
        if (k != defaults.Get(VqVaeSettings.CodebookSize) && k != vk)
            throw new ArgumentException($"{VqVaeSettings.CodebookSize.Ref}: {k} does not match the VQ-VAE's {vk} codes ({cfg})");
        if (d != defaults.Get(VqVaeSettings.CodeDim) && d != vd)
            throw new ArgumentException($"{VqVaeSettings.CodeDim.Ref}: {d} does not match the VQ-VAE's code dimension {vd} ({cfg})");
        if (v.Dataset != o.Dataset || v.DataDir != o.DataDir)
            throw new ArgumentException($"{cfg}: the vqvae was trained on {v.DataDir ?? v.Dataset}, the prior would train on {o.DataDir ?? o.Dataset}");
        return o.With(VqVaeSettings.CodebookSize, vk).With(VqVaeSettings.CodeDim, vd).With(VqVaeSettings.Commitment, v.Get(VqVaeSettings.Commitment))
                .With(VqVaeRun, Path.GetFullPath(run));
    }

    /// <summary>The prior's own setting: its VQ-VAE's run directory (it records the codebook's K, D and β from it).</summary>
    public static readonly Setting<string?> VqVaeRun = Setting.OfPath("vqvae", "the vqvae run directory whose codes it models", "the run directory of a trained vqvae");

    /// <summary>The prior's settings: its VQ-VAE's run, and the codebook it copies from that run.</summary>
    public static IReadOnlyList<Setting> Settings { get; } = [VqVaeRun, VqVaeSettings.CodebookSize, VqVaeSettings.CodeDim, VqVaeSettings.Commitment];

    // ---- preparing: the VQ-VAE's weights and the code cache -------------------------------------------
    public void Prepare(TrainingContext c)
    {
        if (c.Fresh)
        {
            var ckpt = Path.Combine(c.Options.Get(VqVaeRun)!, Trainer.CheckpointFile);
            Checkpoint.Load(ckpt, VqVae, expectModel: "vqvae");
            c.Log?.Invoke($"prior: the VQ-VAE from {ckpt}");
        }
        _trainCodes = CodeCache(Path.Combine(c.RunDir, TrainCache), c.Train, c.Log);
        _testCodes = CodeCache(Path.Combine(c.RunDir, TestCache), c.Test, c.Log);
    }

    /// <summary>Training codes given directly (n·49 values, checked), instead of a cache: benchmarks and tests.</summary>
    public void UseCodes(float[] train, float[]? test = null)
    {
        VqVae.CheckCodes(train, "training codes");
        if (test is not null) VqVae.CheckCodes(test, "test codes");
        _trainCodes = train; _testCodes = test;
    }

    /// <summary>The code grids of a set: read from the cache (checked), or encoded once and written.</summary>
    private float[] CodeCache(string path, ImageSet set, Action<string>? log)
    {
        if (File.Exists(path))
        {
            var (data, shape) = Npy.Read(path);
            if (shape.Length != 3 || shape[0] != set.Count || shape[1] != VqVae.Grid || shape[2] != VqVae.Grid)
                throw new FormatException($"{path}: holds codes of shape ({string.Join(", ", shape)}), expected ({set.Count}, 7, 7) for {set.Source}; delete it to encode again");
            try { VqVae.CheckCodes(data, path); }
            catch (ArgumentException e) { throw new FormatException($"{e.Message}; delete it to encode again"); }
            return data;
        }
        var codes = new float[set.Count * VqVae.Positions];
        const int chunk = 500;
        for (int s = 0; s < set.Count; s += chunk)
        {
            int m = Math.Min(chunk, set.Count - s);
            using var _ = TensorScope.Begin();
            VqVae.CodeGrid(Tensor.FromArray(_dev, set.Pixels.AsSpan(s * 784, m * 784), m, 1, 28, 28)).CopyTo(codes.AsSpan(s * VqVae.Positions, m * VqVae.Positions));
        }
        Npy.Write(path, codes, set.Count, VqVae.Grid, VqVae.Grid);
        log?.Invoke($"prior: encoded {set.Count:N0} images of {set.Source} to codes ({Path.GetFileName(path)})");
        return codes;
    }

    // ---- training ------------------------------------------------------------------------------------
    public IReadOnlyList<(string Name, Module Module, string Prefix)> Parts => [("prior", PixelCnn, "pixelcnn.")];

    /// <summary>nll: nats per code (cross-entropy over the 49 positions); bits_per_code the same in bits.</summary>
    public IReadOnlyList<string> Scalars { get; } = ["nll", "bits_per_code"];

    /// <summary>Mean cross-entropy (nats per code) of grids (N, 49) under the prior; with a graph if one is being recorded.</summary>
    public Tensor Nll(Tensor codes) => PixelCnn.Logits(codes).CrossEntropy(codes.Reshape((int)codes.Numel));

    public Tensor[] TrainStep(Batch batch, Parts parts)
    {
        if (_trainCodes is null) throw new InvalidOperationException("the prior's code cache is not loaded (Prepare was not called)");
        if (batch.Indices is null) throw new ArgumentException("the prior trains on cached codes and needs the batch's image indices");
        int b = batch.Size;
        if (_batchCodes is null || _batchCodes.Shape[0] != b) _batchCodes = TensorScope.Persist(Tensor.Empty(_dev, b, VqVae.Positions));
        var host = new float[b * VqVae.Positions];
        for (int i = 0; i < b; i++) _trainCodes.AsSpan(batch.Indices[i] * VqVae.Positions, VqVae.Positions).CopyTo(host.AsSpan(i * VqVae.Positions));
        _batchCodes.CopyFrom(host);
        var nll = Nll(_batchCodes);
        parts["prior"].Minimize(nll);
        using (Graph.NoGrad()) return [nll, nll.Mul(1f / MathF.Log(2))];
    }

    /// <summary>Test NLL in bits per code over the first n test images' codes.</summary>
    public IReadOnlyList<(string Name, double Value)> Validate(ImageSet test, int n)
    {
        if (_testCodes is null) return [];
        n = Math.Min(n, _testCodes.Length / VqVae.Positions);
        return [("test_bits_per_code", BitsPerCode(_testCodes, n))];
    }

    /// <summary>Mean NLL in bits per code of n grids (n·49 floats).</summary>
    public double BitsPerCode(ReadOnlySpan<float> codes, int n)
    {
        double nats = 0;
        const int chunk = 200;
        for (int s = 0; s < n; s += chunk)
        {
            int m = Math.Min(chunk, n - s);
            using var _ = TensorScope.Begin();
            var t = Tensor.FromArray(_dev, codes.Slice(s * VqVae.Positions, m * VqVae.Positions), m, VqVae.Positions);
            nats += ModelMode.Eval(this, () => (double)Nll(t).Item()) * m;
        }
        return nats / n / Math.Log(2);
    }

    // ---- generation: ancestral sampling of code grids, decoded by the VQ-VAE ---------------------------
    public int LatentSize => VqVae.Positions;
    public bool Interpolable => false;

    /// <summary>n code grids (n, 49) drawn position by position in raster order; draw i of chunk c uses stream (seed, c, i).</summary>
    public Tensor SampleLatents(IDevice dev, int n, ulong seed) => ModelMode.Eval(this, () =>
    {
        var all = Tensor.Empty(dev, n, VqVae.Positions);
        for (int s = 0, chunk = 0; s < n; s += SampleChunk, chunk++)
        {
            int m = Math.Min(SampleChunk, n - s);
            var grids = SampleGrids(dev, m, CounterRng.Derive(seed, (ulong)chunk));
            dev.Copy2D(grids, 0, grids.Numel, all, (long)s * VqVae.Positions, grids.Numel, 1, (int)grids.Numel);
        }
        return all;
    });

    /// <summary>
    /// m grids, position by position: the network runs on the rows up to the current one (4/7 of the full grid's work on
    /// average, the same logits), its logits at position i of every grid are drawn from, and the draw is written in place.
    /// </summary>
    private Tensor SampleGrids(IDevice dev, int m, ulong seed)
    {
        var codes = Tensor.Zeros(dev, m, VqVae.Positions);
        var rows = new float[m];
        for (int i = 0; i < VqVae.Positions; i++)
        {
            using var scope = TensorScope.Begin();
            int height = i / VqVae.Grid + 1, p = height * VqVae.Grid;
            var top = Tensor.Empty(dev, m, p);
            dev.Copy2D(codes, 0, VqVae.Positions, top, 0, p, m, p);
            for (int r = 0; r < m; r++) rows[r] = r * p + i;
            var logits = PixelCnn.Logits(top, height).Embedding(Tensor.FromArray(dev, rows, m));   // (m, K): position i of every grid
            var draw = logits.SampleCategorical(CounterRng.Derive(seed, (ulong)i));
            for (int r = 0; r < m; r++) rows[r] = r * VqVae.Positions + i;
            dev.IndexAdd(draw.Reshape(m, 1), Tensor.FromArray(dev, rows, m), codes.Reshape(m * VqVae.Positions, 1));   // position i was 0: now the draw
        }
        return codes;
    }

    /// <summary>Images from code grids (n, 49); refuses values that are not codes of this codebook.</summary>
    public Tensor Generate(Tensor z)
    {
        VqVae.CheckCodes(z.ToArray(), "code grid");
        return ModelMode.Eval(this, () => VqVae.DecodeCodes(z).Sigmoid());
    }

    // ---- the VQ-VAE's reconstructions (eval reports them beside the samples) ---------------------------
    Tensor IReconstructive.Encode(Tensor x) => VqVae.CodeGrid(x);
    public (Tensor Images, Tensor Bce) Reconstruct(Tensor x) => VqVae.Reconstruct(x);
}
