using QGenEngine.Autograd;
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
            var yd = ReferenceDevice.Doubles(y);
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
            var analytic = ReferenceDevice.Doubles(x.Grad!).ToArray();
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

    /// <summary>PyTorch's spelling where it is not the method's name in snake case.</summary>
    private static readonly Dictionary<string, string> TorchSpelling = new()
    {
        ["ArgMax"] = "argmax", ["ArgMin"] = "argmin", ["MatMul"] = "matmul", ["NearestCode"] = "vector_quantize",
    };

    /// <summary>Every public method of <see cref="Ops"/> (found by reflection, so a new op cannot be forgotten), in snake case.</summary>
    public static IEnumerable<string> OpFamilies() =>
        typeof(Ops).GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(m => m.DeclaringType == typeof(Ops)).Select(m => m.Name).Distinct().Order()
            .Select(n => TorchSpelling.TryGetValue(n, out var t) ? t : System.Text.RegularExpressions.Regex.Replace(n, "(?<=[a-z0-9])([A-Z])", "_$1").ToLowerInvariant());

    [TestCaseSource(nameof(OpFamilies))]
    public void Every_op_family_has_a_row(string family)
    {
        Assert.That(OpRegistry.All().Select(c => c.Name), Has.Some.StartsWith(family), $"no row of OpRegistry is named {family}...");
    }
}
