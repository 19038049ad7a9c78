using QGenEngine.Studies;
using System.CommandLine;
using System.Globalization;
using QGenEngine.Kernels;
using QGenEngine.Kernels.Cpu;
using QGenEngine.Models;
using QGenEngine.Models.Metrics;
using QGenEngine.Models.Training;

namespace QGenEngine.Cli.Commands;

/// <summary>`qgen-engine train MODEL`: any model of the catalogue through the one training loop; progress, run directory, pictures.</summary>
public static class TrainCommand
{
    /// <summary>A setting's flag: --key with dashes (--no-key for a switch that turns it off).</summary>
    public static string FlagOf(Setting s) => (s.Flag == SettingFlag.NegatedSwitch ? "--no-" : "--") + s.Key.Replace('_', '-');

    /// <summary>Every flag any model's `train` takes (without --), and whether it is a switch (a study spec's checks).</summary>
    public static IReadOnlyDictionary<string, bool> AllFlags() =>
        ModelCatalog.All.SelectMany(e => e.Settings).Where(s => s.Flag != SettingFlag.None).Distinct()
                    .ToDictionary(s => FlagOf(s)[2..], s => s.Flag == SettingFlag.NegatedSwitch);

    /// <summary>
    /// `train MODEL`, one command per catalogue entry, its flags made from the settings the entry lists (so `train vae
    /// --help` shows the vae's options with the vae's defaults, and `train vae --qubits 4` is refused by the parser).
    /// </summary>
    public static Command Build(TextWriter stdout, Func<CancellationToken> cancel)
    {
        var cmd = new Command("train", $"Train a model on MNIST and keep its run directory: train MODEL [options] (MODEL: {ModelCatalog.Names}; train MODEL --help lists its options and defaults)");
        // Catches a model name no subcommand matches (for the one-line "unknown model" message); not shown in help.
        var model = new Argument<string?>("model") { Description = ModelCatalog.Names, Arity = ArgumentArity.ZeroOrOne, Hidden = true };
        cmd.Arguments.Add(model);
        cmd.SetAction((Func<ParseResult, int>)(p => throw new CliException(p.GetValue(model) is { } m
            ? $"unknown model '{m}'; expected one of {ModelCatalog.Names}" : $"train needs a model: one of {ModelCatalog.Names}")));
        foreach (var entry in ModelCatalog.All) cmd.Subcommands.Add(ForModel(entry, stdout, cancel));
        return cmd;
    }

    /// <summary>Whether a model's `train` takes a flag (given without --).</summary>
    public static bool Takes(string model, string flag) => ModelCatalog.Find(model)?.Settings.Any(s => FlagOf(s) == "--" + flag) ?? false;

    /// <summary>Why the parser refused a `train` flag, in words: the models whose option it is.</summary>
    public static string? ExplainUnknown(IReadOnlyList<string> args)
    {
        if (args.Count < 2 || args[0] != "train" || ModelCatalog.Find(args[1]) is not { } entry) return null;
        var own = entry.Settings.Select(FlagOf).ToHashSet();
        foreach (var a in args.Skip(2).Where(a => a.StartsWith("--", StringComparison.Ordinal)))
        {
            if (own.Contains(a) || a is "--out" or "--resume" or "--dry-run" or "--device" or "--help") continue;
            var others = ModelCatalog.All.Where(e => e.Settings.Any(s => FlagOf(s) == a)).Select(e => e.Name).ToList();
            return others.Count > 0
                ? $"train {entry.Name}: {a} is not one of its options (it is {string.Join(", ", others)}'s); see qgen-engine train {entry.Name} --help"
                : $"train {entry.Name}: unknown option {a}; see qgen-engine train {entry.Name} --help";
        }
        return null;
    }

    private static string Describe(ModelEntry entry, Setting s)
    {
        object? d = entry.Defaults.Get(s);
        return Setting.AsFlags(s.Flag == SettingFlag.NegatedSwitch
            ? $"no {s.Help} ({(d is true ? "on by default" : $"{entry.Name} trains without it anyway")})"
            : $"{s.Help} (default {Setting.Show(d)})");
    }

    private static Command ForModel(ModelEntry entry, TextWriter stdout, Func<CancellationToken> cancel)
    {
        var cmd = new Command(entry.Name, Setting.AsFlags(entry.Summary));
        var flags = new List<(Setting Setting, Option Option)>();
        foreach (var s in entry.Settings.Where(s => s.Flag != SettingFlag.None))
        {
            Option opt = s.Flag == SettingFlag.NegatedSwitch
                ? new Option<bool>(FlagOf(s)) { Description = Describe(entry, s) }
                : new Option<string?>(FlagOf(s))
                {
                    Description = Describe(entry, s), HelpName = s.ValueType == typeof(bool) ? "true|false" : s.Key.Replace('_', '-'),
                    Arity = s.ValueType == typeof(bool) ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,   // --ema alone: true
                };
            flags.Add((s, opt));
            cmd.Options.Add(opt);
        }
        var device = DeviceOption.Create();
        var outDir = new Option<string?>("--out") { Description = "run directory (default runs/<model>-<date>-<time>)" };
        var resume = new Option<bool>("--resume") { Description = "continue the run in --out from its last checkpoint" };
        var dryRun = new Option<bool>("--dry-run") { Description = "check the options and print the run's configuration, without training" };
        cmd.Options.Add(device); cmd.Options.Add(outDir); cmd.Options.Add(resume); cmd.Options.Add(dryRun);
        cmd.SetAction(p =>
        {
            string m = entry.Name;
            bool isResume = p.GetValue(resume);
            string? given = p.GetValue(outDir);
            if (isResume && given is null) throw new CliException("--resume needs --out DIR: the run directory to continue");
            string dir = given ?? Path.Combine("runs", $"{m}-{DateTime.Now:yyyyMMdd-HHmmss}");
            var epochs = flags.First(f => f.Setting == TrainSettings.Epochs).Option;
            TrainOptions o;
            if (isResume)
            {
                var cfg = Path.Combine(dir, Trainer.ConfigFile);
                if (!File.Exists(cfg)) throw new CliException($"{cfg}: not found; --resume needs the --out of an earlier run");
                o = ModelCatalog.ReadOptions(dir);
                if (o.Model != m) throw new CliException($"{cfg}: the run trains '{o.Model}', not '{m}'");
                if (p.GetResult(epochs) is not null) o = o.With(TrainSettings.Epochs, (int)TrainSettings.Epochs.Parse(p.GetValue((Option<string?>)epochs))!);   // extend a finished run
                // Checkpoints are device-neutral: a run may continue on another backend (--device, QGEN_DEVICE).
                if (p.GetValue(device) is not null || Environment.GetEnvironmentVariable(Backends.EnvironmentVariable) is { Length: > 0 })
                    o = o with { Device = DeviceOption.Name(p.GetValue(device)) };
                var ignored = flags.Where(f => f.Option != epochs && p.GetResult(f.Option) is { Implicit: false }).Select(f => f.Option.Name).ToList();
                if (ignored.Count > 0) stdout.WriteLine($"note: a resumed run keeps the settings in {cfg}; ignoring {string.Join(", ", ignored)}");
            }
            else
            {
                o = entry.Defaults with { Device = DeviceOption.Name(p.GetValue(device)) };
                foreach (var (s, opt) in flags)
                {
                    if (p.GetResult(opt) is not { Implicit: false }) continue;
                    o = opt is Option<bool> sw ? (p.GetValue(sw) ? o.With(s, false) : o) : o.With(s, s.Parse(p.GetValue((Option<string?>)opt)));
                }
            }
            if (p.GetValue(dryRun))
            {
                o.Validate();
                stdout.WriteLine(o.ToJson().ToJsonString());
                return 0;
            }
            var dev = Backends.Get(o.Device);
            var trainer = new Trainer(o, dir, dev, isResume) { Log = line => stdout.WriteLine(Setting.AsFlags(line)) };
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
                stdout.WriteLine(EpochLine.Format(em, o.Epochs, trainer.Trainable));
                if (em.Warning is not null) stdout.WriteLine("warning: " + Setting.AsFlags(em.Warning));
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
            if (entry.Afterwards?.Invoke(o, Path.Combine(dir, Trainer.CheckpointFile)) is { } next) stdout.WriteLine(next);
            return 0;
        });
        return cmd;
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
        var metrics = RunLogs.ReadMetrics(dir);
        var drawn = new List<string>();
        void Draw(string file, Func<string, bool> draw)
        {
            string path = Path.Combine(dir, file);
            if (draw(path)) drawn.Add(path);
        }
        Draw("loss.png", p => Imaging.SaveLossPlot(p, RunLogs.ReadSteps(dir), metrics, $"{o.Model} on {o.Dataset}"));
        Draw("quality.png", p => Imaging.SaveQualityPlot(p, metrics, $"{o.Model}: sample quality per epoch"));
        Draw("codebook.png", p => Imaging.SaveCodebookPlot(p, metrics, $"{o.Model}: codebook use (K = {o.Get(VqVaeSettings.CodebookSize)})"));
        Draw("circuit.png", p => Imaging.SaveCircuitPlot(p, metrics, $"{o.Model}: does the circuit learn?"));
        return drawn;
    }
}
