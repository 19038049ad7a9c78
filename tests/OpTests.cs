using QGenEngine.Autograd;
using QGenEngine.Kernels;
using QGenEngine.Kernels.Reference;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

/// <summary>The harness every op of <see cref="OpRegistry"/> goes through (each backend runs it in the conformance suite), and the reference's gradients against finite differences.</summary>
[TestFixture]
public class OpTests
{
    public static IEnumerable<OpCase> Cases => OpRegistry.All();
    /// <summary>Rows whose gradient is the derivative (not stop-gradient or straight-through, which AutogradTests check).</summary>
    public static IEnumerable<OpCase> FdCases => OpRegistry.All().Where(c => c.Fd);

    internal sealed record Result(float[] Output, int[] Shape, float[]?[] Grads);

    internal static float[][] Inputs(OpCase c) =>
        c.Inputs.Select((inp, i) => Data.Make(Data.Seed(c.Name) + i, Shape.Numel(inp.Shape), inp.Dist)).ToArray();

    /// <summary>Forward, then backward of L = Σ w ⊙ y with a fixed random cotangent w.</summary>
    internal static Result Run(IDevice dev, OpCase c, float[][] values)
    {
        var xs = c.Inputs.Select((inp, i) => { var t = Tensor.FromArray(dev, values[i], inp.Shape); t.RequiresGrad = inp.Grad; return t; }).ToArray();
        var y = c.Fn(xs);
        var w = Tensor.FromArray(dev, Data.Make(Data.Seed(c.Name) + 99, y.Numel), y.Shape);
        Graph.Backward(y.Mul(w).Sum());
        return new Result(y.ToArray(), y.Shape, xs.Select(x => x.Grad?.ToArray()).ToArray());
    }

    [TestCaseSource(nameof(FdCases))]
    public void Reference_gradient_matches_finite_differences(OpCase c)
    {
        var dev = ReferenceDevice.Instance;
        var values = Inputs(c);
        var xs = c.Inputs.Select((inp, i) => { var t = Tensor.FromArray(dev, values[i], inp.Shape); t.RequiresGrad = inp.Grad; return t; }).ToArray();
        float[]? wv = null;
        double Loss()
        {
            using var _ = Graph.NoGrad();
            var y = c.Fn(xs);
            wv ??= Data.Make(Data.Seed(c.Name) + 99, y.Numel);
            var yd = ReferenceDevice.D(y);
            double s = 0;
            for (int i = 0; i < yd.Length; i++) s += wv[i] * yd[i];
            return s;
        }
        Loss();
        var yg = c.Fn(xs);
        Graph.Backward(yg.Mul(Tensor.FromArray(dev, wv!, yg.Shape)).Sum());
        const double h = 1e-6;
        for (int k = 0; k < xs.Length; k++)
        {
            if (!c.Inputs[k].Grad) continue;
            var x = xs[k];
            var analytic = ReferenceDevice.D(x.Grad!).ToArray();
            var numeric = new double[x.Numel];
            for (int i = 0; i < x.Numel; i++)
            {
                double v = ReferenceDevice.Get(x, i);
                ReferenceDevice.Set(x, i, v + h); double lp = Loss();
                ReferenceDevice.Set(x, i, v - h); double lm = Loss();
                ReferenceDevice.Set(x, i, v);
                numeric[i] = (lp - lm) / (2 * h);
            }
            Close.Assert(analytic, numeric, 1e-6, 1e-5, $"{c.Name}: d/d(input {k}) against central differences");
        }
    }

    [Test]
    public void Every_op_family_has_a_row()
    {
        // A guard against a new op without a row: each public differentiable op of Ops appears in some row's name.
        var names = OpRegistry.All().Select(c => c.Name).ToList();
        string[] families = ["relu", "leaky_relu", "sigmoid", "tanh", "exp", "log", "softplus", "clamp", "square", "sqrt", "affine",
            "add", "sub", "mul", "div", "sum", "mean", "reshape", "concat", "slice", "detach", "matmul", "linear", "conv2d",
            "conv_transpose2d", "masked_conv2d", "batch_norm", "max_pool2d", "dropout", "softmax", "log_softmax", "bce_with_logits",
            "cross_entropy", "mse", "gaussian_kl", "embedding", "gather", "vector_quantize", "argmax", "argmin", "sample_categorical", "transpose"];
        foreach (var f in families) Assert.That(names.Any(n => n.StartsWith(f, StringComparison.Ordinal)), $"no op row for {f}");
    }
}
