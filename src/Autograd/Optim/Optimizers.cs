using QGenEngine.Tensors;

namespace QGenEngine.Autograd.Optim;

/// <summary>An optimiser over named parameters; its state tensors are named for checkpoints.</summary>
public abstract class Optimizer
{
    public IReadOnlyList<(string Name, Tensor Param)> Params { get; }
    public float LearningRate { get; set; }
    /// <summary>Steps taken so far (Adam's bias correction uses it; saved in checkpoints).</summary>
    public int StepCount { get; set; }

    protected Optimizer(IEnumerable<(string Name, Tensor Param)> ps, float lr)
    {
        Params = ps.ToList();
        if (Params.Count == 0) throw new ArgumentException("the optimiser was given no parameters");
        if (!(lr >= 0) || float.IsInfinity(lr)) throw new ArgumentOutOfRangeException(nameof(lr), $"learning rate {lr} must be a finite number ≥ 0");
        LearningRate = lr;
    }

    /// <summary>
    /// Zeroes every gradient, keeping the buffers (later steps allocate nothing) without writing them: the backward's
    /// first accumulation into each writes instead of adding to zeros (what PyTorch's set_to_none saves, with the same
    /// numbers as zeros would give; a gradient read before it is written reads as zeros).
    /// </summary>
    public void ZeroGrad()
    {
        using var scope = Profiler.Scope("zero_grad");
        foreach (var (_, p) in Params) p.ZeroGrad();
    }

    public void Step()
    {
        StepCount++;
        using var scope = Profiler.Scope($"{GetType().Name.ToLowerInvariant()} step");
        using var _ = Graph.NoGrad();
        foreach (var (name, p) in Params) if (p.Grad is { } g) Update(name, p, g);
    }

    protected abstract void Update(string name, Tensor p, Tensor g);

    /// <summary>State tensors by name, e.g. "exp_avg.enc.0.weight".</summary>
    public abstract IEnumerable<(string Name, Tensor State)> State();
    /// <summary>Hyper-parameters, for the checkpoint's metadata.</summary>
    public abstract IReadOnlyDictionary<string, string> Describe();

    protected static Tensor NewState(Tensor p)
    {
        using (TensorScope.Suspend()) return Tensor.Zeros(p.Device, p.Shape);
    }
}

/// <summary>Adam (Kingma &amp; Ba) with PyTorch's formulas; with <c>decoupled</c> it is AdamW (Loshchilov &amp; Hutter).</summary>
public class Adam : Optimizer
{
    private readonly Dictionary<string, (Tensor M, Tensor V)> _state = new();
    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Eps { get; }
    public float WeightDecay { get; }
    public bool Decoupled { get; }

    public Adam(IEnumerable<(string, Tensor)> ps, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0f, bool decoupled = false)
        : base(ps, lr)
    {
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), $"betas ({beta1}, {beta2}) must lie in [0, 1)");
        Beta1 = beta1; Beta2 = beta2; Eps = eps; WeightDecay = weightDecay; Decoupled = decoupled;
        // State is made up front so that checkpoints always hold it and steps allocate nothing.
        foreach (var (n, p) in Params) _state[n] = (NewState(p), NewState(p));
    }

    protected override void Update(string name, Tensor p, Tensor g)
    {
        var (m, v) = _state[name];
        p.Device.AdamStep(p, g, m, v, LearningRate, Beta1, Beta2, Eps, WeightDecay, Decoupled, StepCount);
    }

    public override IEnumerable<(string, Tensor)> State()
    {
        foreach (var (n, s) in _state) { yield return ("exp_avg." + n, s.M); yield return ("exp_avg_sq." + n, s.V); }
    }

    public override IReadOnlyDictionary<string, string> Describe() => new Dictionary<string, string>
    {
        ["type"] = Decoupled ? "AdamW" : "Adam", ["lr"] = Invariant(LearningRate), ["beta1"] = Invariant(Beta1), ["beta2"] = Invariant(Beta2),
        ["eps"] = Invariant(Eps), ["weight_decay"] = Invariant(WeightDecay),
    };

    internal static string Invariant(float v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>AdamW: Adam with decoupled weight decay (default 0.01, as PyTorch).</summary>
public sealed class AdamW(IEnumerable<(string, Tensor)> ps, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0.01f)
    : Adam(ps, lr, beta1, beta2, eps, weightDecay, decoupled: true);

/// <summary>SGD with momentum, PyTorch's formulas (dampening 0, optional Nesterov).</summary>
public sealed class Sgd : Optimizer
{
    private readonly Dictionary<string, Tensor> _buf = new();
    public float Momentum { get; }
    public float WeightDecay { get; }
    public bool Nesterov { get; }

    public Sgd(IEnumerable<(string, Tensor)> ps, float lr, float momentum = 0f, float weightDecay = 0f, bool nesterov = false) : base(ps, lr)
    {
        Momentum = momentum; WeightDecay = weightDecay; Nesterov = nesterov;
        if (momentum != 0) foreach (var (n, p) in Params) _buf[n] = NewState(p);
    }

    protected override void Update(string name, Tensor p, Tensor g) =>
        p.Device.SgdStep(p, g, Momentum != 0 ? _buf[name] : null, LearningRate, Momentum, WeightDecay, Nesterov, StepCount == 1);

    public override IEnumerable<(string, Tensor)> State() => _buf.Select(kv => ("momentum_buffer." + kv.Key, kv.Value));

    public override IReadOnlyDictionary<string, string> Describe() => new Dictionary<string, string>
    {
        ["type"] = "SGD", ["lr"] = Adam.Invariant(LearningRate), ["momentum"] = Adam.Invariant(Momentum),
        ["weight_decay"] = Adam.Invariant(WeightDecay), ["nesterov"] = Nesterov ? "true" : "false",
    };
}

public static class GradClip
{
    /// <summary>
    /// Scales all gradients so that their global L2 norm is at most <paramref name="maxNorm"/>, as
    /// torch.nn.utils.clip_grad_norm_ does: every gradient times min(1, maxNorm/(norm + 1e-6)). All on the device
    /// (nothing read back: a GPU step stays queued). Returns the norm before clipping, a (1) tensor on the device.
    /// </summary>
    public static Tensor ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        using var scope = Profiler.Scope("clip_grad_norm");
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) throw new ArgumentException("clip_grad_norm: no parameter has a gradient");
        var dev = grads[0].Device;
        var norm = Tensor.Zeros(dev, 1);
        foreach (var g in grads) dev.SumOfSquares(g, norm);
        dev.Unary(UnaryOp.Sqrt, norm, norm, 0f, 0f);
        using var coef = Tensor.Empty(dev, 1);
        using var limit = Tensor.Full(dev, maxNorm, 1);
        dev.Unary(UnaryOp.Affine, norm, coef, 1f, 1e-6f);
        dev.Binary(BinaryOp.Div, limit, coef, coef);
        dev.Unary(UnaryOp.Clamp, coef, coef, 0f, 1f);
        foreach (var g in grads) dev.Binary(BinaryOp.Mul, g, coef, g);
        return norm;
    }
}
