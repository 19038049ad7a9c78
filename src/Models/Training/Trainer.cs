using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using QGenEngine.Autograd.Optim;

namespace QGenEngine.Models.Training;

/// <summary>A step's named scalars (the model's <see cref="ITrainable.Scalars"/>), for the progress line.</summary>
public sealed record StepProgress(int Epoch, int Epochs, int Step, int Steps, IReadOnlyList<string> Names, double[] Values, double SamplesPerSecond, TimeSpan Eta);

/// <summary>An epoch's record as written to metrics.jsonl, and the classes the samples stopped covering.</summary>
public sealed record EpochMetrics(int Epoch, JsonObject Values, int[] LostClasses, string? Warning = null)
{
    public double Get(string key) => Values[key] is { } v ? Number(v) : double.NaN;

    /// <summary>A JSON number as a double, whether it was made from an int or a double or parsed.</summary>
    public static double Number(JsonNode v) => double.Parse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// The one training loop. It knows parts, optimisers, named scalars and positions - never a model's loss
/// terms: the model says what a step is (<see cref="ITrainable.TrainStep"/>). It keeps the run directory:
/// config.json; checkpoint.safetensors after every epoch and on cancellation (atomically; it holds every
/// part's weights and optimiser state, every random stream's position and the place inside the epoch, so
/// a resumed run continues bit for bit); metrics.jsonl (one record per epoch: the scalars' means, the
/// model's validation, and for generative models FID, IS and modes of samples); steps.csv (every step's scalars).
/// </summary>
public sealed class Trainer
{
    public const string CheckpointFile = "checkpoint.safetensors", ConfigFile = "config.json", MetricsFile = RunLogs.MetricsFile, StepsFile = RunLogs.StepsFile,
                        LockFile = "run.lock";
    /// <summary>Seed of the fixed latents behind samples.png and FID during training (the same images epoch after epoch).</summary>
    public const ulong FixedNoiseSeed = 0x5A3B1E;

    public TrainOptions Options { get; }
    public string RunDir { get; }
    public Module Model { get; }
    public ITrainable Trainable { get; }
    public ImageSet Train { get; }
    public ImageSet Test { get; }
    public IDevice Device { get; }
    public Parts Parts { get; }
    /// <summary>Notes for the user (a skipped measurement, say); the CLI prints them.</summary>
    public Action<string>? Log { get; set; }

    private readonly ILrSchedule _lr;
    private int _epoch, _step;                   // completed epochs; steps done in the current one
    private readonly double[] _sums;             // running sums of the current epoch's scalars (saved for a mid-epoch resume)
    private double _epochSeconds;
    // The process's CPU time over the same spans as _epochSeconds: unlike the wall clock it does not run while the
    // process is suspended (SIGSTOP) or waiting for a core that other work holds. NaN: part of the epoch was trained by
    // a binary that did not count it, so the epoch has no cpu_seconds.
    private double _epochCpuSeconds;
    private readonly StringBuilder _stepRows = new();
    private string? _pendingMetric;   // the finished epoch's metrics line, until Save writes it
    private string? _staleLockNote;
    private Dictionary<string, string>? _resumeMeta;   // the checkpoint's metadata, until Run repairs the logs from it (Log is set by then)
    private double[]? _lastHistogram;
    private bool _prepared;
    private readonly TrainingScores _scores;

    public int StepsPerEpoch => Train.Count / Options.BatchSize;
    public int CompletedEpochs => _epoch;
    public IReadOnlyList<string> Scalars => Trainable.Scalars;

    public Trainer(TrainOptions o, string runDir, IDevice dev, bool resume)
    {
        o.Validate();
        if (!resume && ModelCatalog.Get(o.Model).Resolve is { } resolve) o = resolve(o);
        Options = o; RunDir = runDir; Device = dev;
        var (dir, verify) = DataSets.Resolve(o.Dataset, o.DataDir);
        Train = DataSets.Load(dir, "train", verify);
        if (o.Limit > 0) Train = Train.Take(o.Limit);
        Test = DataSets.Load(dir, "t10k", verify);
        Model = ModelCatalog.Get(o.Model).Create(dev, o);
        Trainable = Model as ITrainable ?? throw new ArgumentException($"model '{o.Model}' cannot be trained");
        if ((Train.Height, Train.Width) != Trainable.ImageSize)
            throw new DataException($"{dir}: images are {Train.Height}×{Train.Width}; {o.Model} takes {Trainable.ImageSize.Height}×{Trainable.ImageSize.Width}");
        _scores = new TrainingScores(dev, Test, o.Dataset, o.FidSamples, note => Log?.Invoke(note));
        Parts = Parts.For(Trainable, o);
        _lr = o.Cosine ? new CosineLr(o.Lr, o.Epochs * StepsPerEpoch) : new ConstantLr(o.Lr);
        _sums = new double[Scalars.Count];
        Directory.CreateDirectory(runDir);
        using var held = Lock();
        var ckpt = Path.Combine(runDir, CheckpointFile);
        if (resume)
        {
            if (!File.Exists(ckpt)) throw new CheckpointException($"{ckpt}: no checkpoint to resume from");
            var meta = Checkpoint.Load(ckpt, Model, Optimizers, expectModel: o.Model);
            _epoch = Int(meta, "train.epoch"); _step = Int(meta, "train.step");
            for (int i = 0; i < _sums.Length; i++)   // round 1 named them train.<scalar>_sum
                _sums[i] = Dbl(meta, $"train.sum.{Scalars[i]}", Dbl(meta, $"train.{Scalars[i]}_sum", 0));
            _epochSeconds = Dbl(meta, "train.epoch_seconds", 0);
            _epochCpuSeconds = Dbl(meta, "train.epoch_cpu_seconds", _epochSeconds > 0 ? double.NaN : 0);
            _resumeMeta = meta;
        }
        else if (File.Exists(ckpt))
            throw new ArgumentException($"{runDir}: holds a run already (checkpoint.safetensors); pass ⟨resume⟩ to continue it or choose another ⟨out⟩");
        AtomicFile.WriteText(Path.Combine(runDir, ConfigFile), o.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// An exclusive lock on the run directory (an advisory lock on run.lock, released with the handle or the
    /// process): two processes training into one directory would interleave checkpoints and logs.
    /// </summary>
    private RunLock Lock()
    {
        var l = RunLock.Take(Path.Combine(RunDir, LockFile), RunDir);
        _staleLockNote ??= l.StaleNote;
        return l;
    }

    private IReadOnlyList<(string, Optimizer)> Optimizers => Parts.All.Select(p => (p.Name, p.Optimizer)).ToList();

    private static int Int(Dictionary<string, string> m, string k) => m.TryGetValue(k, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : 0;
    private static double Dbl(Dictionary<string, string> m, string k, double fallback) => m.TryGetValue(k, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The batch's images and labels, shuffled by (seed, epoch) and, if enabled, augmented by (seed, epoch, index).</summary>
    private void FillBatch(int[] order, int step, float[] buf, int[] labels, int[] indices)
    {
        int b = Options.BatchSize, px = Train.PixelsPerImage;
        ulong augSeed = CounterRng.Derive(Options.Seed, 0xA09E);
        for (int i = 0; i < b; i++)
        {
            int idx = order[step * b + i];
            if (Options.Augment) Augment.Apply(Train.Image(idx), buf.AsSpan(i * px, px), Train.Height, Train.Width, augSeed, (ulong)_epoch * (ulong)Train.Count + (ulong)idx);
            else Train.Image(idx).CopyTo(buf.AsSpan(i * px, px));
            labels[i] = Train.Labels[idx];
            indices[i] = idx;
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

    /// <summary>
    /// Steps whose scalars (loss, ...) wait on the device before one read brings them back (they are also read every
    /// quarter second, at the epoch's end and before a save). Progress callbacks see each step, late by up to this many.
    /// </summary>
    public int ReadEvery { get; set; } = 64;

    /// <summary>Trains until Options.Epochs are done or cancellation; returns true when finished.</summary>
    public bool Run(Action<StepProgress>? onStep, Action<EpochMetrics>? onEpoch, CancellationToken ct)
    {
        using var held = Lock();
        if (_staleLockNote is not null) { Log?.Invoke(_staleLockNote); _staleLockNote = null; }
        if (_resumeMeta is { } meta)
        {
            // The logs cut back to the checkpoint (a run killed by an older binary, which wrote them first, may run past
            // it), then completed from it (killed between the checkpoint and the logs).
            var kept = RunLogs.Trim(RunDir, _epoch, (long)_epoch * StepsPerEpoch + _step, Log);
            if (kept.Count > 0 && kept[^1]["class_histogram"] is JsonArray h) _lastHistogram = h.Select(v => v!.GetValue<double>()).ToArray();
            RunLogs.Restore(RunDir, meta.GetValueOrDefault("train.pending_metrics"), meta.GetValueOrDefault("train.pending_steps"), _epoch, Scalars, Log);
            _resumeMeta = null;
        }
        int b = Options.BatchSize, steps = StepsPerEpoch;
        var buf = new float[b * Train.PixelsPerImage];
        var labels = new int[b];
        var indices = new int[b];
        var x = TensorScope.Persist(Tensor.Empty(Device, b, 1, Train.Height, Train.Width));
        var batch = new Batch(x, labels, indices);
        var values = new double[_sums.Length];
        if (Model is IPrepared prepared && !_prepared)
        {
            using (TensorScope.Begin()) prepared.Prepare(new TrainingContext(Train, Test, RunDir, _epoch == 0 && _step == 0, Options, Log));
            _prepared = true;
        }
        Model.Train();
        // The steps' scalars stay on the device, a row per step, and are read back together (one host read) when the
        // window fills, every quarter second, and before anything uses them (the epoch's end, a save): on a GPU the
        // queue drains four times a second instead of at every step. Reading later changes no value and no sum's order.
        int width = _sums.Length, window = Math.Max(1, ReadEvery), pendingRows = 0;
        var pending = TensorScope.Persist(Tensor.Zeros(Device, window, width));
        var rows = new float[window * width];
        var flushClock = Stopwatch.StartNew();
        while (_epoch < Options.Epochs)
        {
            var order = Order(_epoch);
            var sw = Stopwatch.StartNew();
            var cpu0 = ProcessCpuSeconds();
            int stepsThisSession = 0;
            void Flush()
            {
                if (pendingRows == 0) return;
                pending.CopyTo(rows);
                double rate = stepsThisSession * b / sw.Elapsed.TotalSeconds;
                for (int r = 0; r < pendingRows; r++)
                {
                    int step = _step - pendingRows + r + 1;   // 1-based within the epoch
                    for (int i = 0; i < width; i++)
                    {
                        values[i] = rows[r * width + i];
                        if (!double.IsFinite(values[i]))
                            throw new InvalidOperationException($"{Scalars[i]} became {values[i]} at epoch {_epoch + 1}, step {step}; try a smaller ⟨lr⟩");
                        _sums[i] += values[i];
                    }
                    _stepRows.Append(((long)_epoch * steps + step).ToString(CultureInfo.InvariantCulture)).Append(',')
                             .Append((_epoch + step / (double)steps).ToString("0.####", CultureInfo.InvariantCulture));
                    foreach (var v in values) _stepRows.Append(',').Append(v.ToString("G7", CultureInfo.InvariantCulture));
                    _stepRows.Append('\n');
                    var eta = TimeSpan.FromSeconds(((Options.Epochs - _epoch - 1) * steps + (steps - step)) * b / Math.Max(rate, 1e-9));
                    onStep?.Invoke(new StepProgress(_epoch + 1, Options.Epochs, step, steps, Scalars, values, rate, eta));
                }
                pendingRows = 0;
                flushClock.Restart();
            }
            while (_step < steps)
            {
                if (ct.IsCancellationRequested) { Flush(); _epochSeconds += sw.Elapsed.TotalSeconds; _epochCpuSeconds += ProcessCpuSeconds() - cpu0; Save(); return false; }
                FillBatch(order, _step, buf, labels, indices);
                x.CopyFrom(buf);
                float lr = _lr.At(_epoch * steps + _step);
                foreach (var p in Parts.All) p.Optimizer.LearningRate = lr * p.LrScale;
                using (TensorScope.Begin())
                {
                    var s = Trainable.TrainStep(batch, Parts);
                    for (int i = 0; i < width; i++) Device.Copy2D(s[i], 0, 0, pending, pendingRows * width + i, 0, 1, 1);
                }
                pendingRows++; _step++; stepsThisSession++;
                if (pendingRows == window || _step == steps || flushClock.ElapsedMilliseconds >= 250) Flush();
            }
            _epochSeconds += sw.Elapsed.TotalSeconds;
            _epochCpuSeconds += ProcessCpuSeconds() - cpu0;
            var m = EndEpoch(steps, b);
            _epoch++; _step = 0; Array.Clear(_sums); _epochSeconds = 0; _epochCpuSeconds = 0;
            Save();
            Model.Train();
            onEpoch?.Invoke(m);
        }
        return true;
    }

    private EpochMetrics EndEpoch(int steps, int b)
    {
        var rec = new JsonObject { ["epoch"] = _epoch + 1 };
        for (int i = 0; i < _sums.Length; i++) rec[Scalars[i]] = _sums[i] / steps;
        foreach (var (name, v) in Trainable.Validate(Test, Options.EvalImages)) rec[name] = v;
        string? warning = null;
        if (Model is IEpochStatistics stats)
        {
            var (values, w) = stats.EndEpoch();
            foreach (var (name, v) in values) rec[name] = v;
            warning = w;
        }
        int[] lost = [];
        if (Model is IGenerative g && Options.FidEvery > 0 && ((_epoch + 1) % Options.FidEvery == 0 || _epoch + 1 == Options.Epochs)
            && _scores.Score(g) is { } sc)
        {
            rec["fid"] = sc.Fid; rec["is"] = sc.Is; rec["is_std"] = sc.IsStd; rec["fid_samples"] = sc.Count;
            rec["modes"] = sc.Modes.Modes; rec["modes_kl"] = sc.Modes.Kl;
            rec["class_histogram"] = new JsonArray(sc.Modes.Histogram.Select(h => (JsonNode)Math.Round(h, 6)).ToArray());
            if (_lastHistogram is not null) lost = sc.Modes.Lost(_lastHistogram);
            _lastHistogram = sc.Modes.Histogram;
        }
        rec["seconds"] = _epochSeconds; rec["samples_per_s"] = steps * b / _epochSeconds;
        if (double.IsFinite(_epochCpuSeconds)) rec["cpu_seconds"] = _epochCpuSeconds;
        rec["lr"] = Parts.All[0].Optimizer.LearningRate;
        rec["device"] = Device.Name; rec["build"] = BuildInfo.Commit;   // which binary trained this epoch (a resumed run may show two)
        if (Device.Name == "cpu") rec["threads"] = QGenEngine.Kernels.Cpu.CpuParallel.Threads;
        _pendingMetric = rec.ToJsonString();   // written by the Save that follows: after the checkpoint that holds it
        return new EpochMetrics(_epoch + 1, rec, lost, warning);
    }

    /// <summary>
    /// The checkpoint first, holding in its metadata the log lines written since the last save; then metrics.jsonl and
    /// steps.csv, each replaced whole (a new file renamed over the old, never appended to in place). A kill at any moment
    /// leaves a checkpoint that loads and logs that stop at or before it - never past it, never a torn line - and a
    /// resume writes what the logs lack from the checkpoint (RunLogs.Trim, RunLogs.Restore).
    /// </summary>
    private void Save()
    {
        var meta = new Dictionary<string, string>
        {
            ["train.epoch"] = Invariant(_epoch), ["train.step"] = Invariant(_step), ["train.epoch_seconds"] = Invariant(_epochSeconds),
            ["train.epoch_cpu_seconds"] = Invariant(_epochCpuSeconds), ["model"] = Options.Model,
            ["train.pending_steps"] = _stepRows.ToString(),
        };
        if (_pendingMetric is not null) meta["train.pending_metrics"] = _pendingMetric;
        for (int i = 0; i < _sums.Length; i++) meta[$"train.sum.{Scalars[i]}"] = Invariant(_sums[i]);
        Checkpoint.Save(Path.Combine(RunDir, CheckpointFile), Model, Optimizers, meta);
        RunLogs.Append(RunDir, _pendingMetric, _stepRows.ToString(), Scalars);
        _pendingMetric = null;
        _stepRows.Clear();
    }

    private static double ProcessCpuSeconds() => Environment.CpuUsage.TotalTime.TotalSeconds;   // getrusage: user + system, every thread

    private static string Invariant(int v) => v.ToString(CultureInfo.InvariantCulture);
    private static string Invariant(double v) => v.ToString("R", CultureInfo.InvariantCulture);

}
