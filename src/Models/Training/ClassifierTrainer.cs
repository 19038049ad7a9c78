using QGenEngine.Autograd;
using QGenEngine.Autograd.Optim;
using QGenEngine.Models.Data;
using QGenEngine.Tensors;

namespace QGenEngine.Models.Training;

/// <summary>Trains the metric classifier on MNIST's training set (Adam, cross-entropy, seeded shuffling) and reports test accuracy.</summary>
public static class ClassifierTrainer
{
    public static Classifier Train(IDevice dev, ImageSet train, ImageSet test, int epochs, int batch, float lr, ulong seed,
                                   Action<int, int, double>? onStep = null, Action<int, double, double>? onEpoch = null)
    {
        var model = new Classifier(dev, seed);
        var opt = new Adam(model.NamedParameters(), lr);
        var schedule = new CosineLr(lr, epochs * (train.Count / batch));
        var buf = new float[batch * 784];
        var labels = new int[batch];
        var x = TensorScope.Persist(Tensor.Empty(dev, batch, 1, 28, 28));
        int step = 0;
        for (int e = 0; e < epochs; e++)
        {
            model.Train();
            var order = Enumerable.Range(0, train.Count).ToArray();
            ulong s = CounterRng.Derive(seed, (ulong)e + 100);
            for (int i = order.Length - 1; i > 0; i--) { int j = (int)(CounterRng.Hash(s, (ulong)i) % (ulong)(i + 1)); (order[i], order[j]) = (order[j], order[i]); }
            double lossSum = 0;
            int steps = train.Count / batch;
            for (int k = 0; k < steps; k++)
            {
                for (int i = 0; i < batch; i++)
                {
                    int idx = order[k * batch + i];
                    train.Image(idx).CopyTo(buf.AsSpan(i * 784, 784));
                    labels[i] = train.Labels[idx];
                }
                x.CopyFrom(buf);
                opt.LearningRate = schedule.At(step++);
                using var scope = TensorScope.Begin();
                opt.ZeroGrad();
                var loss = model.Logits(x).CrossEntropy(labels);
                Graph.Backward(loss);
                opt.Step();
                double l = loss.Item();
                lossSum += l;
                onStep?.Invoke(e + 1, k + 1, l);
            }
            onEpoch?.Invoke(e + 1, lossSum / steps, Accuracy(model, dev, test));
        }
        return model;
    }

    public static double Accuracy(Classifier model, IDevice dev, ImageSet set)
    {
        var (_, probs) = model.Embed(dev, set.Pixels, set.Count);
        int right = 0;
        for (int i = 0; i < set.Count; i++)
        {
            int arg = 0;
            for (int c = 1; c < 10; c++) if (probs[i * 10 + c] > probs[i * 10 + arg]) arg = c;
            if (arg == set.Labels[i]) right++;
        }
        return right / (double)set.Count;
    }
}
