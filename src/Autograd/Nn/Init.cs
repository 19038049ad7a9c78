using QGenEngine.Tensors;

namespace QGenEngine.Autograd.Nn;

/// <summary>PyTorch's default initialisations, seeded (the same distributions, not the same numbers).</summary>
public static class Init
{
    /// <summary>
    /// Linear and conv weights: kaiming_uniform(a = √5), i.e. U(−1/√fan_in, 1/√fan_in); biases use the
    /// same bound. fan_in is in_features, or C_in·KH·KW for conv (size(1)·KH·KW, so Cout·KH·KW for a
    /// transposed conv's (Cin, Cout, KH, KW) weight, as PyTorch computes it).
    /// </summary>
    public static Tensor Uniform(IDevice dev, Generator rng, int fanIn, params int[] shape)
    {
        float bound = 1f / MathF.Sqrt(fanIn);
        return Tensor.Uniform(dev, rng.NextSeed(), -bound, bound, shape);
    }

    /// <summary>Embedding weights: N(0, 1).</summary>
    public static Tensor Normal(IDevice dev, Generator rng, params int[] shape) => Tensor.Normal(dev, rng.NextSeed(), 0f, 1f, shape);
}
