using System.Text.Json.Nodes;

namespace QGenEngine.Models;

/// <summary>
/// One model the engine can train: its name, the settings it takes beyond the training loop's (<see cref="Own"/>, each
/// declared in the model's file), its defaults (MODELS.md) over the settings' own, and how to build it from a run's options.
/// The CLI's `train NAME` command, its --help, config.json and a study spec's checks are made from this entry.
/// </summary>
/// <param name="Create">the untrained model a run's options describe</param>
public sealed record ModelEntry(string Name, string Summary, Func<IDevice, TrainOptions, Module> Create)
{
    /// <summary>The model's own settings, in config.json's order after <see cref="TrainSettings.Common"/>.</summary>
    public IReadOnlyList<Setting> Own { get; init; } = [];

    /// <summary>The model's defaults, over each setting's own default.</summary>
    public Func<TrainOptions, TrainOptions> Configure { get; init; } = o => o;

    /// <summary>Checks of the settings together (<c>files</c>: also the files they name); each setting's own range is checked by itself.</summary>
    public Action<TrainOptions, bool>? Check { get; init; }

    /// <summary>Completes a new run's options before it starts (the prior reads its VQ-VAE run); checks them.</summary>
    public Func<TrainOptions, TrainOptions>? Resolve { get; init; }

    /// <summary>For a model that generates only through another one, the command that makes it ({run}: its run directory).</summary>
    public string? HowToGenerate { get; init; }

    /// <summary>What to do with a finished run, said after training (its options, its checkpoint's path), or null.</summary>
    public Func<TrainOptions, string, string?>? Afterwards { get; init; }

    private IReadOnlyList<Setting>? _settings;
    private TrainOptions? _defaults;

    /// <summary>Every setting the model takes: the training loop's, then its own.</summary>
    public IReadOnlyList<Setting> Settings => _settings ??= [.. TrainSettings.Common, .. Own];

    public TrainOptions Defaults => _defaults ??= Configure(new TrainOptions { Model = Name });

    /// <summary>The model's capabilities, as names: train, generate, reconstruct, classify.</summary>
    public static IEnumerable<string> Capabilities(Module m)
    {
        if (m is ITrainable) yield return "train";
        if (m is IGenerative) yield return "generate";
        if (m is IReconstructive) yield return "reconstruct";
        if (m is IClassifying) yield return "classify";
    }
}

/// <summary>
/// Every model by name. Adding a model is one entry here: the trainer, `sample`, `eval`, the image sets and the CLI's
/// `train` command work from what the model implements (<see cref="ITrainable"/>, <see cref="IGenerative"/>, ...) and
/// the settings its entry lists.
/// </summary>
public static class ModelCatalog
{
    // The GAN family's training settings (DCGAN practice): β1 0.5 over the report's 0.9 gave the lower FID here (README,
    // "GAN"); no augmentation: a GAN learns the distribution it is shown, and FID is taken against unaugmented test digits.
    private static TrainOptions GanTraining(TrainOptions o) =>
        o with { BatchSize = 64, Lr = 2e-4f, Beta1 = 0.5f, Cosine = false, ClipNorm = 0, Augment = false };

    public static IReadOnlyList<ModelEntry> All { get; } =
    [
        new("vae", "the convolutional VAE (latent 32)", (dev, o) => new Vae(dev, o.Seed, VaeConfig.Of(o, AttentionKind.None)))
        {
            Own = [ModelSettings.Latent], Configure = o => o with { BatchSize = 64, Cosine = false, ClipNorm = 0 },
        },
        new("qvae", "the VAE with quantum attention (an 8-qubit circuit's probabilities weight h)", (dev, o) => new Vae(dev, o.Seed, VaeConfig.Of(o, AttentionKind.Quantum)))
        {
            Own = [ModelSettings.Latent, .. CircuitSettings.All, VaeSettings.Encoding], Check = VaeSettings.Check,
        },
        // The control takes the circuit's interface (n angles in, a readout's shape out), not its gates.
        new("vae-attn", "the classical control of qvae: softmax attention of a similar size", (dev, o) => new Vae(dev, o.Seed, VaeConfig.Of(o, AttentionKind.Softmax)))
        {
            Own = [ModelSettings.Latent, CircuitSettings.Qubits, CircuitSettings.Readout],
        },
        new("gan", "DCGAN (z of 100, BCE with the non-saturating generator loss)", (dev, o) => new Gan(dev, o.Seed, GanConfig.Of(o, quantum: false)))
        {
            Own = [ModelSettings.Latent, GanSettings.DLr], Configure = o => GanTraining(o).With(ModelSettings.Latent, 100),
        },
        new("qgan", "the quantum GAN: the generator's latent code (or the discriminator's logit) from an 8-qubit circuit (⟨quantum⟩ says which)",
            (dev, o) => new Gan(dev, o.Seed, GanConfig.Of(o, quantum: true)))
        {
            Own = [ModelSettings.Latent, .. CircuitSettings.All, GanSettings.Quantum, GanSettings.DLr], Check = GanSettings.Check,
            Configure = o => GanTraining(o).With(ModelSettings.Latent, 100),
        },
        // The qgan's classical controls (issue #23): its generator with the circuit replaced, everything else the qgan's;
        // qubits is the number of noise angles (the circuit's interface).
        new("qgan-control", "the classical control of qgan's generator: softmax(Linear(8 -> 256)) in the circuit's place (same U[0, pi)^8 noise)",
            (dev, o) => new Gan(dev, o.Seed, GanConfig.Of(o, quantum: false, GeneratorControl.Softmax)))
        {
            Own = [CircuitSettings.Qubits, GanSettings.DLr], Configure = GanTraining,
        },
        new("gan-uniform", "the GAN fed qgan's noise: 8 angles ~ U[0, pi) straight into its first Linear (no probability vector)",
            (dev, o) => new Gan(dev, o.Seed, GanConfig.Of(o, quantum: false, GeneratorControl.Direct)))
        {
            Own = [CircuitSettings.Qubits, GanSettings.DLr], Configure = GanTraining,
        },
        new("vqvae", "VQ-VAE (512 codes of 64 over a 7x7 grid; generates through `prior`)", (dev, o) => new VqVae(dev, o.Seed, VqVaeSettings.Config(o)))
        {
            Own = VqVaeSettings.All,
            // Every codebook fix on: it measured best (README, "VQ-VAE"); ema false, kmeans_init false, restart_dead 0 is the plain VQ-VAE.
            Configure = o => (o with { BatchSize = 64, Cosine = false, ClipNorm = 0, FidEvery = 0 })
                             .With(VqVaeSettings.Ema, true).With(VqVaeSettings.KMeansInit, true).With(VqVaeSettings.RestartDead, 100),
            HowToGenerate = "a VQ-VAE generates through a prior over its codes: train one with `qgen-engine train prior ⟨vqvae⟩ {run}`, then sample from that run",
        },
        new("prior", "PixelCNN prior over a VQ-VAE's code grid (trained with the vqvae run it models)", (dev, o) => new CodePrior(dev, o.Seed, VqVaeSettings.Config(o)))
        {
            Own = CodePrior.Settings,
            Configure = o => o with { Epochs = 15, BatchSize = 64, Lr = 1e-3f, Cosine = true, ClipNorm = 0, Augment = false, EvalImages = 10_000, FidSamples = 1000 },
            Resolve = o => CodePrior.Resolve(o, Get("prior").Defaults),
        },
        new("router", "the adaptive router's difficulty estimator (trained with a classical and a quantum VAE-family run; then `route`)",
            (dev, o) => new Router(dev, o.Seed, Router.ParseEstimator(o.Get(Router.Estimator))))
        {
            Own = Router.Settings, Resolve = Router.Resolve,
            Configure = o => o with { Epochs = 5, BatchSize = 128, Lr = 1e-3f, Cosine = true, ClipNorm = 0, Augment = false, EvalImages = 10_000, FidEvery = 0 },
        },
        new("classifier", "the metric classifier (FID features, IS probabilities)", (dev, o) => new Classifier(dev, o.Seed))
        {
            Afterwards = (o, checkpoint) => $"to make it the metric classifier: cp {checkpoint} models/{Metrics.MetricClassifier.FileFor(o.Dataset)}",
            Configure = o => o with { Epochs = 8, BatchSize = 128, Lr = 2e-3f, Cosine = true, ClipNorm = 0, Augment = false, EvalImages = 10_000, FidEvery = 0 },
        },
    ];

    public static string Names => string.Join(", ", All.Select(e => e.Name));

    public static ModelEntry? Find(string name) => All.FirstOrDefault(e => e.Name == name);

    public static ModelEntry Get(string name) => Find(name) ?? throw new ArgumentException($"unknown model '{name}'; expected one of {Names}");

    /// <summary>The options of a run directory (its config.json).</summary>
    public static TrainOptions ReadOptions(string runDir)
    {
        var cfg = Path.Combine(runDir, Trainer.ConfigFile);
        if (!File.Exists(cfg)) throw new FileNotFoundException($"{cfg}: not found; expected a run directory made by `qgen-engine train`");
        JsonObject json;
        json = QGenEngine.Autograd.JsonText.ParseObject(File.ReadAllText(cfg), cfg, "the configuration");
        return TrainOptions.FromJson(json, cfg);
    }

    /// <summary>The untrained model a run's options describe; an inconsistent config.json is an error naming it.</summary>
    public static Module Build(string runDir, TrainOptions o, IDevice dev)
    {
        try { return Get(o.Model).Create(dev, o); }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new FormatException($"{Path.Combine(runDir, Trainer.ConfigFile)}: {e.Message}");
        }
    }

    /// <summary>A trained model from its run directory (config.json and checkpoint.safetensors), on the given device.</summary>
    /// <param name="adjust">changes to the run's options that leave its parameters as they are (eval and sample under a device's noise model)</param>
    public static (Module Model, TrainOptions Options) LoadRun(string runDir, IDevice dev, Func<TrainOptions, TrainOptions>? adjust = null)
    {
        var o = ReadOptions(runDir);
        if (adjust is not null) o = adjust(o);
        var model = Build(runDir, o, dev);
        var ckpt = Path.Combine(runDir, Trainer.CheckpointFile);
        Checkpoint.Load(ckpt, model, expectModel: o.Model);
        return (model, o);
    }
}
