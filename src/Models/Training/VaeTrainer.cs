using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using QGenEngine.Autograd;
using QGenEngine.Autograd.Optim;
using QGenEngine.Models.Data;
using QGenEngine.Models.Metrics;
using QGenEngine.Tensors;

namespace QGenEngine.Models.Training;

public sealed record StepProgress(int Epoch, int Epochs, int Step, int Steps, double Loss, double Bce, double Kl, double SamplesPerSecond, TimeSpan Eta);

public sealed record EpochMetrics(int Epoch, double Loss, double Bce, double Kl, double TestBce, double TestSsim, double Seconds, double SamplesPerSecond, float Lr)
{
    public JsonObject ToJson() => new()
    {
        ["epoch"] = Epoch, ["loss"] = Loss, ["bce"] = Bce, ["kl"] = Kl, ["test_bce"] = TestBce, ["test_ssim"] = TestSsim,
        ["seconds"] = Seconds, ["samples_per_s"] = SamplesPerSecond, ["lr"] = Lr,
    };
}

/// <summary>
/// Trains a VAE-family model (vae, qvae, vae-attn) on an MNIST-style set and keeps its run directory:
/// config.json, checkpoint.safetensors (after every epoch and on cancellation, atomically; it holds the
/// position inside the epoch, so a resumed run continues exactly), metrics.jsonl. Pictures are drawn by
/// the caller from <see cref="Sample"/>, <see cref="Reconstruct"/> and <see cref="Interpolate"/>.
/// </summary>
public sealed class VaeTrainer
{
    public const string CheckpointFile = "checkpoint.safetensors", ConfigFile = "config.json", MetricsFile = "metrics.jsonl";

    public TrainOptions Options { get; }
    public string RunDir { get; }
    public Vae Model { get; }
    public ImageSet Train { get; }
    public ImageSet Test { get; }
    private readonly IDevice _dev;
    private readonly Adam _opt;
    private readonly ILrSchedule _lr;
    private int _epoch, _step;                   // completed epochs; steps done in the current one
    private double _lossSum, _bceSum, _klSum;    // running sums of the current epoch (saved for a mid-epoch resume)
    private double _epochSeconds;

    public int StepsPerEpoch => Train.Count / Options.BatchSize;
    public int CompletedEpochs => _epoch;

    public VaeTrainer(TrainOptions o, string runDir, IDevice dev, bool resume)
    {
        o.Validate();
        Options = o; RunDir = runDir; _dev = dev;
        var (dir, verify) = DataSets.Resolve(o.Dataset, o.DataDir);
        Train = DataSets.Load(dir, "train", verify);
        if (o.Limit > 0) Train = Train.Take(o.Limit);
        Test = DataSets.Load(dir, "t10k", verify);
        if (Train.Height != 28 || Train.Width != 28) throw new DataException($"{dir}: images are {Train.Height}×{Train.Width}; the VAE family takes 28×28");
        Model = new Vae(dev, o.Seed, o.ModelConfig());
        _opt = new Adam(Model.NamedParameters(), o.Lr);
        _lr = o.Cosine ? new CosineLr(o.Lr, o.Epochs * StepsPerEpoch) : new ConstantLr(o.Lr);
        Directory.CreateDirectory(runDir);
        var ckpt = Path.Combine(runDir, CheckpointFile);
        if (resume)
        {
            if (!File.Exists(ckpt)) throw new CheckpointException($"{ckpt}: no checkpoint to resume from");
            var meta = Checkpoint.Load(ckpt, Model, _opt, Model.Noise);
            _epoch = Int(meta, "train.epoch"); _step = Int(meta, "train.step");
            _lossSum = Dbl(meta, "train.loss_sum"); _bceSum = Dbl(meta, "train.bce_sum"); _klSum = Dbl(meta, "train.kl_sum");
            _epochSeconds = Dbl(meta, "train.epoch_seconds");
        }
        else if (File.Exists(ckpt))
            throw new ArgumentException($"{runDir}: holds a run already (checkpoint.safetensors); pass --resume to continue it or choose another --out");
        AtomicFile.WriteText(Path.Combine(runDir, ConfigFile), o.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static int Int(Dictionary<string, string> m, string k) => m.TryGetValue(k, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : 0;
    private static double Dbl(Dictionary<string, string> m, string k) => m.TryGetValue(k, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : 0;

    /// <summary>The batch's images, shuffled by (seed, epoch) and, if enabled, augmented by (seed, epoch, index).</summary>
    private void FillBatch(int[] order, int step, float[] buf)
    {
        int b = Options.BatchSize, px = Train.PixelsPerImage;
        ulong augSeed = CounterRng.Derive(Options.Seed, 0xA09E);
        for (int i = 0; i < b; i++)
        {
            int idx = order[step * b + i];
            if (Options.Augment) Augment.Apply(Train.Image(idx), buf.AsSpan(i * px, px), 28, 28, augSeed, (ulong)_epoch * (ulong)Train.Count + (ulong)idx);
            else Train.Image(idx).CopyTo(buf.AsSpan(i * px, px));
        }
    }

    private int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, Train.Count).ToArray();
        ulong s = CounterRng.Derive(Options.Seed, 0x5EED00 + (ulong)epoch);
        for (int i = order.Length - 1; i > 0; i--)   // Fisher-Yates with the counter-based generator
        {
            int j = (int)(CounterRng.Hash(s, (ulong)i) % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>Trains until Options.Epochs are done or cancellation; returns true when finished.</summary>
    public bool Run(Action<StepProgress>? onStep, Action<EpochMetrics>? onEpoch, CancellationToken ct)
    {
        int b = Options.BatchSize, steps = StepsPerEpoch;
        var buf = new float[b * 784];
        var x = Tensor.Empty(_dev, b, 1, 28, 28);
        TensorScope.Persist(x);
        Model.Train();
        while (_epoch < Options.Epochs)
        {
            var order = Order(_epoch);
            var sw = Stopwatch.StartNew();
            int stepsThisSession = 0;
            while (_step < steps)
            {
                if (ct.IsCancellationRequested) { _epochSeconds += sw.Elapsed.TotalSeconds; Save(); return false; }
                FillBatch(order, _step, buf);
                x.CopyFrom(buf);
                _opt.LearningRate = _lr.At(_epoch * steps + _step);
                double loss, bce, kl;
                using (TensorScope.Begin())
                {
                    _opt.ZeroGrad();
                    var (l, bc, k) = Model.Loss(x);
                    Graph.Backward(l);
                    if (Options.ClipNorm > 0) GradClip.ClipGradNorm(Model.Parameters(), Options.ClipNorm);
                    _opt.Step();
                    loss = l.Item(); bce = bc.Item(); kl = k.Item();
                }
                if (!double.IsFinite(loss)) throw new InvalidOperationException($"the loss became {loss} at epoch {_epoch + 1}, step {_step + 1}; try a smaller --lr");
                _lossSum += loss; _bceSum += bce; _klSum += kl;
                _step++; stepsThisSession++;
                double rate = stepsThisSession * b / sw.Elapsed.TotalSeconds;
                var eta = TimeSpan.FromSeconds(((Options.Epochs - _epoch - 1) * steps + (steps - _step)) * b / Math.Max(rate, 1e-9));
                onStep?.Invoke(new StepProgress(_epoch + 1, Options.Epochs, _step, steps, loss, bce, kl, rate, eta));
            }
            _epochSeconds += sw.Elapsed.TotalSeconds;
            var (testBce, testSsim) = Evaluate();
            var m = new EpochMetrics(_epoch + 1, _lossSum / steps, _bceSum / steps, _klSum / steps, testBce, testSsim,
                                     _epochSeconds, steps * b / _epochSeconds, _opt.LearningRate);
            File.AppendAllText(Path.Combine(RunDir, MetricsFile), m.ToJson().ToJsonString() + "\n");
            _epoch++; _step = 0; _lossSum = _bceSum = _klSum = 0; _epochSeconds = 0;
            Save();
            Model.Train();
            onEpoch?.Invoke(m);
        }
        return true;
    }

    private void Save()
    {
        var meta = new Dictionary<string, string>
        {
            ["train.epoch"] = I(_epoch), ["train.step"] = I(_step), ["train.loss_sum"] = D(_lossSum), ["train.bce_sum"] = D(_bceSum),
            ["train.kl_sum"] = D(_klSum), ["train.epoch_seconds"] = D(_epochSeconds), ["model"] = Options.Model,
        };
        Checkpoint.Save(Path.Combine(RunDir, CheckpointFile), Model, _opt, Model.Noise, null, meta);
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
    private static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Test reconstruction BCE (summed over pixels, mean over images) and SSIM, from μ, on the first EvalImages test images.</summary>
    public (double Bce, double Ssim) Evaluate()
    {
        int n = Math.Min(Options.EvalImages, Test.Count);
        var (orig, recon, bce) = ReconstructCore(0, n);
        double ssim = 0;
        for (int i = 0; i < n; i++) ssim += Ssim.Compute(orig.AsSpan(i * 784, 784), recon.AsSpan(i * 784, 784), 28, 28);
        return (bce / n, ssim / n);
    }

    private (float[] Orig, float[] Recon, double BceSum) ReconstructCore(int start, int n)
    {
        Model.Eval();
        var orig = Test.Pixels.AsSpan(start * 784, n * 784).ToArray();
        var recon = new float[n * 784];
        double bce = 0;
        using var _ = Graph.NoGrad();
        for (int s = 0; s < n; s += 256)
        {
            int m = Math.Min(256, n - s);
            using var scope = TensorScope.Begin();
            var x = Tensor.FromArray(_dev, orig.AsSpan(s * 784, m * 784), m, 1, 28, 28);
            var (mu, _) = Model.Encode(x);
            var logits = Model.Decode(mu);
            bce += logits.BceWithLogits(x, Reduction.Sum).Item();
            logits.Sigmoid().CopyTo(recon.AsSpan(s * 784, m * 784));
        }
        return (orig, recon, bce);
    }

    /// <summary>n test images (from the start of the test set) and their reconstructions.</summary>
    public (float[] Orig, float[] Recon) Reconstruct(int n)
    {
        var (o, r, _) = ReconstructCore(0, Math.Min(n, Test.Count));
        Model.Train();
        return (o, r);
    }

    /// <summary>n generated images: z ~ N(0, I) (seeded) through the decoder.</summary>
    public static float[] Sample(Vae model, IDevice dev, int n, ulong seed)
    {
        model.Eval();
        using var _ = Graph.NoGrad();
        using var scope = TensorScope.Begin();
        var z = Tensor.Normal(dev, seed, 0, 1, n, model.Latent);
        var img = model.Decode(z).Sigmoid().ToArray();
        model.Train();
        return img;
    }

    public float[] Sample(int n) => Sample(Model, _dev, n, CounterRng.Derive(Options.Seed, 0x5A3B1E));

    /// <summary>rows pairs of test digits; between their latent means, `steps` images each (endpoints included).</summary>
    public float[] Interpolate(int rows, int steps)
    {
        Model.Eval();
        var result = new float[rows * steps * 784];
        using (Graph.NoGrad())
        using (TensorScope.Begin())
        {
            var x = Tensor.FromArray(_dev, Test.Pixels.AsSpan(0, 2 * rows * 784), 2 * rows, 1, 28, 28);
            var mu = Model.Encode(x).Mu.ToArray();
            int l = Model.Latent;
            var z = new float[rows * steps * l];
            for (int r = 0; r < rows; r++)
                for (int s = 0; s < steps; s++)
                {
                    float t = steps == 1 ? 0 : s / (float)(steps - 1);
                    for (int k = 0; k < l; k++) z[(r * steps + s) * l + k] = (1 - t) * mu[(2 * r) * l + k] + t * mu[(2 * r + 1) * l + k];
                }
            Model.Decode(Tensor.FromArray(_dev, z, rows * steps, l)).Sigmoid().CopyTo(result);
        }
        Model.Train();
        return result;
    }

    /// <summary>The metrics of every finished epoch, from metrics.jsonl.</summary>
    public static List<JsonObject> ReadMetrics(string runDir)
    {
        var p = Path.Combine(runDir, MetricsFile);
        if (!File.Exists(p)) return [];
        return File.ReadAllLines(p).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
    }
}
