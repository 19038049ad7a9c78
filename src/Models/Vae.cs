using QGenEngine.Quantum;

namespace QGenEngine.Models;

/// <summary>What sits between the encoder's h (N, 256) and the μ / log σ² heads.</summary>
public enum AttentionKind
{
    None,       // vae
    Quantum,    // qvae: measured circuit probabilities (or ⟨Z⟩ groups) as attention weights
    Softmax,    // vae-attn: the classical control, softmax attention of a similar parameter count
}

/// <summary>The VAE family's settings (MODELS.md); the defaults are the report's.</summary>
/// <param name="Encoding">how h enters the qvae's circuit: angle (MODELS.md: π·tanh(Linear(256→n)(h)), one angle a qubit) or
/// amplitude (h itself, plus 1e-3 so that no sample is all zeros, normalised into the 2^n = 256 amplitudes of 8 qubits)</param>
public sealed record VaeConfig(int Latent = 32, AttentionKind Attention = AttentionKind.None, int Qubits = 8, int Layers = 3,
                               Entangler Entangler = Entangler.Linear, string Readout = "probs", GradMethod Grad = GradMethod.Adjoint, NoiseModel? Noise = null,
                               Encoding Encoding = Encoding.Angle)
{
    /// <summary>The configuration a run's options give, with the attention its model has (none: vae, quantum: qvae, softmax: vae-attn).</summary>
    public static VaeConfig Of(TrainOptions o, AttentionKind attention) => new(
        o.Get(ModelSettings.Latent), attention, o.Get(CircuitSettings.Qubits), o.Get(CircuitSettings.Layers),
        Circuit.ParseEntangler(o.Get(CircuitSettings.Entangler)), o.Get(CircuitSettings.Readout), CircuitSettings.ParseGrad(o.Get(CircuitSettings.Grad)),
        CircuitSettings.NoiseModelOf(o), VaeSettings.ParseEncoding(o.Get(VaeSettings.Encoding)));
}

/// <summary>qvae's own setting: how h enters its circuit.</summary>
public static class VaeSettings
{
    public static readonly Setting<string> Encoding = new("encoding", "angle",
        "how h enters the circuit: angle (pi tanh of a Linear of h, an angle a qubit) | amplitude (h as the 256 amplitudes of 8 qubits)",
        v => CircuitSettings.Parses(() => ParseEncoding(v)), missing: "angle");

    public static Quantum.Encoding ParseEncoding(string s) => s switch
    {
        "angle" => Quantum.Encoding.Angle, "amplitude" => Quantum.Encoding.Amplitude,
        _ => throw new ArgumentException($"'{s}'; expected angle or amplitude"),
    };

    /// <summary>qvae's settings together: its circuit's, and amplitude encoding's 8 qubits.</summary>
    public static void Check(TrainOptions o, bool files)
    {
        CircuitSettings.Check(o, files);
        if (ParseEncoding(o.Get(Encoding)) == Quantum.Encoding.Amplitude && o.Get(CircuitSettings.Qubits) != 8)
            throw new ArgumentException($"{Encoding.Ref} amplitude: h's 256 units are the amplitudes of 8 qubits, not {o.Get(CircuitSettings.Qubits)}; use {CircuitSettings.Qubits.Ref} 8");
    }
}

/// <summary>
/// The study's convolutional VAE (MODELS.md, `vae`): 3,499,585 parameters at latent 32.
/// x (N,1,28,28) in [0,1] → encoder → μ, log σ² (N,latent) → z = μ + σ·ε → decoder → logits (N,1,28,28).
/// Loss: BCE on logits summed over pixels plus KL(q(z|x) ‖ N(0,I)), both averaged over the batch.
/// Parameter names follow a PyTorch module with the same attributes (enc.0.weight, fc_mu.bias, …).
/// </summary>
public sealed class Vae : Module, ITrainable, IGenerative, ICircuitReconstructor, IEpochStatistics
{
    public int Latent { get; }
    public VaeConfig Config { get; }
    private readonly Sequential _enc, _dec;
    private readonly Linear _fcMu, _fcLogVar;
    private readonly Generator _noise;
    private readonly Attention? _attn;

    public Vae(IDevice dev, ulong seed, int latent = 32) : this(dev, seed, new VaeConfig(Latent: latent)) { }

    public Vae(IDevice dev, ulong seed, VaeConfig config)
    {
        int latent = config.Latent;
        if (latent <= 0) throw new ArgumentOutOfRangeException(nameof(config), $"latent size must be positive, got {latent}");
        Latent = latent; Config = config;
        var rng = new Generator(seed);
        _noise = Stream("noise", new Generator(CounterRng.Derive(seed, 1)));
        _enc = Child("enc", new Sequential(
            new Conv2d(dev, rng, 1, 32, 3, 2, 1), Lambda.ReLU(),       // 32x14x14
            new Conv2d(dev, rng, 32, 64, 3, 2, 1), Lambda.ReLU(),      // 64x7x7
            new Conv2d(dev, rng, 64, 128, 3, 1, 1), Lambda.ReLU(),     // 128x7x7
            Lambda.Flatten(),
            new Linear(dev, rng, 6272, 256), Lambda.ReLU()));          // h (N, 256)
        if (config.Attention != AttentionKind.None) _attn = Child("attn", new Attention(dev, rng, config));
        _fcMu = Child("fc_mu", new Linear(dev, rng, 256, latent));
        _fcLogVar = Child("fc_logvar", new Linear(dev, rng, 256, latent));
        _dec = Child("dec", new Sequential(
            new Linear(dev, rng, latent, 256), Lambda.ReLU(),
            new Linear(dev, rng, 256, 6272), Lambda.ReLU(),
            Lambda.Unflatten(128, 7, 7),
            new ConvTranspose2d(dev, rng, 128, 64, 4, 2, 1), Lambda.ReLU(),   // 64x14x14
            new ConvTranspose2d(dev, rng, 64, 32, 4, 2, 1), Lambda.ReLU(),    // 32x28x28
            new ConvTranspose2d(dev, rng, 32, 1, 3, 1, 1)));                  // logits 1x28x28
    }

    /// <summary>The noise stream of the reparameterisation (its position is saved with checkpoints).</summary>
    public Generator Noise => _noise;

    public (Tensor Mu, Tensor LogVar) Encode(Tensor x)
    {
        var h = _enc.Forward(x);
        if (_attn is not null) h = _attn.Forward(h);
        return (_fcMu.Forward(h), _fcLogVar.Forward(h));
    }

    public Tensor Decode(Tensor z) => _dec.Forward(z);

    /// <summary>z = μ + exp(½ log σ²)·ε with ε ~ N(0, I) from the model's seeded noise stream.</summary>
    public Tensor Reparameterise(Tensor mu, Tensor logVar)
    {
        var eps = Tensor.Normal(mu.Device, _noise.NextSeed(), 0f, 1f, mu.Shape);
        return mu.Add(logVar.Mul(0.5f).Exp().Mul(eps));
    }

    /// <summary>Returns (loss, bce, kl) for a batch x (N,1,28,28).</summary>
    public (Tensor Loss, Tensor Bce, Tensor Kl) Loss(Tensor x)
    {
        var (mu, logVar) = Encode(x);
        var z = Training ? Reparameterise(mu, logVar) : mu;
        var logits = Decode(z);
        var bce = logits.BceWithLogits(x, Reduction.Sum).Mul(1f / x.Shape[0]);
        var kl = mu.GaussianKl(logVar);
        return (bce.Add(kl), bce, kl);
    }

    // ---- what the trainer and the evaluation ask of it ------------------------------------------------
    public IReadOnlyList<(string Name, Module Module, string Prefix)> Parts => [("model", this, "")];
    public IReadOnlyList<string> Scalars { get; } = ["loss", "bce", "kl"];

    public string? ScalarFormat(string name) => name == "test_ssim" ? "F4" : null;

    public Tensor[] TrainStep(Batch batch, Parts parts)
    {
        var (l, bce, kl) = Loss(batch.Images);
        parts["model"].Minimize(l);
        return [l, bce, kl];
    }

    /// <summary>For qvae, the circuit's gradient norm and angle change over the epoch; nothing for the classical models.</summary>
    public (IReadOnlyList<(string Name, System.Text.Json.Nodes.JsonNode Value)> Values, string? Warning) EndEpoch() => (CircuitStatistics.EndEpoch(this), null);

    /// <summary>Test reconstruction BCE (summed over pixels, mean over images) and SSIM, from μ.</summary>
    public IReadOnlyList<(string Name, double Value)> Validate(ImageSet test, int n)
    {
        var (bce, ssim) = Evaluation.ReconstructionScores(this, Device, test.Pixels, Math.Min(n, test.Count));
        return [("test_bce", bce), ("test_ssim", ssim)];
    }

    private IDevice Device => _fcMu.Weight.Device;

    public int LatentSize => Latent;
    public Tensor SampleLatents(IDevice dev, int n, ulong seed) => Tensor.Normal(dev, seed, 0, 1, n, Latent);
    public Tensor Generate(Tensor z) => ModelMode.Eval(this, () => Decode(z).Sigmoid());
    Tensor IReconstructive.Encode(Tensor x) => ModelMode.Eval(this, () => Encode(x).Mu);

    public (Tensor Images, Tensor Bce) Reconstruct(Tensor x) => ModelMode.Eval(this, () =>
    {
        var logits = Decode(Encode(x).Mu);
        return (logits.Sigmoid(), Evaluation.BcePerImage(logits, x));
    });

    // ---- the attention circuit on a device (issue #26) ---------------------------------------------------
    public QGenEngine.Quantum.QuantumLayer? InputCircuit => _attn?.ExportableCircuit;

    public Tensor CircuitInputs(Tensor x) => ModelMode.Eval(this, () => Exportable().Angles(_enc.Forward(x)));

    public (Tensor Images, Tensor Bce) ReconstructFromProbabilities(Tensor x, Tensor probabilities) => ModelMode.Eval(this, () =>
    {
        var attn = Exportable();
        int dim = attn.ExportableCircuit!.Circuit.Dim;
        if (probabilities.Rank != 2 || probabilities.Shape[0] != x.Shape[0] || probabilities.Shape[1] != dim)
            throw new ArgumentException($"probabilities of shape {Shape.Format(probabilities.Shape)}; the attention circuit of {x.Shape[0]} images gives ({x.Shape[0]}, {dim})");
        var logits = Decode(_fcMu.Forward(attn.FromProbabilities(_enc.Forward(x), probabilities)));
        return (logits.Sigmoid(), Evaluation.BcePerImage(logits, x));
    });

    private Attention Exportable() => _attn is { ExportableCircuit: not null } a ? a
        : throw new InvalidOperationException(_attn is null ? "this VAE has no attention circuit" : "this VAE's attention has no circuit whose inputs are angles (softmax control, or amplitude encoding)");
}

/// <summary>
/// Attention on h (N, 256): angles x = π·tanh(Linear(256→n)(h)), then weights a with mean 1 and h' = h ⊙ a.
/// Quantum: the circuit's 2^n = 256 basis probabilities p, a = 256·p (probs readout), or its n ⟨Z_q⟩ →
/// softmax over n groups of 256/n units (expval readout; when n does not divide 256, groups of ⌊256/n⌋ and ⌈256/n⌉ units). Softmax (the classical control): a =
/// 256·softmax(Linear(n→256)(x)), the same angles feeding a classical map instead of the circuit.
/// </summary>
public sealed class Attention : Layer
{
    private readonly Linear? _proj;
    private readonly QuantumLayer? _circuit;
    private readonly bool _amplitude;
    private readonly Linear? _mix;
    private readonly int _n;
    private readonly bool _expval;
    private readonly Tensor? _spread;   // (256, n): each unit's group, when n does not divide 256

    public Attention(IDevice dev, Generator rng, VaeConfig c)
    {
        _n = c.Qubits;
        var readout = QGenEngine.Quantum.Readout.Parse(c.Readout);
        _expval = readout.Kind == ReadoutKind.Expval;
        if (c.Attention == AttentionKind.Quantum && !_expval && (1 << _n) != 256)
            throw new ArgumentException($"the probs readout gives 2^{_n} = {1 << _n} weights but h has 256 units; use ⟨qubits⟩ 8 or ⟨readout⟩ expval");
        if (_expval && _n > 256) throw new ArgumentException($"the expval readout splits h's 256 units into {_n} groups; at most 256");
        if (_expval && 256 % _n != 0)
        {
            // Groups as even as can be (10 qubits: 6 groups of 26 units, 4 of 25): unit u belongs to group ⌊u·n/256⌋.
            var spread = new float[256 * _n];
            for (int u = 0; u < 256; u++) spread[u * _n + u * _n / 256] = 1f;
            _spread = TensorScope.Persist(Tensor.FromArray(dev, spread, 256, _n));   // a constant, not state: not in the state_dict
        }
        _amplitude = c.Attention == AttentionKind.Quantum && c.Encoding == Encoding.Amplitude;
        if (_amplitude && (1 << _n) != 256)
            throw new ArgumentException($"⟨encoding⟩ amplitude: h's 256 units are the amplitudes of 8 qubits, not {_n}; use ⟨qubits⟩ 8");
        if (c.Encoding == Encoding.Amplitude && c.Attention != AttentionKind.Quantum)
            throw new ArgumentException("⟨encoding⟩ amplitude: only qvae's circuit encodes h");
        if (!_amplitude) _proj = Child("proj", new Linear(dev, rng, 256, _n));
        if (c.Attention == AttentionKind.Quantum)
            _circuit = Child("circuit", new QuantumLayer(dev, rng, Circuit.Template(_n, c.Layers, c.Entangler, c.Encoding), readout, c.Grad, c.Noise));
        else
            _mix = Child("mix", new Linear(dev, rng, _n, 256));
    }

    /// <summary>The circuit a device can run for given images: angle-encoded (amplitude encoding prepares a state no gate list writes).</summary>
    public QuantumLayer? ExportableCircuit => _amplitude ? null : _circuit;

    /// <summary>The circuit's input angles for h: π·tanh(Linear(256→n)(h)).</summary>
    public Tensor Angles(Tensor h) => _proj!.Forward(h).Tanh().Mul(MathF.PI);

    /// <summary>h' from h and the circuit's basis probabilities (n, 2^q) - measured ones, say: the readout is made from them (probs and shots as they are, expval as ⟨Z_q⟩ = Σ_b p_b (1 − 2 b_q)).</summary>
    public Tensor FromProbabilities(Tensor h, Tensor p)
    {
        if (!_expval) return Weigh(h, p);
        int dim = 1 << _n;
        var z = new float[_n * dim];   // (n, 2^n): Z_q's eigenvalue, +1 / −1, of each basis state; wire 0 the most significant bit
        for (int q = 0; q < _n; q++)
            for (int k = 0; k < dim; k++) z[q * dim + k] = ((k >> (_n - 1 - q)) & 1) == 0 ? 1f : -1f;
        return Weigh(h, p.Linear(Tensor.FromArray(p.Device, z, _n, dim), null));
    }

    public override Tensor Forward(Tensor h)
    {
        int b = h.Shape[0];
        if (_amplitude)
        {
            var p = _circuit!.Forward(h.Add(1e-3f));   // the simulator normalises the amplitudes
            return _expval ? h.Reshape(b, _n, 256 / _n).Mul(p.Softmax().Mul(_n).Reshape(b, _n, 1)).Reshape(b, 256) : h.Mul(p.Mul(256f));
        }
        var angles = Angles(h);
        if (_mix is not null) return h.Mul(_mix.Forward(angles).Softmax().Mul(256f));
        return Weigh(h, _circuit!.Forward(angles));
    }

    /// <summary>h ⊙ a from the circuit's readout r: a = 256·p (probs), or the softmax of the n ⟨Z⟩ spread over n groups of units (expval).</summary>
    private Tensor Weigh(Tensor h, Tensor r)
    {
        int b = h.Shape[0];
        if (!_expval) return h.Mul(r.Mul(256f));
        if (_spread is not null) return h.Mul(r.Softmax().Mul(_n).Linear(_spread, null));
        var a = r.Softmax().Mul(_n).Reshape(b, _n, 1);
        return h.Reshape(b, _n, 256 / _n).Mul(a).Reshape(b, 256);
    }
}
