using QGenEngine.Autograd;
using QGenEngine.Autograd.Nn;
using QGenEngine.Kernels;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

[TestFixture]
public class AutogradTests
{
    private static readonly IDevice Dev = Backends.Cpu;

    private static Tensor Leaf(float[] v, params int[] shape) { var t = Tensor.FromArray(Dev, v, shape); t.RequiresGrad = true; return t; }

    [Test]
    public void Zero_grad_without_writing_reads_as_zeros_and_the_next_backward_writes_the_gradient()
    {
        // Optimizer.ZeroGrad marks gradients zero instead of filling them (Tensor.ZeroGrad): the next accumulation must
        // give exactly what accumulating into zeros gave, a reader before it must see zeros, and the buffer is kept.
        var a = Leaf([1, -2, 3], 3); var b = Leaf([0.5f, 4, -1], 3);
        var opt = new QGenEngine.Autograd.Optim.Sgd([("a", a), ("b", b)], 0.1f);
        Graph.Backward(a.Mul(b).Sum());
        var bufA = a.Grad; var bufB = b.Grad;
        opt.ZeroGrad();
        Graph.Backward(a.Square().Mul(b).Sum());            // reaches a and b: written, not added
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 2 * 1 * 0.5f, 2 * -2 * 4f, 2 * 3 * -1f }));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(new[] { 1f, 4, 9 }));
        Assert.That(a.Grad, Is.SameAs(bufA), "the buffer is kept");
        opt.ZeroGrad();
        Graph.Backward(a.Mul(3f).Sum());                     // reaches a only
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 3f, 3, 3 }));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(new[] { 0f, 0, 0 }), "b got no gradient this step: it reads as zeros");
        Assert.That(b.Grad, Is.SameAs(bufB));
        Graph.Backward(a.Sum());                             // a second backward adds as before
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 4f, 4, 4 }));
    }

    [Test]
    public void Gradients_accumulate_across_backward_calls()
    {
        var x = Leaf([1, 2, 3], 3);
        Graph.Backward(x.Square().Sum());
        Graph.Backward(x.Mul(3f).Sum());
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 2 + 3f, 4 + 3f, 6 + 3f }));
    }

    [Test]
    public void A_tensor_used_twice_gets_both_gradients()
    {
        var x = Leaf([0.5f, -1f], 2);
        Graph.Backward(x.Mul(x).Add(x).Sum());   // d/dx (x² + x) = 2x + 1
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 2f, -1f }));
    }

    [Test]
    public void No_grad_records_nothing_and_backward_says_why()
    {
        var x = Leaf([1, 2], 2);
        Tensor y;
        using (Graph.NoGrad()) y = x.Exp().Sum();
        Assert.That(y.RequiresGrad, Is.False);
        Assert.That(y.Node, Is.Null);
        var e = Assert.Throws<InvalidOperationException>(() => Graph.Backward(y));
        Assert.That(e!.Message, Does.Contain("does not require a gradient"));
    }

    [Test]
    public void Backward_of_a_non_scalar_needs_its_gradient()
    {
        var x = Leaf([1, 2], 2);
        Assert.Throws<InvalidOperationException>(() => Graph.Backward(x.Exp()));
        var y = x.Exp();
        Graph.Backward(y, Tensor.FromArray(Dev, [1f, 0f], 2));
        Close.Assert(x.Grad!.ToArray(), new[] { MathF.E, 0f }, 1e-6, 1e-6, "dy·e^x");
    }

    [Test]
    public void Detach_stops_the_gradient()
    {
        var x = Leaf([2, -3], 2);
        Graph.Backward(x.Mul(x.Detach()).Sum());   // only the first factor carries a gradient: d = x
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 2f, -3f }));
    }

    [Test]
    public void Vector_quantize_passes_the_gradient_straight_through_and_trains_the_codebook()
    {
        var z = Leaf([0.9f, 1.2f, -0.2f, 0.1f], 2, 2);
        var book = Leaf([0, 0, 1, 1, -1, 2], 3, 2);
        var (zq, e, codes) = z.VectorQuantize(book);
        Assert.That(codes.ToArray(), Is.EqualTo(new float[] { 1, 0 }), "indices as a device tensor");
        Assert.That(zq.ToArray(), Is.EqualTo(new[] { 1f, 1f, 0f, 0f }), "forward: the codebook vectors");
        var g = Tensor.FromArray(Dev, [1f, 2f, 3f, 4f], 2, 2);
        Graph.Backward(zq, g);
        Assert.That(z.Grad!.ToArray(), Is.EqualTo(g.ToArray()), "straight through: dz = dzq");
        Assert.That(book.Grad, Is.Null, "zq alone sends nothing to the codebook");
        Graph.Backward(z.Detach().Mse(e, Reduction.Sum));   // codebook loss: d/de ||sg[z] − e||² = 2(e − z)
        Close.Assert(book.Grad!.ToArray(), new[] { 2 * 0.2f, 2 * -0.1f, 2 * 0.1f, 2 * -0.2f, 0, 0 }, 1e-6, 1e-5, "codebook gradient");
    }

    [Test]
    public void Modules_walk_their_parameters_with_dotted_names_and_switch_mode()
    {
        var rng = new Generator(1);
        var net = new Sequential(new Linear(Dev, rng, 3, 4), Lambda.ReLU(), new BatchNorm(Dev, 4), new Dropout(0.5f, rng), new Linear(Dev, rng, 4, 2, bias: false));
        Assert.That(net.NamedParameters().Select(p => p.Name), Is.EqualTo(new[] { "0.weight", "0.bias", "2.weight", "2.bias", "4.weight" }));
        Assert.That(net.NamedBuffers().Select(p => p.Name), Is.EqualTo(new[] { "2.running_mean", "2.running_var", "2.num_batches_tracked" }));
        Assert.That(net.ParameterCount, Is.EqualTo(3 * 4 + 4 + 4 + 4 + 4 * 2));
        var x = Tensor.FromArray(Dev, Data.Make(3, 8 * 3), 8, 3);
        net.Eval();
        float[] Run() { using (Graph.NoGrad()) return net.Forward(x).ToArray(); }
        var first = Run();
        Assert.That(Run(), Is.EqualTo(first), "eval: no dropout, running statistics");
        net.Train();
        var t1 = Run();
        Assert.That(Run(), Is.Not.EqualTo(t1), "train: a fresh dropout mask each call");
    }

    [Test]
    public void Default_initialisation_follows_pytorchs_bounds()
    {
        var rng = new Generator(5);
        var conv = new Conv2d(Dev, rng, 16, 8, 3);
        var deconv = new ConvTranspose2d(Dev, rng, 16, 8, 4);
        var lin = new Linear(Dev, rng, 400, 10);
        void Check(Tensor w, int fanIn, string what)
        {
            float bound = 1 / MathF.Sqrt(fanIn);
            var v = w.ToArray();
            Assert.That(v.Max(), Is.LessThanOrEqualTo(bound).And.GreaterThan(0.9f * bound), what);
            Assert.That(v.Min(), Is.GreaterThanOrEqualTo(-bound).And.LessThan(-0.9f * bound), what);
        }
        Check(conv.Weight, 16 * 9, "conv weight: U(±1/√(C·K·K))");
        Check(deconv.Weight, 8 * 16, "transposed conv weight: fan-in from size(1)·K·K");
        Check(lin.Weight, 400, "linear weight");
        Assert.That(new Linear(Dev, new Generator(5), 400, 10).Weight.ToArray(), Is.Not.EqualTo(lin.Weight.ToArray()));
        Assert.That(new Conv2d(Dev, new Generator(5), 16, 8, 3).Weight.ToArray(), Is.EqualTo(conv.Weight.ToArray()), "same seed, same weights");
    }

    [Test]
    public void A_scope_frees_intermediates_but_not_parameters_or_their_gradients()
    {
        var rng = new Generator(2);
        var lin = new Linear(Dev, rng, 5, 3);
        Tensor y;
        using (TensorScope.Begin())
        {
            var x = Tensor.FromArray(Dev, Data.Make(1, 10), 2, 5);
            y = lin.Forward(x).Relu();
            Graph.Backward(y.Sum());
        }
        Assert.That(y.IsDisposed, Is.True);
        Assert.That(lin.Weight.IsDisposed, Is.False);
        Assert.That(lin.Weight.Grad!.IsDisposed, Is.False);
        Assert.DoesNotThrow(() => lin.Weight.Grad!.ToArray());
    }

    [Test]
    public void Shape_errors_name_the_shapes()
    {
        var a = Tensor.Zeros(Dev, 2, 3); var b = Tensor.Zeros(Dev, 4, 5);
        Assert.That(Assert.Throws<ArgumentException>(() => a.MatMul(b))!.Message, Does.Contain("[2, 3]").And.Contain("[4, 5]"));
        Assert.That(Assert.Throws<ArgumentException>(() => a.Add(Tensor.Zeros(Dev, 4)))!.Message, Does.Contain("cannot be broadcast"));
        Assert.That(Assert.Throws<ArgumentException>(() => a.Conv2d(Tensor.Zeros(Dev, 1, 1, 3, 3), null))!.Message, Does.Contain("conv2d"));
        Assert.That(Assert.Throws<ArgumentException>(() => a.Add(Tensor.Zeros(Backends.Reference, 2, 3)))!.Message, Does.Contain("different devices"));
    }
}
