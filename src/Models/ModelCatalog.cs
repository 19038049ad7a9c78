using System.Text.Json.Nodes;
using QGenEngine.Autograd;
using QGenEngine.Autograd.Nn;
using QGenEngine.Models.Training;
using QGenEngine.Tensors;

namespace QGenEngine.Models;

/// <summary>One model the engine can train: its name, MODELS.md's defaults and how to build it from a run's options.</summary>
/// <param name="Resolve">completes a new run's options before it starts (the prior reads its VQ-VAE run); checks them</param>
/// <param name="HowToGenerate">for a model that generates only through another one, the command that makes it ({run}: its run directory)</param>
public sealed record ModelEntry(string Name, string Summary, TrainOptions Defaults, Func<IDevice, TrainOptions, Module> Create,
                                Func<TrainOptions, TrainOptions>? Resolve = null, string? HowToGenerate = null)
{
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
/// Every model by name. Adding a model is one entry here: the trainer, `sample`, `eval` and the image sets
/// work from what the model implements (<see cref="ITrainable"/>, <see cref="IGenerative"/>, ...).
/// </summary>
public static class ModelCatalog
{
    public static IReadOnlyList<ModelEntry> All { get; } =
    [
        new("vae", "the convolutional VAE (latent 32)",
            new TrainOptions { Model = "vae", BatchSize = 64, Cosine = false, ClipNorm = 0 },
            (dev, o) => new Vae(dev, o.Seed, o.VaeConfig())),
        new("qvae", "the VAE with quantum attention (an 8-qubit circuit's probabilities weight h)",
            new TrainOptions { Model = "qvae" },
            (dev, o) => new Vae(dev, o.Seed, o.VaeConfig())),
        new("vae-attn", "the classical control of qvae: softmax attention of a similar size",
            new TrainOptions { Model = "vae-attn" },
            (dev, o) => new Vae(dev, o.Seed, o.VaeConfig())),
        new("gan", "DCGAN (z of 100, BCE with the non-saturating generator loss)",
            // β1 0.5 (DCGAN practice) over the report's 0.9: it gave the lower FID here (README, "GAN").
            // No augmentation: a GAN learns the distribution it is shown, and FID is taken against unaugmented test digits.
            new TrainOptions { Model = "gan", BatchSize = 64, Lr = 2e-4f, Beta1 = 0.5f, Latent = 100, Cosine = false, ClipNorm = 0, Augment = false },
            (dev, o) => new Gan(dev, o.Seed, o.GanConfig())),
        new("qgan", "the quantum GAN: the generator's latent code (or the discriminator's logit) from an 8-qubit circuit (--quantum)",
            new TrainOptions { Model = "qgan", BatchSize = 64, Lr = 2e-4f, Beta1 = 0.5f, Latent = 100, Cosine = false, ClipNorm = 0, Augment = false },
            (dev, o) => new Gan(dev, o.Seed, o.GanConfig())),
        // The qgan's classical controls (issue #23): its generator with the circuit replaced, everything else the qgan's.
        new("qgan-control", "the classical control of qgan's generator: softmax(Linear(8 -> 256)) in the circuit's place (same U[0, pi)^8 noise)",
            new TrainOptions { Model = "qgan-control", BatchSize = 64, Lr = 2e-4f, Beta1 = 0.5f, Latent = 100, Cosine = false, ClipNorm = 0, Augment = false, Quantum = "none" },
            (dev, o) => new Gan(dev, o.Seed, o.GanConfig() with { Control = GeneratorControl.Softmax })),
        new("gan-uniform", "the GAN fed qgan's noise: 8 angles ~ U[0, pi) straight into its first Linear (no probability vector)",
            new TrainOptions { Model = "gan-uniform", BatchSize = 64, Lr = 2e-4f, Beta1 = 0.5f, Latent = 100, Cosine = false, ClipNorm = 0, Augment = false, Quantum = "none" },
            (dev, o) => new Gan(dev, o.Seed, o.GanConfig() with { Control = GeneratorControl.Direct })),
        new("vqvae", "VQ-VAE (512 codes of 64 over a 7x7 grid; generates through `prior`)",
            // Every codebook fix on: it measured best (README, "VQ-VAE"); --ema false --kmeans-init false --restart-dead 0 is the plain VQ-VAE.
            new TrainOptions { Model = "vqvae", BatchSize = 64, Cosine = false, ClipNorm = 0, FidEvery = 0, Ema = true, KMeansInit = true, RestartDead = 100 },
            (dev, o) => new VqVae(dev, o.Seed, o.VqVaeConfig()),
            HowToGenerate: "a VQ-VAE generates through a prior over its codes: train one with `qgen-engine train prior --vqvae {run}`, then sample from that run"),
        new("prior", "PixelCNN prior over a VQ-VAE's code grid (train prior --vqvae RUN)",
            PriorDefaults,
            (dev, o) => new CodePrior(dev, o.Seed, o.VqVaeConfig()),
            o => CodePrior.Resolve(o, PriorDefaults)),
        new("router", "the adaptive router's difficulty estimator (train router --classical RUN --quantum RUN; then `route`)",
            new TrainOptions { Model = "router", Epochs = 5, BatchSize = 128, Lr = 1e-3f, Cosine = true, ClipNorm = 0, Augment = false, EvalImages = 10_000, FidEvery = 0, Quantum = "" },
            (dev, o) => new Router(dev, o.Seed, Router.ParseEstimator(o.Estimator)),
            o => Router.Resolve(o with { QuantumRun = string.IsNullOrEmpty(o.Quantum) ? o.QuantumRun : o.Quantum, Quantum = "" })),
        new("classifier", "the metric classifier (FID features, IS probabilities)",
            new TrainOptions { Model = "classifier", Epochs = 8, BatchSize = 128, Lr = 2e-3f, Cosine = true, ClipNorm = 0, Augment = false, EvalImages = 10_000, FidEvery = 0 },
            (dev, o) => new Classifier(dev, o.Seed)),
    ];

    private static TrainOptions PriorDefaults => new()
    {
        Model = "prior", Epochs = 15, BatchSize = 64, Lr = 1e-3f, Cosine = true, ClipNorm = 0, Augment = false, EvalImages = 10_000, FidSamples = 1000,
    };

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
