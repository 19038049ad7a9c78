using System.Diagnostics;
using QGenEngine.Autograd;
using QGenEngine.Autograd.Nn;
using QGenEngine.Autograd.Optim;
using QGenEngine.Kernels;
using QGenEngine.Tensors;

namespace QGenEngine.Tests;

public class ProfilerTests
{
    [Test]
    public void A_profiled_step_charges_each_op_its_forward_and_backward_and_accounts_for_the_wall_time()
    {
        var dev = Backends.Cpu;
        var rng = new Generator(3);
        var conv = new Conv2d(dev, rng, 1, 4, 3, 2, 1);
        var fc = new Linear(dev, rng, 4 * 7 * 7, 10);
        var opt = new Adam(conv.NamedParameters("conv.").Concat(fc.NamedParameters("fc.")), 1e-3f);
        var x = Tensor.Uniform(dev, 1, 0, 1, 8, 1, 14, 14);
        void Step()
        {
            using var scope = TensorScope.Begin();
            opt.ZeroGrad();
            var loss = fc.Forward(conv.Forward(x).Relu().Reshape(8, -1)).Square().Mean();
            Graph.Backward(loss);
            opt.Step();
        }
        Step();
        var sw = Stopwatch.StartNew();
        Profiler.Start();
        for (int i = 0; i < 3; i++) Step();
        var entries = Profiler.Stop();
        double wall = sw.Elapsed.TotalMilliseconds;
        Step();   // off again: nothing more is charged
        Entry("Conv2d", "[8, 4, 7, 7]", "forward");
        Entry("Conv2d", "[8, 4, 7, 7]", "backward");
        Entry("Linear", "[8, 10]", "forward");
        Entry("Linear", "[8, 10]", "backward");
        Entry("adam step", "", "other");
        Entry("zero_grad", "", "other");
        Assert.That(entries.Sum(e => e.Ms), Is.InRange(0.5 * wall, wall * 1.001), "the entries cover the profiled time, and no more");
        Assert.That(entries.Select(e => e.Ms), Is.Ordered.Descending);

        void Entry(string op, string shape, string phase)
        {
            var e = entries.SingleOrDefault(e => e.Op == op && e.Shape == shape && e.Phase == phase);
            Assert.That(e, Is.Not.Null, $"no {phase} entry for {op} {shape}: {string.Join("; ", entries.Select(x => $"{x.Phase} {x.Op} {x.Shape}"))}");
            Assert.That(e!.Calls, Is.EqualTo(3), $"{phase} {op} {shape} once per step");
            Assert.That(e.Ms, Is.GreaterThan(0));
        }
    }
}
