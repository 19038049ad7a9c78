using QGenEngine.Autograd;
using QGenEngine.Kernels.Reference;
using QGenEngine.Tensors;

namespace QGenEngine.Tests.Support;

/// <summary>A parameter's recorded gradient (on the reference device) against central differences of a loss, entry by entry.</summary>
public static class FiniteDifferences
{
    /// <summary>
    /// For entry i of <paramref name="p"/>: numeric = (L(p_i + h) − L(p_i − h)) / 2h with no graph, and asserts
    /// |p.Grad[i] − numeric| ≤ atol + rtol·|numeric|, naming <paramref name="name"/>[i]. The entry is restored afterwards.
    /// </summary>
    public static void AssertEntry(string name, Tensor p, int i, Func<Tensor> loss, double h, double atol = 1e-6, double rtol = 1e-4)
    {
        double v = ReferenceDevice.Get(p, i), lp, lm;
        using (Graph.NoGrad())
        {
            ReferenceDevice.Set(p, i, v + h); lp = ReferenceDevice.Get(loss(), 0);
            ReferenceDevice.Set(p, i, v - h); lm = ReferenceDevice.Get(loss(), 0);
        }
        ReferenceDevice.Set(p, i, v);
        double numeric = (lp - lm) / (2 * h), analytic = ReferenceDevice.Get(p.Grad!, i);
        NUnit.Framework.Assert.That(Math.Abs(analytic - numeric), NUnit.Framework.Is.LessThanOrEqualTo(atol + rtol * Math.Abs(numeric)),
                                    $"{name}[{i}]: analytic {analytic}, numeric {numeric}");
    }
}
