using System.Text.Json.Nodes;
using QGenEngine.Quantum;

namespace QGenEngine.Models;

/// <summary>
/// The GAN's sizes: latent z of <see cref="Latent"/> (MODELS.md: 100) and channel width w, the
/// generator going 4w → 2w → w → 1 channels and the discriminator 1 → w → 2w → 4w (MODELS.md: w = 32).
/// Tests use a small w; the study uses the defaults.
/// </summary>
public sealed record GanConfig(int Latent = 100, int Width = 32, QuantumParts Quantum = QuantumParts.None, CircuitConfig? Circuit = null,
                               GeneratorControl Control = GeneratorControl.None)
{
    public CircuitConfig Circuit { get; init; } = Circuit ?? new CircuitConfig();
    public bool QuantumGenerator => Quantum is QuantumParts.Generator or QuantumParts.Both;
    /// <summary>Whether the generator's noise is the circuit's input: n angles ~ U[0, π) (the qgan and its controls) instead of z ~ N(0, I).</summary>
    public bool AngleNoise => QuantumGenerator || Control != GeneratorControl.None;
    public bool QuantumDiscriminator => Quantum is QuantumParts.Discriminator or QuantumParts.Both;

    public static QuantumParts ParseQuantum(string s) => s switch
    {
        "none" => QuantumParts.None, "generator" => QuantumParts.Generator, "discriminator" => QuantumParts.Discriminator, "both" => QuantumParts.Both,
        _ => throw new ArgumentException($"'{s}'; expected generator, discriminator or both"),
    };

    /// <summary>The configuration a run's options give; <paramref name="quantum"/>: whether its parts may be circuits (qgan), else <paramref name="control"/> stands in for the generator's (qgan's controls) or none (gan).</summary>
    public static GanConfig Of(TrainOptions o, bool quantum, GeneratorControl control = GeneratorControl.None) =>
        new(o.Get(ModelSettings.Latent), Quantum: quantum ? ParseQuantum(o.Get(GanSettings.Quantum)) : QuantumParts.None, Circuit: CircuitSettings.Config(o)) { Control = control };
}

/// <summary>qgan's own setting: which of its parts are circuits.</summary>
public static class GanSettings
{
    public static readonly Setting<string> Quantum = new("quantum", "generator", "which parts are circuits: generator | discriminator | both",
        v => v == "none" ? "'none' is the classical gan: train gan" : CircuitSettings.Parses(() => GanConfig.ParseQuantum(v)));

    /// <summary>
    /// The discriminator's own learning rate (every GAN of the family): 0 keeps ⟨lr⟩ for both parts. A larger one is the
    /// two time-scale update rule (Heusel et al. 2017, TTUR); with ⟨cosine⟩ it follows the same schedule, scaled.
    /// </summary>
    public static readonly Setting<float> DLr = new("d_lr", 0f, "the discriminator's learning rate (0: the same as ⟨lr⟩; larger: TTUR)",
        v => v >= 0 && v <= 1 ? null : $"{Setting.Show(v)} is outside [0, 1]");

    /// <summary>qgan's settings together: its circuits', and a probability readout for the generator.</summary>
    public static void Check(TrainOptions o, bool files)
    {
        CircuitSettings.Check(o, files);
        if (QGenEngine.Quantum.Readout.Parse(o.Get(CircuitSettings.Readout)).Kind == ReadoutKind.Expval)
            throw new ArgumentException($"{CircuitSettings.Readout.Ref}: the quantum GAN reads probabilities (probs or shots:N); expval is the attention block's");
    }
}

/// <summary>
/// The classical controls of the quantum generator (issue #23): what the qgan's generator becomes with its circuit
/// replaced, everything after it unchanged, so that a difference to the qgan isolates the circuit.
/// </summary>
public enum GeneratorControl
{
    None,
    /// <summary>`qgan-control`: the circuit's interface kept - n angles ~ U[0, π) in, a 2^n-way probability vector out - made
    /// by softmax(Linear(n → 2^n)) (2,304 parameters at 8 qubits against the circuit's 48 angles).</summary>
    Softmax,
    /// <summary>`gan-uniform`: no probability vector at all - the n angles go straight into the generator's first Linear,
    /// so qgan-control against gan-uniform isolates the 2^n-way bottleneck, and gan-uniform against gan the noise.</summary>
    Direct,
}

/// <summary>
/// DCGAN (MODELS.md, `gan`). Images live in [-1, 1] inside the model (tanh output; real batches are
/// rescaled from [0, 1]); <see cref="Generate"/> maps back to [0, 1].
/// Generator, an nn.Sequential (indices as in PyTorch):
///   0 Linear(z→4w·7·7) 1 BatchNorm1d 2 ReLU 3 Unflatten(4w,7,7) 4 ConvTranspose2d(4w→2w,k4 s2 p1) 5 BatchNorm2d 6 ReLU
///   7 ConvTranspose2d(2w→w,k4 s2 p1) 8 BatchNorm2d 9 ReLU 10 ConvTranspose2d(w→1,k3 s1 p1) 11 Tanh   (N,z) → (N,1,28,28)
/// Discriminator:
///   0 Conv2d(1→w,k4 s2 p1) 1 LeakyReLU(0.2) 2 Dropout(0.3) 3 Conv2d(w→2w,k4 s2 p1) 4 LeakyReLU 5 Dropout
///   6 Conv2d(2w→4w,k3 s2 p1) 7 LeakyReLU 8 Dropout 9 Flatten 10 Linear(4w·4·4→1)   (N,1,28,28) → logit (N,1)
/// Loss: BCE with logits; the discriminator on real (target 1) plus fake (target 0), the generator the
/// non-saturating −log D(G(z)) (target 1). One step updates the discriminator, then the generator, on
/// the same fake batch. Weights use PyTorch's default initialisation (not DCGAN's N(0, 0.02)): MODELS.md
/// names none, and PyTorch users get the same distribution from the same module definitions.
///
/// The quantum GAN (`qgan`, MODELS.md) swaps parts for circuits (the `generator` template, QUANTUM.md):
///   generator: z ~ U[0, π)^n as input angles → 0 circuit (probs, 2^n) → 1 c = 2^n·p − 1 → 2 Linear(2^n→4w·49) 3 BatchNorm1d
///              4 ReLU 5 Unflatten, then the GAN's transposed convolutions (6 ... 13 Tanh)
///   (qgan-control: 0 Linear(n→2^n) 1 c = 2^n·softmax − 1, then as above from 2; gan-uniform: the angles into 0 Linear(n→4w·49) as the GAN's z)
///   discriminator: the GAN's 0 … 9 (features, 4w·16) → 10 Linear(4w·16→n) = angles → 11 circuit (probs) → 12 ⟨Z_0⟩ = Σ_b p_b·(−1)^bit0(b)
///              → 13 Linear(1→1): logit = a·⟨Z_0⟩ + b
/// ⟨Z_0⟩ is read from the probabilities so that a shots readout (estimated probabilities) serves both parts alike.
/// </summary>
public sealed class Gan : Module, ITrainable, ICircuitGenerator, IEpochStatistics
{
    public GanConfig Config { get; }
    public Sequential Generator { get; }
    public Sequential Discriminator { get; }
    private readonly Generator _noise;
    private readonly IDevice _dev;

    public Gan(IDevice dev, ulong seed, GanConfig? config = null)
    {
        var c = Config = config ?? new GanConfig();
        if (c.Latent < 1 || c.Width < 1) throw new ArgumentException($"GAN sizes must be positive (latent {c.Latent}, width {c.Width})");
        _dev = dev;
        var rng = new Generator(seed);
        _noise = Stream("noise", new Generator(CounterRng.Derive(seed, 1)));
        int w = c.Width;
        var g = new List<Layer>();
        int gIn = c.Latent;
        if (c.QuantumGenerator)
        {
            int dim = 1 << c.Circuit.Qubits;
            g.Add(c.Circuit.Layer(dev, rng));
            g.Add(new Lambda(p => p.Affine(dim, -1f)));       // c = 2^n p − 1: mean 0 over the basis states
            gIn = dim;
        }
        else if (c.Control == GeneratorControl.Softmax)
        {
            int dim = 1 << c.Circuit.Qubits;
            g.Add(new Linear(dev, rng, c.Circuit.Qubits, dim));
            g.Add(new Lambda(l => l.Softmax(1).Affine(dim, -1f)));   // the circuit's readout, c = 2^n p − 1, from a classical probability vector
            gIn = dim;
        }
        else if (c.Control == GeneratorControl.Direct) gIn = c.Circuit.Qubits;
        g.AddRange([
            new Linear(dev, rng, gIn, 4 * w * 49), new BatchNorm(dev, 4 * w * 49), Lambda.ReLU(), Lambda.Unflatten(4 * w, 7, 7),
            new ConvTranspose2d(dev, rng, 4 * w, 2 * w, 4, 2, 1), new BatchNorm(dev, 2 * w), Lambda.ReLU(),     // 2w x 14 x 14
            new ConvTranspose2d(dev, rng, 2 * w, w, 4, 2, 1), new BatchNorm(dev, w), Lambda.ReLU(),             // w x 28 x 28
            new ConvTranspose2d(dev, rng, w, 1, 3, 1, 1), Lambda.Tanh()]);                                      // 1 x 28 x 28
        Generator = Child("generator", new Sequential(g.ToArray()));
        ulong dropSeed = CounterRng.Derive(seed, 2);
        var d = new List<Layer>
        {
            new Conv2d(dev, rng, 1, w, 4, 2, 1), Lambda.LeakyReLU(0.2f), new Dropout(0.3f, new Generator(CounterRng.Derive(dropSeed, 0))),       // w x 14 x 14
            new Conv2d(dev, rng, w, 2 * w, 4, 2, 1), Lambda.LeakyReLU(0.2f), new Dropout(0.3f, new Generator(CounterRng.Derive(dropSeed, 1))),  // 2w x 7 x 7
            new Conv2d(dev, rng, 2 * w, 4 * w, 3, 2, 1), Lambda.LeakyReLU(0.2f), new Dropout(0.3f, new Generator(CounterRng.Derive(dropSeed, 2))), // 4w x 4 x 4
            Lambda.Flatten(),
        };
        if (c.QuantumDiscriminator)
        {
            int n = c.Circuit.Qubits;
            var signs = new float[1 << n];
            for (int b = 0; b < signs.Length; b++) signs[b] = (b & (1 << (n - 1))) == 0 ? 1 : -1;   // wire 0 is the most significant bit
            var z0 = TensorScope.Persist(Tensor.FromArray(dev, signs, signs.Length, 1));
            d.AddRange([new Linear(dev, rng, 4 * w * 16, n), c.Circuit.Layer(dev, rng), new Lambda(p => p.MatMul(z0)), new Linear(dev, rng, 1, 1)]);
        }
        else d.Add(new Linear(dev, rng, 4 * w * 16, 1));
        Discriminator = Child("discriminator", new Sequential(d.ToArray()));
    }

    public IReadOnlyList<(string Name, Module Module, string Prefix)> Parts =>
        [("generator", Generator, "generator."), ("discriminator", Discriminator, "discriminator.")];

    /// <summary>d_real and d_fake: the discriminator's mean probability on the real and the fake batch, before its update.</summary>
    public IReadOnlyList<string> Scalars { get; } = ["d_loss", "g_loss", "d_real", "d_fake"];

    /// <summary>The discriminator's mean outputs near 0.5 differ in the third place.</summary>
    public string? ScalarFormat(string name) => name is "d_real" or "d_fake" ? "F3" : null;

    public IReadOnlyList<string> StabilityScalars { get; } = ["d_loss", "g_loss"];

    /// <summary>Discriminator loss on logits of a real and a fake batch: BCE(real, 1) + BCE(fake, 0), each a batch mean.</summary>
    public static Tensor DiscriminatorLoss(Tensor realLogits, Tensor fakeLogits) =>
        realLogits.BceWithLogits(Tensor.Full(realLogits.Device, 1f, realLogits.Shape))
                  .Add(fakeLogits.BceWithLogits(Tensor.Full(fakeLogits.Device, 0f, fakeLogits.Shape)));

    /// <summary>The non-saturating generator loss: BCE(D(G(z)), 1) = mean −log σ(D(G(z))).</summary>
    public static Tensor GeneratorLoss(Tensor fakeLogits) => fakeLogits.BceWithLogits(Tensor.Full(fakeLogits.Device, 1f, fakeLogits.Shape));

    public float PartLearningRate(string part, TrainOptions o) => part == "discriminator" && o.Get(GanSettings.DLr) > 0 ? o.Get(GanSettings.DLr) : o.Lr;

    public Tensor[] TrainStep(Batch batch, Parts parts)
    {
        var z = SampleLatents(_dev, batch.Size, _noise.NextSeed());
        var fake = Generator.Forward(z);
        var (dLoss, realLogits, fakeLogits) = DiscriminatorStep(batch.Images.Affine(2f, -1f), fake, parts["discriminator"]);
        var gLoss = GeneratorStep(fake, parts["generator"]);
        using (Graph.NoGrad())
            return [dLoss, gLoss, realLogits.Sigmoid().Mean(), fakeLogits.Sigmoid().Mean()];
    }

    /// <summary>Updates the discriminator on a real batch and a fake one (in [-1, 1]); the fake is detached, so the generator gets no gradient.</summary>
    public (Tensor Loss, Tensor RealLogits, Tensor FakeLogits) DiscriminatorStep(Tensor real, Tensor fake, Part discriminator)
    {
        var realLogits = Discriminator.Forward(real);
        var fakeLogits = Discriminator.Forward(fake.Detach());
        var loss = DiscriminatorLoss(realLogits, fakeLogits);
        discriminator.Minimize(loss);
        return (loss, realLogits, fakeLogits);
    }

    /// <summary>
    /// Updates the generator through the (just updated) discriminator. The backward pass also leaves
    /// gradients on the discriminator's weights; only the generator's part steps, and the discriminator's
    /// next Minimize clears them.
    /// </summary>
    public Tensor GeneratorStep(Tensor fake, Part generator)
    {
        var loss = GeneratorLoss(Discriminator.Forward(fake));
        generator.Minimize(loss);
        return loss;
    }

    /// <summary>A GAN has no reconstruction to validate: its quality is measured by FID, IS and modes of its samples.</summary>
    public IReadOnlyList<(string Name, double Value)> Validate(ImageSet test, int n) => [];

    public (IReadOnlyList<(string Name, JsonNode Value)> Values, string? Warning) EndEpoch() => (CircuitStatistics.EndEpoch(this), null);

    /// <summary>z ~ N(0, I) of Latent, or for a quantum generator (and its controls) n input angles ~ U[0, π).</summary>
    public int LatentSize => Config.AngleNoise ? Config.Circuit.Qubits : Config.Latent;
    public Tensor SampleLatents(IDevice dev, int n, ulong seed) => Config.AngleNoise
        ? Tensor.Uniform(dev, seed, 0f, MathF.PI, n, LatentSize)
        : Tensor.Normal(dev, seed, 0f, 1f, n, Config.Latent);
    public Tensor Generate(Tensor z) => ModelMode.Eval(this, () => Generator.Forward(z).Affine(0.5f, 0.5f));

    /// <summary>The quantum generator's circuit (its first layer), or null.</summary>
    public QuantumLayer? GeneratingCircuit => Config.QuantumGenerator ? (QuantumLayer)Generator[0] : null;

    /// <summary>The generator after its circuit, on a readout (n, 2^q) - measured probabilities from a device, say.</summary>
    public Tensor GenerateFromReadout(Tensor readout)
    {
        if (GeneratingCircuit is not { } c) throw new InvalidOperationException("this GAN's generator has no circuit");
        if (readout.Rank != 2 || readout.Shape[1] != c.Circuit.Dim)
            throw new ArgumentException($"a readout of shape {Shape.Format(readout.Shape)}; the generator's circuit gives (n, {c.Circuit.Dim})");
        return ModelMode.Eval(this, () =>
        {
            var x = readout;
            for (int i = 1; i < Generator.Count; i++) x = Generator[i].Forward(x);
            return x.Affine(0.5f, 0.5f);
        });
    }
}
