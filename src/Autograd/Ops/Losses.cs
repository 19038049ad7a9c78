using QGenEngine.Tensors;

namespace QGenEngine.Autograd;

public enum Reduction { Mean, Sum, None }

public static partial class Ops
{
    private static Tensor Reduce(Tensor x, Reduction r) => r switch { Reduction.Mean => x.Mean(), Reduction.Sum => x.Sum(), _ => x };

    /// <summary>Binary cross-entropy on logits: max(x,0) − x·t + log(1 + e^−|x|), stable for any x.</summary>
    public static Tensor BceWithLogits(this Tensor logits, Tensor target, Reduction reduction = Reduction.Mean)
    {
        SameDevice(logits, target);
        if (!Shape.Equal(logits.Shape, target.Shape))
            throw new ArgumentException($"bce_with_logits: logits {Shape.Format(logits.Shape)} and target {Shape.Format(target.Shape)} differ");
        var dev = logits.Device;
        var y = Like(logits);
        dev.BceWithLogits(logits, target, y);
        if (Graph.Needs(logits, target))
            Graph.Record(y, [logits, target], g =>
            {
                var dx = Like(logits);
                var dt = target.RequiresGrad ? Like(target) : null;
                dev.BceWithLogitsBackward(logits, target, g, dx, dt);
                Graph.Accumulate(logits, dx);
                if (dt is not null) Graph.Accumulate(target, dt);
            });
        return Reduce(y, reduction);
    }

    /// <summary>Cross-entropy of logits (M, C) against class indices (M): −mean log softmax(x)[target].</summary>
    public static Tensor CrossEntropy(this Tensor logits, int[] targets, Reduction reduction = Reduction.Mean)
    {
        if (logits.Rank != 2 || logits.Shape[0] != targets.Length)
            throw new ArgumentException($"cross_entropy: logits {Shape.Format(logits.Shape)} for {targets.Length} targets (expected ({targets.Length}, C))");
        return Reduce(logits.LogSoftmax(1).Gather(targets).Neg(), reduction);
    }

    /// <summary>
    /// Cross-entropy of logits (M, C) against class indices held on the device (M) as floats: the picked
    /// log-probabilities are rows of log_softmax viewed as (M·C, 1), selected at m·C + target[m], so no index is read back.
    /// </summary>
    public static Tensor CrossEntropy(this Tensor logits, Tensor targets, Reduction reduction = Reduction.Mean)
    {
        SameDevice(logits, targets);
        if (logits.Rank != 2 || targets.Rank != 1 || logits.Shape[0] != targets.Shape[0])
            throw new ArgumentException($"cross_entropy: logits {Shape.Format(logits.Shape)} and targets {Shape.Format(targets.Shape)} must be (M, C) and (M)");
        int m = logits.Shape[0], c = logits.Shape[1];
        if ((long)m * c >= 1 << 24) throw new ArgumentException($"cross_entropy: {m}·{c} flat indices exceed float precision (2^24); split the batch");
        var offsets = new float[m];
        for (int i = 0; i < m; i++) offsets[i] = (float)i * c;
        var flat = Tensor.FromArray(logits.Device, offsets, m).Add(targets);
        return Reduce(logits.LogSoftmax(1).Reshape(m * c, 1).Embedding(flat).Reshape(m).Neg(), reduction);
    }

    /// <summary>Mean (or summed) squared error.</summary>
    public static Tensor Mse(this Tensor a, Tensor b, Reduction reduction = Reduction.Mean) => Reduce(a.Sub(b).Square(), reduction);

    /// <summary>
    /// KL(N(μ, σ²) ‖ N(0, I)) for mu, logVar (N, D): −½ Σ_d (1 + log σ² − μ² − σ²), summed over D and
    /// averaged over the batch (the VAE's convention).
    /// </summary>
    public static Tensor GaussianKl(this Tensor mu, Tensor logVar)
    {
        if (!Shape.Equal(mu.Shape, logVar.Shape)) throw new ArgumentException($"gaussian_kl: mu {Shape.Format(mu.Shape)} and logvar {Shape.Format(logVar.Shape)} differ");
        var inner = logVar.Add(1f).Sub(mu.Square()).Sub(logVar.Exp());
        return inner.Sum().Mul(-0.5f / mu.Shape[0]);
    }
}
