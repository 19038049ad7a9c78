using QGenEngine.Autograd.Optim;

namespace QGenEngine.Models;

// What a model can do is said by the interfaces it implements; the trainer, the evaluation and the
// commands ask for the capability, never for a model's name (burn's TrainStep / ValidStep, Lightning's
// training_step: one loop, the model owns its step).

/// <summary>
/// One training batch: images (B, 1, 28, 28) in [0, 1] on the device, their labels, and their indices in the
/// training set (a model that trains on data derived once from the images - the prior's cached codes - looks them up).
/// </summary>
public sealed record Batch(Tensor Images, int[] Labels, int[]? Indices = null)
{
    public int Size => Images.Shape[0];
}

/// <summary>
/// A named group of parameters with its own optimiser (and so its own learning rate and clipping): the
/// VAE has one ("model"), a GAN two ("generator", "discriminator"). Checkpoints keep each part's
/// optimiser state under the part's name. A model's step calls <see cref="Minimize"/>: the shape of an update
/// (zero, backward, circuit statistics, clip, step) is the framework's, not each model's.
/// </summary>
public sealed class Part(string name, Module module, Optimizer optimizer, float clipNorm, float lrScale = 1)
{
    public string Name { get; } = name;
    /// <summary>This part's learning rate over the run's (⟨lr⟩): the schedule's rate times it is this part's at every step.</summary>
    public float LrScale { get; } = lrScale;
    /// <summary>The module whose parameters this part updates (its circuits' gradient norms are recorded each step).</summary>
    public Module Module { get; } = module;
    public Optimizer Optimizer { get; } = optimizer;
    public float ClipNorm { get; } = clipNorm;

    /// <summary>
    /// One update of this part on <paramref name="loss"/>: clears its gradients, back-propagates, records the
    /// gradient norm of every circuit in its module (<see cref="CircuitStatistics"/>), clips to
    /// <see cref="ClipNorm"/> (if set) and takes an optimiser step. Gradients that the backward pass leaves on
    /// other parts' parameters (the discriminator's, in a generator step) are theirs to clear.
    /// </summary>
    public void Minimize(Tensor loss)
    {
        Optimizer.ZeroGrad();
        Graph.Backward(loss);
        CircuitStatistics.Record(Module);
        if (ClipNorm > 0) GradClip.ClipGradNorm(Optimizer.Params.Select(p => p.Param), ClipNorm);
        Optimizer.Step();
    }
}

/// <summary>The parts of a model being trained, by name.</summary>
public sealed class Parts(IReadOnlyList<Part> parts)
{
    public IReadOnlyList<Part> All { get; } = parts;
    public Part this[string name] => All.FirstOrDefault(p => p.Name == name) ?? throw new KeyNotFoundException($"no part named '{name}'");

    /// <summary>
    /// The one place parts are built (the trainer, the benchmarks, the tests): each of the model's parts with the
    /// optimiser the model chooses (<see cref="ITrainable.CreateOptimizer"/>) and the options' clipping.
    /// </summary>
    public static Parts For(ITrainable model, TrainOptions o) =>
        new(model.Parts.Select(p =>
        {
            var po = o with { Lr = model.PartLearningRate(p.Name, o) };
            return new Part(p.Name, p.Module, model.CreateOptimizer(p.Name, p.Module.NamedParameters(p.Prefix).ToList(), po), o.ClipNorm, po.Lr / o.Lr);
        }).ToList());
}

/// <summary>The setting of the generative models with a latent code (the VAE family, the GANs with Gaussian noise).</summary>
public static class ModelSettings
{
    public static readonly Setting<int> Latent = new("latent", 32, "latent size", v => v is < 1 or > 4096 ? $"{v} is outside [1, 4096]" : null, required: true);
}

/// <summary>A model the one training loop (<see cref="Training.Trainer"/>) can train.</summary>
public interface ITrainable
{
    /// <summary>The parts that get an optimiser each: a name, and the module whose parameters it updates with their state_dict prefix.</summary>
    IReadOnlyList<(string Name, Module Module, string Prefix)> Parts { get; }

    /// <summary>The optimiser of one part (its parameters under their state_dict names); Adam at the options' learning rate and β1 unless the model chooses otherwise.</summary>
    Optimizer CreateOptimizer(string part, IReadOnlyList<(string Name, Tensor Param)> parameters, TrainOptions o) => new Adam(parameters, o.Lr, o.Beta1);

    /// <summary>A part's learning rate (before the schedule): ⟨lr⟩ unless the model gives a part its own (a GAN's discriminator: ⟨d_lr⟩).</summary>
    float PartLearningRate(string part, TrainOptions o) => o.Lr;

    /// <summary>The names of the scalars <see cref="TrainStep"/> returns, in order (loss terms, discriminator outputs, ...).</summary>
    IReadOnlyList<string> Scalars { get; }

    /// <summary>
    /// How the epoch line shows one of this model's scalars (its step's, its validation's, its epoch statistics'): a .NET
    /// numeric format ("F3"), or null for the framework's (<see cref="Training.EpochLine"/>: F2).
    /// </summary>
    string? ScalarFormat(string name) => null;

    /// <summary>The size of the images the model takes (the training loop checks the data against it).</summary>
    (int Height, int Width) ImageSize => (28, 28);

    /// <summary>The per-step scalars whose spread over the last epoch says whether training was stable (a GAN's two losses); `eval` reports it.</summary>
    IReadOnlyList<string> StabilityScalars => [];

    /// <summary>One training step on a batch: forward, backward and the updates of whichever parts it steps. Returns 0-d scalar tensors.</summary>
    Tensor[] TrainStep(Batch batch, Parts parts);

    /// <summary>Per-epoch validation on the first n test images (test_bce and test_ssim, test_accuracy, ...).</summary>
    IReadOnlyList<(string Name, double Value)> Validate(ImageSet test, int n);
}

/// <summary>What the trainer hands a model that prepares itself from the data (<see cref="IPrepared"/>).</summary>
/// <param name="Fresh">true before the run's first step (a new run, or one resumed before it took a step)</param>
public sealed record TrainingContext(ImageSet Train, ImageSet Test, string RunDir, bool Fresh, TrainOptions Options, Action<string>? Log);

/// <summary>
/// A model that needs the data before it trains: a k-means codebook from the first batches' encodings,
/// the prior's cache of the training set's codes. Called once per process, before the first step.
/// </summary>
public interface IPrepared
{
    void Prepare(TrainingContext context);
}

/// <summary>A model that keeps statistics of its own over an epoch (a codebook's usage), recorded in metrics.jsonl.</summary>
public interface IEpochStatistics
{
    /// <summary>The epoch's statistics (numbers or arrays), and a warning if one is alarming; resets the counts for the next epoch.</summary>
    (IReadOnlyList<(string Name, System.Text.Json.Nodes.JsonNode Value)> Values, string? Warning) EndEpoch();
}

/// <summary>A model that turns latent vectors into images.</summary>
public interface IGenerative
{
    int LatentSize { get; }

    /// <summary>Whether a straight line between two latents is meaningful (not for a grid of discrete codes).</summary>
    bool Interpolable => true;

    /// <summary>n latent vectors (n, LatentSize) from the prior the model was trained with, seeded.</summary>
    Tensor SampleLatents(IDevice dev, int n, ulong seed);

    /// <summary>Images (n, 1, 28, 28) in [0, 1] from latents; called in eval mode without a graph.</summary>
    Tensor Generate(Tensor z);
}

/// <summary>
/// A generative model whose latents are a circuit's inputs and whose images are made from that circuit's measured
/// distribution (the qgan's generator, issue #26): the circuit can run on a device, and the rest on its counts.
/// </summary>
public interface ICircuitGenerator : IGenerative
{
    /// <summary>The circuit the latents enter (its inputs are the latent row), or null when this instance has none (a classical GAN).</summary>
    QGenEngine.Quantum.QuantumLayer? GeneratingCircuit { get; }

    /// <summary>Images (n, 1, 28, 28) in [0, 1] from the circuit's readout (n, 2^q) - the model after its circuit; eval mode, no graph.</summary>
    Tensor GenerateFromReadout(Tensor readout);
}

/// <summary>A model that reconstructs its input (the VAE family).</summary>
public interface IReconstructive
{
    /// <summary>The latent code of x used for reconstruction and interpolation (the VAE's μ).</summary>
    Tensor Encode(Tensor x);

    /// <summary>Reconstructions (n, 1, 28, 28) in [0, 1] and each image's BCE summed over its pixels (n); eval mode, no graph.</summary>
    (Tensor Images, Tensor Bce) Reconstruct(Tensor x);
}

/// <summary>
/// A reconstructive model with a circuit whose inputs come from the image (the qvae's attention, issue #26): the
/// circuit can run on a device for given images, and the rest of the reconstruction on its counts.
/// </summary>
public interface ICircuitReconstructor : IReconstructive
{
    /// <summary>The circuit the image's angles enter, or null when this instance has none that can be exported (vae, vae-attn; amplitude encoding).</summary>
    QGenEngine.Quantum.QuantumLayer? InputCircuit { get; }

    /// <summary>The circuit's input angles (n, q) for images x (n, 1, 28, 28); eval mode, no graph.</summary>
    Tensor CircuitInputs(Tensor x);

    /// <summary>Reconstructions of x and their BCE, with the circuit's readout replaced by measured probabilities (n, 2^q); eval mode, no graph.</summary>
    (Tensor Images, Tensor Bce) ReconstructFromProbabilities(Tensor x, Tensor probabilities);
}

/// <summary>A model that labels images (the metric classifier).</summary>
public interface IClassifying
{
    /// <summary>Class probabilities (n, classes); eval mode, no graph.</summary>
    Tensor Probabilities(Tensor x);
}

/// <summary>Helpers every model uses for eval-mode work.</summary>
public static class ModelMode
{
    /// <summary>Runs <paramref name="f"/> with the module in eval mode and no graph, restoring its mode afterwards.</summary>
    public static T Eval<T>(Module m, Func<T> f)
    {
        bool was = m.Training;
        m.Eval();
        try { using (Graph.NoGrad()) return f(); }
        finally { m.Train(was); }
    }
}
