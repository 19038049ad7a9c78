using QGenEngine.Autograd;
using QGenEngine.Autograd.Nn;
using QGenEngine.Tensors;

namespace QGenEngine.Models;

/// <summary>
/// The study's convolutional VAE (MODELS.md, `vae`): 3,499,585 parameters at latent 32.
/// x (N,1,28,28) in [0,1] → encoder → μ, log σ² (N,latent) → z = μ + σ·ε → decoder → logits (N,1,28,28).
/// Loss: BCE on logits summed over pixels plus KL(q(z|x) ‖ N(0,I)), both averaged over the batch.
/// Parameter names follow a PyTorch module with the same attributes (enc.0.weight, fc_mu.bias, …).
/// </summary>
public sealed class Vae : Module
{
    public int Latent { get; }
    private readonly Sequential _enc, _dec;
    private readonly Linear _fcMu, _fcLogVar;
    private readonly Generator _noise;

    public Vae(IDevice dev, ulong seed, int latent = 32)
    {
        if (latent <= 0) throw new ArgumentOutOfRangeException(nameof(latent), $"latent size must be positive, got {latent}");
        Latent = latent;
        var rng = new Generator(seed);
        _noise = new Generator(CounterRng.Derive(seed, 1));
        _enc = Child("enc", new Sequential(
            new Conv2d(dev, rng, 1, 32, 3, 2, 1), Lambda.ReLU(),       // 32x14x14
            new Conv2d(dev, rng, 32, 64, 3, 2, 1), Lambda.ReLU(),      // 64x7x7
            new Conv2d(dev, rng, 64, 128, 3, 1, 1), Lambda.ReLU(),     // 128x7x7
            Lambda.Flatten(),
            new Linear(dev, rng, 6272, 256), Lambda.ReLU()));          // h (N, 256)
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
}
