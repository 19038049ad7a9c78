using QGenEngine.Autograd;
using QGenEngine.Autograd.Nn;
using QGenEngine.Autograd.Optim;
using QGenEngine.Kernels;
using QGenEngine.Kernels.Cpu;
using QGenEngine.Models;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

[TestFixture]
public class TrainStepTests
{
    /// <summary>Digit-like blobs: each image a few bright strokes, deterministic.</summary>
    internal static float[] Blobs(int n, int seed)
    {
        var r = new Random(seed); var v = new float[n * 784];
        for (int i = 0; i < n; i++)
            for (int s = 0; s < 3; s++)
            {
                int cy = r.Next(6, 22), cx = r.Next(6, 22), len = r.Next(4, 9); bool vertical = r.Next(2) == 0;
                for (int k = -len; k <= len; k++)
                {
                    int y = vertical ? cy + k : cy, x = vertical ? cx : cx + k;
                    if ((uint)y < 28 && (uint)x < 28) v[i * 784 + y * 28 + x] = 1f;
                }
            }
        return v;
    }

    private static List<float> TrainVae(IDevice dev, int steps, int batch = 8)
    {
        var model = new Vae(dev, 7);
        var opt = new Adam(model.NamedParameters(), 1e-3f);
        var x = Tensor.FromArray(dev, Blobs(batch, 3), batch, 1, 28, 28);
        var losses = new List<float>();
        for (int i = 0; i < steps; i++)
        {
            using var scope = TensorScope.Begin();
            opt.ZeroGrad();
            var (loss, _, _) = model.Loss(x);
            Graph.Backward(loss);
            GradClip.ClipGradNorm(model.Parameters(), 100f);
            opt.Step();
            losses.Add(loss.Item());
        }
        return losses;
    }

    [Test]
    public void Vae_loss_falls_and_the_same_seed_gives_the_same_numbers()
    {
        var a = TrainVae(Backends.Cpu, 40);
        var b = TrainVae(Backends.Cpu, 40);
        Assert.That(b, Is.EqualTo(a), "bit-for-bit reproducible on the CPU backend");
        Assert.That(a[^5..].Average(), Is.LessThan(0.6 * a[0]), $"loss should fall: first {a[0]}, last {a[^1]}");
        Assert.That(a.All(float.IsFinite));
    }

    [Test]
    public void A_small_network_trains_the_same_on_the_fast_path_and_the_reference()
    {
        List<float> Train(IDevice dev)
        {
            var rng = new Generator(3);
            var net = new Sequential(new Conv2d(dev, rng, 1, 4, 3, 2, 1), new BatchNorm(dev, 4), Lambda.ReLU(), new Conv2d(dev, rng, 4, 6, 3, 1, 1),
                                     Lambda.LeakyReLU(0.2f), Lambda.Flatten(), new Linear(dev, rng, 6 * 14 * 14, 3));
            var opt = new Sgd(net.NamedParameters(), 0.05f, momentum: 0.9f);
            var x = Tensor.FromArray(dev, Blobs(6, 9), 6, 1, 28, 28);
            int[] labels = [0, 1, 2, 0, 1, 2];
            var losses = new List<float>();
            for (int i = 0; i < 8; i++)
            {
                opt.ZeroGrad();
                var loss = net.Forward(x).CrossEntropy(labels);
                Graph.Backward(loss);
                opt.Step();
                losses.Add(loss.Item());
            }
            return losses;
        }
        var want = Train(Backends.Reference);
        var got = Train(Backends.Cpu);
        Close.Assert(got.ToArray(), want.ToArray(), 1e-3, 1e-3, "loss curve, fast path against the double-precision reference");
        Assert.That(want[^1], Is.LessThan(want[0]));
    }

    [Test]
    public void Steady_state_training_allocates_no_tensor_memory_and_does_not_grow()
    {
        var dev = Backends.Cpu;
        var model = new Vae(dev, 11);
        var opt = new Adam(model.NamedParameters(), 1e-3f);
        var x = Tensor.FromArray(dev, Blobs(8, 5), 8, 1, 28, 28);
        void Step()
        {
            using var scope = TensorScope.Begin();
            opt.ZeroGrad();
            var (loss, _, _) = model.Loss(x);
            Graph.Backward(loss);
            opt.Step();
        }
        for (int i = 0; i < 10; i++) Step();
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        long fresh0 = FloatPool.FreshAllocations, bytes0 = GC.GetTotalAllocatedBytes(precise: true), ws0 = Environment.WorkingSet;
        const int steps = 200;
        for (int i = 0; i < steps; i++) Step();
        long bytes1 = GC.GetTotalAllocatedBytes(precise: true);
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        long ws1 = Environment.WorkingSet;
        double perStep = (bytes1 - bytes0) / (double)steps;
        TestContext.Out.WriteLine($"managed allocation {perStep:F0} B/step; working set {ws0 / 1e6:F1} → {ws1 / 1e6:F1} MB");
        Assert.That(FloatPool.FreshAllocations - fresh0, Is.Zero, "every tensor buffer came from the pool");
        // What remains is the graph itself: a node, a closure and a tensor header per op (~100 ops).
        // A single unpooled activation of this step would be ≥ 25 KB; all of them together ~ 3 MB.
        Assert.That(perStep, Is.LessThan(48 * 1024), "managed bytes per step");
        Assert.That(ws1 - ws0, Is.LessThan(32L << 20), "working set growth over 200 steps");
    }
}
