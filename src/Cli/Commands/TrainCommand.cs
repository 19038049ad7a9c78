using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using QGenEngine.Kernels;
using QGenEngine.Kernels.Cpu;
using QGenEngine.Models.Training;

namespace QGenEngine.Cli.Commands;

/// <summary>`qgen-engine train vae|qvae|vae-attn`: trains, shows progress, keeps the run directory and its pictures.</summary>
public static class TrainCommand
{
    public static Command Build(TextWriter stdout, Func<CancellationToken> cancel)
    {
        var model = new Argument<string>("model") { Description = "vae | qvae | vae-attn | classifier (the metric classifier)" };
        var epochs = new Option<int?>("--epochs") { Description = "epochs (default: the report's 20)" };
        var batch = new Option<int?>("--batch-size") { Description = "batch size (default: 64 for vae, 32 for qvae and vae-attn)" };
        var lr = new Option<float?>("--lr") { Description = "Adam learning rate (default 1e-3)" };
        var latent = new Option<int?>("--latent") { Description = "latent size (default 32)" };
        var qubits = new Option<int?>("--qubits") { Description = "qubits of the attention circuit (default 8)" };
        var layers = new Option<int?>("--layers") { Description = "circuit layers (default 3)" };
        var entangler = new Option<string?>("--entangler") { Description = "linear | circular | all (default linear)" };
        var readout = new Option<string?>("--readout") { Description = "probs | expval (default probs)" };
        var device = DeviceOption.Create();
        var seed = new Option<ulong?>("--seed") { Description = "seed of everything random in the run (default 1)" };
        var limit = new Option<int?>("--limit") { Description = "train on the first N training images" };
        var noAug = new Option<bool>("--no-augment") { Description = "no rotation/translation augmentation" };
        var dataset = new Option<string?>("--dataset") { Description = "mnist | fashion (default mnist)" };
        var data = new Option<string?>("--data") { Description = "an IDX directory instead of --dataset" };
        var evalImages = new Option<int?>("--eval-images") { Description = "test images scored after each epoch (default 1000)" };
        var outDir = new Option<string?>("--out") { Description = "run directory (default runs/<model>-<date>-<time>)" };
        var resume = new Option<bool>("--resume") { Description = "continue the run in --out from its last checkpoint" };
        var cmd = new Command("train", "Train a model on MNIST and keep its run directory")
        {
            model, epochs, batch, lr, latent, qubits, layers, entangler, readout, device, seed, limit, noAug, dataset, data, evalImages, outDir, resume,
        };
        cmd.SetAction(p =>
        {
            string m = p.GetValue(model)!;
            if (m == "classifier")
                return TrainClassifier(stdout, p.GetValue(epochs) ?? 8, p.GetValue(batch) ?? 128, p.GetValue(lr) ?? 2e-3f, p.GetValue(seed) ?? 1,
                                       p.GetValue(outDir) ?? MetricClassifier.DefaultDir(), p.GetValue(device));
            if (m is not ("vae" or "qvae" or "vae-attn")) throw new CliException($"unknown model '{m}'; expected vae, qvae, vae-attn or classifier");
            bool isResume = p.GetValue(resume);
            string? given = p.GetValue(outDir);
            if (isResume && given is null) throw new CliException("--resume needs --out DIR: the run directory to continue");
            string dir = given ?? Path.Combine("runs", $"{m}-{DateTime.Now:yyyyMMdd-HHmmss}");
            TrainOptions o;
            if (isResume)
            {
                var cfg = Path.Combine(dir, VaeTrainer.ConfigFile);
                if (!File.Exists(cfg)) throw new CliException($"{cfg}: not found; --resume needs the --out of an earlier run");
                o = TrainOptions.FromJson(JsonNode.Parse(File.ReadAllText(cfg))!.AsObject(), cfg);
                if (o.Model != m) throw new CliException($"{cfg}: the run trains '{o.Model}', not '{m}'");
                if (p.GetValue(epochs) is { } e) o = o with { Epochs = e };   // extend a finished run
                // Checkpoints are device-neutral: a run may continue on another backend (--device, QGEN_DEVICE).
                if (p.GetValue(device) is not null || Environment.GetEnvironmentVariable(Backends.EnvironmentVariable) is { Length: > 0 })
                    o = o with { Device = DeviceOption.Name(p.GetValue(device)) };
                var ignored = new Option[] { batch, lr, latent, qubits, layers, entangler, readout, seed, limit, dataset, data, evalImages }
                    .Where(opt => p.GetResult(opt) is not null).Select(opt => opt.Name).ToList();
                if (ignored.Count > 0) stdout.WriteLine($"note: a resumed run keeps the settings in {cfg}; ignoring {string.Join(", ", ignored)}");
            }
            else
            {
                var d = TrainOptions.Defaults(m);
                o = d with
                {
                    Epochs = p.GetValue(epochs) ?? d.Epochs, BatchSize = p.GetValue(batch) ?? d.BatchSize, Lr = p.GetValue(lr) ?? d.Lr,
                    Latent = p.GetValue(latent) ?? d.Latent, Qubits = p.GetValue(qubits) ?? d.Qubits, Layers = p.GetValue(layers) ?? d.Layers,
                    Entangler = p.GetValue(entangler) ?? d.Entangler, Readout = p.GetValue(readout) ?? d.Readout,
                    Device = DeviceOption.Name(p.GetValue(device)),
                    Seed = p.GetValue(seed) ?? d.Seed, Limit = p.GetValue(limit) ?? 0, Augment = !p.GetValue(noAug),
                    Dataset = p.GetValue(dataset) ?? d.Dataset, DataDir = p.GetValue(data), EvalImages = p.GetValue(evalImages) ?? d.EvalImages,
                };
            }
            var dev = Backends.Get(o.Device);
            var trainer = new VaeTrainer(o, dir, dev, isResume);
            stdout.WriteLine($"{m}: {trainer.Model.ParameterCount:N0} parameters ({QuantumParameters(trainer)} in the circuit), {trainer.Train.Count:N0} training images ({trainer.Train.Source}), " +
                             $"batch {o.BatchSize}, lr {o.Lr.ToString(CultureInfo.InvariantCulture)}{(o.Cosine ? " cosine" : "")}, device {DeviceOption.Describe(dev)}{(dev.Name == "cpu" ? $" ({CpuParallel.Threads} threads)" : "")}, seed {o.Seed}");
            stdout.WriteLine($"run directory: {Path.GetFullPath(dir)}" + (isResume ? $" (resuming after epoch {trainer.CompletedEpochs})" : ""));
            var bar = new ProgressBar(stdout, interactive: ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected);
            bool done = trainer.Run(bar.Step, em =>
            {
                stdout.WriteLine($"epoch {em.Epoch}/{o.Epochs}  loss {em.Loss:F2} (bce {em.Bce:F2}, kl {em.Kl:F2})  test bce {em.TestBce:F2}  test ssim {em.TestSsim:F4}  " +
                                 $"{em.Seconds:F1}s ({em.SamplesPerSecond:F0} img/s)");
                Artifacts.Write(trainer);
            }, cancel());
            if (!done)
            {
                stdout.WriteLine($"interrupted: saved the checkpoint in {dir}; continue with: qgen-engine train {m} --out {dir} --resume");
                return 130;
            }
            stdout.WriteLine($"done: {dir}/ holds config.json, checkpoint.safetensors, metrics.jsonl, samples.png, reconstructions.png, interpolation.png, loss.png");
            return 0;
        });
        return cmd;
    }

    private static int TrainClassifier(TextWriter stdout, int epochs, int batch, float lr, ulong seed, string dir, string? device)
    {
        if (epochs < 1) throw new CliException($"--epochs: {epochs} must be ≥ 1");
        if (batch < 2) throw new CliException($"--batch-size: {batch} must be ≥ 2");
        var dev = DeviceOption.Resolve(device);
        var (dataDir, verify) = QGenEngine.Models.Data.DataSets.Resolve("mnist", null);
        var train = QGenEngine.Models.Data.DataSets.Load(dataDir, "train", verify);
        var test = QGenEngine.Models.Data.DataSets.Load(dataDir, "t10k", verify);
        stdout.WriteLine($"classifier: {epochs} epochs, batch {batch}, lr {lr.ToString(CultureInfo.InvariantCulture)} cosine, seed {seed}, device {DeviceOption.Describe(dev)}");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var model = ClassifierTrainer.Train(dev, train, test, epochs, batch, lr, seed,
            (e, k, l) => { if (k % 100 == 0) stdout.WriteLine($"  epoch {e} step {k}/{train.Count / batch} loss {l:F4}"); },
            (e, l, acc) => stdout.WriteLine($"epoch {e}/{epochs}  loss {l:F4}  test accuracy {acc:P2}  ({sw.Elapsed.TotalSeconds:F0}s)"));
        double accuracy = ClassifierTrainer.Accuracy(model, dev, test);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, MetricClassifier.FileName);
        QGenEngine.Autograd.Checkpoint.Save(path, model, extra: new Dictionary<string, string>
        {
            ["command"] = $"qgen-engine train classifier --epochs {epochs} --batch-size {batch} --lr {lr.ToString(CultureInfo.InvariantCulture)} --seed {seed}",
            ["test_accuracy"] = accuracy.ToString("R", CultureInfo.InvariantCulture),
        });
        stdout.WriteLine($"wrote {path}: test accuracy {accuracy:P2}");
        return 0;
    }

    private static long QuantumParameters(VaeTrainer t) => t.Model.NamedParameters().Where(p => p.Name.Contains("circuit", StringComparison.Ordinal)).Sum(p => p.Param.Numel);
}

/// <summary>The pictures of a run, redrawn after every epoch.</summary>
public static class Artifacts
{
    public static void Write(VaeTrainer t)
    {
        string d = t.RunDir;
        Imaging.SaveGrid(Path.Combine(d, "samples.png"), t.Sample(64), 64, 8);
        var (orig, recon) = t.Reconstruct(16);
        // Two blocks of 8: a row of test digits above the row of their reconstructions.
        var rows = new float[32 * 784];
        for (int blk = 0; blk < 2; blk++)
        {
            orig.AsSpan(blk * 8 * 784, 8 * 784).CopyTo(rows.AsSpan(blk * 16 * 784));
            recon.AsSpan(blk * 8 * 784, 8 * 784).CopyTo(rows.AsSpan((blk * 16 + 8) * 784));
        }
        Imaging.SaveGrid(Path.Combine(d, "reconstructions.png"), rows, 32, 8);
        Imaging.SaveGrid(Path.Combine(d, "interpolation.png"), t.Interpolate(6, 10), 60, 10);
        Imaging.SaveLossPlot(Path.Combine(d, "loss.png"), VaeTrainer.ReadMetrics(d), $"{t.Options.Model} on {t.Options.Dataset}");
    }
}
