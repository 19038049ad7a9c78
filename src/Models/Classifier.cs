namespace QGenEngine.Models;

/// <summary>
/// The metric classifier (MODELS.md): a small CNN on 28×28 digits whose 128-d penultimate activations
/// feed FID and whose softmax feeds IS.
/// x (N,1,28,28) → Conv 1→32 k3 p1, ReLU, MaxPool 2 → Conv 32→64 k3 p1, ReLU, MaxPool 2 → Flatten 3136
/// → Linear 3136→128, ReLU = features → Dropout 0.25 → Linear 128→10 = logits. 421,642 parameters.
/// </summary>
public sealed class Classifier : Module, ITrainable, IClassifying
{
    public const int FeatureSize = 128, Classes = 10;
    private readonly Sequential _body;
    private readonly Dropout _drop;
    private readonly Linear _head;

    public Classifier(IDevice dev, ulong seed)
    {
        var rng = new Generator(seed);
        _body = Child("body", new Sequential(
            new Conv2d(dev, rng, 1, 32, 3, 1, 1), Lambda.ReLU(), new Lambda(x => x.MaxPool2d(2)),
            new Conv2d(dev, rng, 32, 64, 3, 1, 1), Lambda.ReLU(), new Lambda(x => x.MaxPool2d(2)),
            Lambda.Flatten(), new Linear(dev, rng, 3136, FeatureSize), Lambda.ReLU()));
        _drop = new Dropout(0.25f, new Generator(CounterRng.Derive(seed, 7)));
        Child("drop", _drop);
        _head = Child("head", new Linear(dev, rng, FeatureSize, Classes));
    }

    public Tensor Features(Tensor x) => _body.Forward(x);
    public Tensor Logits(Tensor x) => _head.Forward(_drop.Forward(Features(x)));

    /// <summary>Features (N, 128) and class probabilities (N, 10) of n images in [0, 1], in eval mode, batched.</summary>
    public (float[] Features, float[] Probs) Embed(IDevice dev, ReadOnlySpan<float> images, int n, int batch = 500)
    {
        bool was = Training;
        Eval();
        var feats = new float[n * FeatureSize]; var probs = new float[n * Classes];
        using var _ = Graph.NoGrad();
        for (int s = 0; s < n; s += batch)
        {
            int m = Math.Min(batch, n - s);
            using var scope = TensorScope.Begin();
            var x = Tensor.FromArray(dev, images.Slice(s * 784, m * 784), m, 1, 28, 28);
            var f = Features(x);
            f.CopyTo(feats.AsSpan(s * FeatureSize, m * FeatureSize));
            _head.Forward(f).Softmax().CopyTo(probs.AsSpan(s * Classes, m * Classes));
        }
        Train(was);
        return (feats, probs);
    }

    public IReadOnlyList<(string Name, Module Module, string Prefix)> Parts => [("model", this, "")];
    public IReadOnlyList<string> Scalars { get; } = ["loss"];

    public string? ScalarFormat(string name) => name == "test_accuracy" ? "F4" : null;

    public Tensor[] TrainStep(Batch batch, Parts parts)
    {
        var loss = Logits(batch.Images).CrossEntropy(batch.Labels);
        parts["model"].Minimize(loss);
        return [loss];
    }

    /// <summary>Accuracy on the first n test images.</summary>
    public IReadOnlyList<(string Name, double Value)> Validate(ImageSet test, int n) => [("test_accuracy", Accuracy(test, n))];

    public double Accuracy(ImageSet set, int n = int.MaxValue) => Metrics.Evaluation.Accuracy(this, _head.Weight.Device, set, n);

    public Tensor Probabilities(Tensor x) => ModelMode.Eval(this, () => Logits(x).Softmax());
}
