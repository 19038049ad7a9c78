using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using QGenEngine.Kernels;
using QGenEngine.Kernels.Cpu;
using QGenEngine.Models;
using QGenEngine.Models.Metrics;
using QGenEngine.Models.Training;

namespace QGenEngine.Cli.Commands;

/// <summary>`qgen-engine train MODEL`: any model of the catalogue through the one training loop; progress, run directory, pictures.</summary>
public static class TrainCommand
{
    public static Command Build(TextWriter stdout, Func<CancellationToken> cancel)
    {
        var model = new Argument<string>("model") { Description = ModelCatalog.Names };
        var epochs = new Option<int?>("--epochs") { Description = "epochs (default: the report's 20)" };
        var batch = new Option<int?>("--batch-size") { Description = "batch size (default: 64 for vae and gan, 32 for qvae and vae-attn, 128 for classifier)" };
        var lr = new Option<float?>("--lr") { Description = "Adam learning rate (default 1e-3; gan 2e-4; classifier 2e-3)" };
        var latent = new Option<int?>("--latent") { Description = "latent size (default 32; gan 100)" };
        var qubits = new Option<int?>("--qubits") { Description = "qubits of the attention circuit (default 8)" };
        var layers = new Option<int?>("--layers") { Description = "circuit layers (default 3)" };
        var entangler = new Option<string?>("--entangler") { Description = "linear | circular | all (default linear)" };
        var readout = new Option<string?>("--readout") { Description = "probs | expval (default probs)" };
        var encoding = new Option<string?>("--encoding") { Description = "qvae: angle (default: π·tanh of a Linear of h, an angle a qubit) | amplitude (h as the 256 amplitudes of 8 qubits)" };
        var device = DeviceOption.Create();
        var seed = new Option<ulong?>("--seed") { Description = "seed of everything random in the run (default 1)" };
        var limit = new Option<int?>("--limit") { Description = "train on the first N training images" };
        var noAug = new Option<bool>("--no-augment") { Description = "no rotation/translation augmentation" };
        var dataset = new Option<string?>("--dataset") { Description = "mnist | fashion (default mnist)" };
        var data = new Option<string?>("--data") { Description = "an IDX directory instead of --dataset" };
        var evalImages = new Option<int?>("--eval-images") { Description = "test images scored after each epoch (default 1000)" };
        var outDir = new Option<string?>("--out") { Description = "run directory (default runs/<model>-<date>-<time>)" };
        var resume = new Option<bool>("--resume") { Description = "continue the run in --out from its last checkpoint" };
        var beta1 = new Option<float?>("--beta1") { Description = "Adam's beta1 (default 0.9; gan 0.5)" };
        var fidEvery = new Option<int?>("--fid-every") { Description = "FID, IS and modes of generated images every E epochs (default 1; 0: never)" };
        var fidSamples = new Option<int?>("--fid-samples") { Description = "images generated for FID during training (default 2000)" };
        var codebookSize = new Option<int?>("--codebook-size") { Description = "vqvae: codes in the codebook, K (default 512)" };
        var codeDim = new Option<int?>("--code-dim") { Description = "vqvae: dimension of a code, D (default 64)" };
        var commitment = new Option<float?>("--commitment") { Description = "vqvae: commitment weight beta (default 0.25)" };
        var ema = new Option<bool?>("--ema") { Description = "vqvae: codebook by exponential moving averages, decay 0.99, instead of its gradient (default true; --ema false)" };
        var kmeans = new Option<bool?>("--kmeans-init") { Description = "vqvae: codebook from k-means++ of the first 1,024 training images' encodings (default true)" };
        var restartDead = new Option<int?>("--restart-dead") { Description = "vqvae: re-draw codes unused for N steps from the batch's encodings (default 100; 0: never)" };
        var vqvae = new Option<string?>("--vqvae") { Description = "prior: the vqvae run directory whose codes it models" };
        var quantumParts = new Option<string?>("--quantum") { Description = "qgan: generator | discriminator | both (default generator); router: the quantum model's run directory" };
        var classical = new Option<string?>("--classical") { Description = "router: the classical model's run directory (vae, qvae or vae-attn)" };
        var estimator = new Option<string?>("--estimator") { Description = "router: cnn (a tiny CNN on the image, default) | linear (a linear model on cheap image statistics)" };
        var grad = new Option<string?>("--grad") { Description = "circuit gradients: adjoint (exact, default) | shift (parameter-shift, as hardware; needed with --noise or shots)" };
        var noise = new Option<string?>("--noise") { Description = "circuit noise, e.g. depolarizing=0.01,damping=0.02,dephasing=0.01,readout=0.02 (needs --grad shift)" };
        var noiseModel = new Option<string?>("--noise-model") { Description = "circuit noise from a device's calibration: a JSON file, ours or IBM's backend properties (docs/noise-model.md; needs --grad shift)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "check the options and print the run's configuration, without training" };
        var cmd = new Command("train", "Train a model on MNIST and keep its run directory")
        {
            dryRun, encoding,
            model, epochs, batch, lr, latent, qubits, layers, entangler, readout, device, seed, limit, noAug, dataset, data, evalImages, outDir, resume,
            beta1, fidEvery, fidSamples, codebookSize, codeDim, commitment, ema, kmeans, restartDead, vqvae, quantumParts, grad, noise, noiseModel, classical, estimator,
        };
        cmd.SetAction(p =>
        {
            string m = p.GetValue(model)!;
            var entry = ModelCatalog.Find(m) ?? throw new CliException($"unknown model '{m}'; expected one of {ModelCatalog.Names}");
            bool isResume = p.GetValue(resume);
            string? given = p.GetValue(outDir);
            if (isResume && given is null) throw new CliException("--resume needs --out DIR: the run directory to continue");
            string dir = given ?? Path.Combine("runs", $"{m}-{DateTime.Now:yyyyMMdd-HHmmss}");
            TrainOptions o;
            if (isResume)
            {
                var cfg = Path.Combine(dir, Trainer.ConfigFile);
                if (!File.Exists(cfg)) throw new CliException($"{cfg}: not found; --resume needs the --out of an earlier run");
                o = ModelCatalog.ReadOptions(dir);
                if (o.Model != m) throw new CliException($"{cfg}: the run trains '{o.Model}', not '{m}'");
                if (p.GetValue(epochs) is { } e) o = o with { Epochs = e };   // extend a finished run
                // Checkpoints are device-neutral: a run may continue on another backend (--device, QGEN_DEVICE).
                if (p.GetValue(device) is not null || Environment.GetEnvironmentVariable(Backends.EnvironmentVariable) is { Length: > 0 })
                    o = o with { Device = DeviceOption.Name(p.GetValue(device)) };
                var ignored = new Option[] { batch, lr, latent, qubits, layers, entangler, readout, encoding, seed, limit, dataset, data, evalImages, beta1, fidEvery, fidSamples,
                                             codebookSize, codeDim, commitment, ema, kmeans, restartDead, vqvae, quantumParts, grad, noise, noiseModel, classical, estimator }
                    .Where(opt => p.GetResult(opt) is not null).Select(opt => opt.Name).ToList();
                if (ignored.Count > 0) stdout.WriteLine($"note: a resumed run keeps the settings in {cfg}; ignoring {string.Join(", ", ignored)}");
            }
            else
            {
                var d = entry.Defaults;
                o = d with
                {
                    Epochs = p.GetValue(epochs) ?? d.Epochs, BatchSize = p.GetValue(batch) ?? d.BatchSize, Lr = p.GetValue(lr) ?? d.Lr,
                    Latent = p.GetValue(latent) ?? d.Latent, Qubits = p.GetValue(qubits) ?? d.Qubits, Layers = p.GetValue(layers) ?? d.Layers,
                    Entangler = p.GetValue(entangler) ?? d.Entangler, Readout = p.GetValue(readout) ?? d.Readout, Encoding = p.GetValue(encoding) ?? d.Encoding,
                    Device = DeviceOption.Name(p.GetValue(device)),
                    Seed = p.GetValue(seed) ?? d.Seed, Limit = p.GetValue(limit) ?? 0, Augment = d.Augment && !p.GetValue(noAug),
                    Dataset = p.GetValue(dataset) ?? d.Dataset, DataDir = p.GetValue(data), EvalImages = p.GetValue(evalImages) ?? d.EvalImages,
                    Beta1 = p.GetValue(beta1) ?? d.Beta1, FidEvery = p.GetValue(fidEvery) ?? d.FidEvery, FidSamples = p.GetValue(fidSamples) ?? d.FidSamples,
                    CodebookSize = p.GetValue(codebookSize) ?? d.CodebookSize, CodeDim = p.GetValue(codeDim) ?? d.CodeDim,
                    Commitment = p.GetValue(commitment) ?? d.Commitment, Ema = p.GetValue(ema) ?? d.Ema, KMeansInit = p.GetValue(kmeans) ?? d.KMeansInit,
                    RestartDead = p.GetValue(restartDead) ?? d.RestartDead, VqVae = p.GetValue(vqvae),
                    Quantum = p.GetValue(quantumParts) ?? d.Quantum, Grad = p.GetValue(grad) ?? d.Grad, Noise = p.GetValue(noise) ?? d.Noise, NoiseModelFile = p.GetValue(noiseModel) is { } nmf ? Path.GetFullPath(nmf) : null,
                    ClassicalRun = p.GetValue(classical), Estimator = p.GetValue(estimator) ?? d.Estimator,
                };
            }
            if (p.GetValue(dryRun))
            {
                o.Validate();
                stdout.WriteLine(o.ToJson().ToJsonString());
                return 0;
            }
            var dev = Backends.Get(o.Device);
            var trainer = new Trainer(o, dir, dev, isResume) { Log = stdout.WriteLine };
            long quantum = trainer.Model.NamedModules().Select(m => m.Module).OfType<QGenEngine.Quantum.QuantumLayer>().Sum(q => q.Weight.Numel);
            bool partial = trainer.Trainable.Parts.Sum(t => t.Module.ParameterCount) != trainer.Model.ParameterCount;   // the prior: its VQ-VAE is frozen
            string parts = (trainer.Parts.All.Count > 1 || partial ? " (" + string.Join(", ", trainer.Trainable.Parts.Select(t => $"{t.Name} {t.Module.ParameterCount:N0}")) + (partial ? " trained" : "") + ")" : "")
                         + (quantum > 0 ? $" ({quantum} circuit angles)" : "");
            stdout.WriteLine($"{m}: {trainer.Model.ParameterCount:N0} parameters{parts}, {trainer.Train.Count:N0} training images ({trainer.Train.Source}), " +
                             $"batch {o.BatchSize}, Adam lr {o.Lr.ToString(CultureInfo.InvariantCulture)}{(o.Cosine ? " cosine" : "")} beta1 {o.Beta1.ToString(CultureInfo.InvariantCulture)}, " +
                             $"device {DeviceOption.Describe(dev)}{(dev.Name == "cpu" ? $" ({CpuParallel.Threads} threads)" : "")}, seed {o.Seed}");
            stdout.WriteLine($"run directory: {Path.GetFullPath(dir)}" + (isResume ? $" (resuming after epoch {trainer.CompletedEpochs})" : ""));
            var bar = new ProgressBar(stdout, interactive: ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected);
            bool done = trainer.Run(bar.Step, em =>
            {
                stdout.WriteLine(EpochLine(em, o.Epochs));
                if (em.Warning is not null) stdout.WriteLine("warning: " + em.Warning);
                foreach (int c in em.LostClasses)
                    stdout.WriteLine($"warning: digit {c} has vanished from the samples (under {ModeStats.CoveredFraction:P0} of its share) - a sign of mode collapse");
                Artifacts.Write(trainer, em.Epoch);
            }, cancel());
            if (!done)
            {
                stdout.WriteLine($"interrupted: saved the checkpoint in {dir}; continue with: qgen-engine train {m} --out {dir} --resume");
                return 130;
            }
            stdout.WriteLine($"done: {dir}/ holds {string.Join(", ", Directory.GetFiles(dir).Select(Path.GetFileName).Where(f => !f!.StartsWith("samples-epoch", StringComparison.Ordinal) && f != Trainer.LockFile).Order(StringComparer.Ordinal))}");
            if (m == "classifier")
                stdout.WriteLine($"to make it the metric classifier: cp {Path.Combine(dir, Trainer.CheckpointFile)} models/{MetricClassifier.FileName}");
            return 0;
        });
        return cmd;
    }

    /// <summary>The line printed after each epoch: the scalars' means, then validation and sample quality where measured.</summary>
    public static string EpochLine(EpochMetrics em, int epochs)
    {
        var v = em.Values;
        var sb = new System.Text.StringBuilder($"epoch {em.Epoch}/{epochs} ");
        foreach (var (k, node) in v)
        {
            if (k is "epoch" or "seconds" or "samples_per_s" or "lr" or "is_std" or "fid_samples" or "modes_kl" or "threads"
                || node is not JsonValue value || value.GetValueKind() != System.Text.Json.JsonValueKind.Number) continue;   // device, build, histograms
            double x = EpochMetrics.Number(node!);
            string key = k.Replace('_', ' ');
            sb.Append(k switch
            {
                "test_ssim" or "test_accuracy" or "test_spearman" => $" {key} {x:F4}",
                "modes" => $" modes {x:F0}/10",
                "codes_used" or "dead_codes" or "restarted_codes" => $" {key} {x:F0}",
                _ when k.StartsWith("circuit_", StringComparison.Ordinal) => $" {key} {x:G3}",
                "d_real" or "d_fake" => $" {key} {x:F3}",
                _ => $" {key} {x:F2}",
            });
        }
        sb.Append($"  {em.Get("seconds"):F1}s ({em.Get("samples_per_s"):F0} img/s)");
        return sb.ToString();
    }
}

/// <summary>The pictures of a run, redrawn after every epoch from what the model can do.</summary>
public static class Artifacts
{
    public static void Write(Trainer t, int epoch)
    {
        string d = t.RunDir;
        var dev = t.Device;
        if (t.Model is IGenerative g)
        {
            // Fixed latents: the same 64 points in latent space every epoch, so epochs can be compared.
            var samples = Evaluation.Generate(g, dev, 64, Trainer.FixedNoiseSeed);
            Imaging.SaveGrid(Path.Combine(d, "samples.png"), samples, 64, 8);
            Imaging.SaveGrid(Path.Combine(d, $"samples-epoch-{epoch:D2}.png"), samples, 64, 8);
        }
        if (t.Model is IReconstructive r)
        {
            var (recon, _) = Evaluation.Reconstruct(r, dev, t.Test.Pixels, 16);
            // Two blocks of 8: a row of test digits above the row of their reconstructions.
            var rows = new float[32 * 784];
            for (int blk = 0; blk < 2; blk++)
            {
                t.Test.Pixels.AsSpan(blk * 8 * 784, 8 * 784).CopyTo(rows.AsSpan(blk * 16 * 784));
                recon.AsSpan(blk * 8 * 784, 8 * 784).CopyTo(rows.AsSpan((blk * 16 + 8) * 784));
            }
            Imaging.SaveGrid(Path.Combine(d, "reconstructions.png"), rows, 32, 8);
            if (t.Model is IGenerative { Interpolable: true } gen)
                Imaging.SaveGrid(Path.Combine(d, "interpolation.png"), Evaluation.Interpolate(r, gen, dev, t.Test.Pixels, 6, 10), 60, 10);
        }
        Plots(d, t.Options);
    }

    /// <summary>loss.png, and where the logs have what they show quality.png, codebook.png and circuit.png (what `plot` redraws); returns the files drawn.</summary>
    public static IReadOnlyList<string> Plots(string dir, TrainOptions o)
    {
        var metrics = Trainer.ReadMetrics(dir);
        var drawn = new List<string>();
        void Draw(string file, Func<string, bool> draw)
        {
            string path = Path.Combine(dir, file);
            if (draw(path)) drawn.Add(path);
        }
        Draw("loss.png", p => Imaging.SaveLossPlot(p, Trainer.ReadSteps(dir), metrics, $"{o.Model} on {o.Dataset}"));
        Draw("quality.png", p => Imaging.SaveQualityPlot(p, metrics, $"{o.Model}: sample quality per epoch"));
        Draw("codebook.png", p => Imaging.SaveCodebookPlot(p, metrics, $"{o.Model}: codebook use (K = {o.CodebookSize})"));
        Draw("circuit.png", p => Imaging.SaveCircuitPlot(p, metrics, $"{o.Model}: does the circuit learn?"));
        return drawn;
    }
}
