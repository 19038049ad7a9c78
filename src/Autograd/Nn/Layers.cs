using QGenEngine.Tensors;

namespace QGenEngine.Autograd.Nn;

public sealed class Linear : Layer
{
    public Tensor Weight { get; }   // (out, in)
    public Tensor? Bias { get; }    // (out)

    public Linear(IDevice dev, Generator rng, int inFeatures, int outFeatures, bool bias = true)
    {
        Weight = Parameter("weight", Init.Uniform(dev, rng, inFeatures, outFeatures, inFeatures));
        if (bias) Bias = Parameter("bias", Init.Uniform(dev, rng, inFeatures, outFeatures));
    }

    public override Tensor Forward(Tensor x) => x.Linear(Weight, Bias);
}

public class Conv2d : Layer
{
    public Tensor Weight { get; }   // (OC, C, K, K)
    public Tensor? Bias { get; }    // (OC)
    public int Stride { get; }
    public int Padding { get; }

    public Conv2d(IDevice dev, Generator rng, int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0, bool bias = true)
    {
        int fanIn = inChannels * kernel * kernel;
        Weight = Parameter("weight", Init.Uniform(dev, rng, fanIn, outChannels, inChannels, kernel, kernel));
        if (bias) Bias = Parameter("bias", Init.Uniform(dev, rng, fanIn, outChannels));
        Stride = stride; Padding = padding;
    }

    public override Tensor Forward(Tensor x) => x.Conv2d(Weight, Bias, Stride, Padding);
}

/// <summary>
/// PixelCNN's masked convolution: the kernel sees only pixels above, and to the left on the same
/// row; type A also hides the centre (first layer), type B shows it. The mask multiplies the weight,
/// so masked weights get no gradient.
/// </summary>
public sealed class MaskedConv2d : Conv2d
{
    private readonly Tensor _mask;

    public MaskedConv2d(IDevice dev, Generator rng, char type, int inChannels, int outChannels, int kernel, bool bias = true)
        : base(dev, rng, inChannels, outChannels, kernel, 1, kernel / 2, bias)
    {
        if (type is not ('A' or 'B')) throw new ArgumentException($"mask type must be 'A' or 'B', got '{type}'");
        var m = new float[kernel * kernel];
        int c = kernel / 2;
        for (int i = 0; i < kernel; i++)
            for (int j = 0; j < kernel; j++)
                m[i * kernel + j] = i < c || (i == c && (j < c || (j == c && type == 'B'))) ? 1 : 0;
        _mask = Buffer("mask", Tensor.FromArray(dev, m, 1, 1, kernel, kernel));
    }

    public override Tensor Forward(Tensor x) => x.Conv2d(Weight.Mul(_mask), Bias, Stride, Padding);
}

public sealed class ConvTranspose2d : Layer
{
    public Tensor Weight { get; }   // (Cin, Cout, K, K)
    public Tensor? Bias { get; }    // (Cout)
    public int Stride { get; }
    public int Padding { get; }
    public int OutputPadding { get; }

    public ConvTranspose2d(IDevice dev, Generator rng, int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0, int outputPadding = 0, bool bias = true)
    {
        int fanIn = outChannels * kernel * kernel;
        Weight = Parameter("weight", Init.Uniform(dev, rng, fanIn, inChannels, outChannels, kernel, kernel));
        if (bias) Bias = Parameter("bias", Init.Uniform(dev, rng, fanIn, outChannels));
        Stride = stride; Padding = padding; OutputPadding = outputPadding;
    }

    public override Tensor Forward(Tensor x) => x.ConvTranspose2d(Weight, Bias, Stride, Padding, OutputPadding);
}

/// <summary>
/// BatchNorm1d on (N, C) and BatchNorm2d on (N, C, H, W) alike: statistics per channel (axis 1).
/// Keeps PyTorch's buffers, num_batches_tracked included (a 0-d tensor counting training batches),
/// so a state_dict loads into torch.nn.BatchNorm*d with strict=True.
/// </summary>
public sealed class BatchNorm : Layer
{
    public Tensor Weight { get; }
    public Tensor Bias { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }
    public float Momentum { get; }
    public float Eps { get; }

    public BatchNorm(IDevice dev, int channels, float momentum = 0.1f, float eps = 1e-5f)
    {
        Weight = Parameter("weight", Tensor.Ones(dev, channels));
        Bias = Parameter("bias", Tensor.Zeros(dev, channels));
        RunningMean = Buffer("running_mean", Tensor.Zeros(dev, channels));
        RunningVar = Buffer("running_var", Tensor.Ones(dev, channels));
        NumBatchesTracked = Buffer("num_batches_tracked", Tensor.Zeros(dev));
        Momentum = momentum; Eps = eps;
    }

    /// <summary>Training batches seen (float here, int64 in PyTorch; exact to 2^24 batches).</summary>
    public Tensor NumBatchesTracked { get; }

    public override Tensor Forward(Tensor x)
    {
        if (Training)
            using (Graph.NoGrad()) NumBatchesTracked.Device.Unary(UnaryOp.Affine, NumBatchesTracked, NumBatchesTracked, 1f, 1f);
        return x.BatchNorm(Weight, Bias, RunningMean, RunningVar, Training, Momentum, Eps);
    }
}

/// <summary>Dropout with its own seeded stream of masks (a named stream, so checkpoints keep its position).</summary>
public sealed class Dropout : Layer
{
    private readonly float _p;
    private readonly Generator _rng;
    public Dropout(float p, Generator rng) { _p = p; _rng = Stream("rng", rng); }
    public override Tensor Forward(Tensor x) => x.Dropout(_p, Training, _rng);
}

public sealed class Embedding : Layer
{
    public Tensor Weight { get; }   // (V, D)
    public Embedding(IDevice dev, Generator rng, int count, int dim) { Weight = Parameter("weight", Init.Normal(dev, rng, count, dim)); }
    public Tensor Forward(int[] idx) => Weight.Embedding(idx);
    public override Tensor Forward(Tensor x) => throw new NotSupportedException("embedding takes integer indices: call Forward(int[])");
}

/// <summary>A stateless function as a layer (activations, flatten, reshape).</summary>
public sealed class Lambda(Func<Tensor, Tensor> f) : Layer
{
    public override Tensor Forward(Tensor x) => f(x);
    public static Lambda ReLU() => new(x => x.Relu());
    public static Lambda LeakyReLU(float slope) => new(x => x.LeakyRelu(slope));
    public static Lambda Tanh() => new(x => x.Tanh());
    public static Lambda Sigmoid() => new(x => x.Sigmoid());
    public static Lambda Flatten() => new(x => x.Flatten());
    public static Lambda Unflatten(params int[] shape) => new(x => x.Reshape([x.Shape[0], .. shape]));
}

/// <summary>Layers applied in order; children are named "0", "1", … as in PyTorch.</summary>
public sealed class Sequential : Layer
{
    private readonly Layer[] _layers;
    public Sequential(params Layer[] layers)
    {
        _layers = layers;
        for (int i = 0; i < layers.Length; i++) Child(i.ToString(System.Globalization.CultureInfo.InvariantCulture), layers[i]);
    }

    /// <summary>The i-th layer, as PyTorch's nn.Sequential indexes it.</summary>
    public Layer this[int i] => _layers[i];
    public int Count => _layers.Length;

    public override Tensor Forward(Tensor x)
    {
        foreach (var l in _layers) x = l.Forward(x);
        return x;
    }
}
