using QGenEngine.Quantum;

namespace QGenEngine.Tests.Quantum;

/// <summary>
/// The gradient landscape at random angles (`qgen-engine landscape`): its gradients against central differences of the
/// dense-matrix reference, its statistics against values derived by hand, and the global cost's known exponential fall.
/// </summary>
[TestFixture]
public class GradientLandscapeTests
{
    [TestCase(LandscapeCost.Local, 3, 2)]
    [TestCase(LandscapeCost.Global, 3, 2)]
    [TestCase(LandscapeCost.Local, 4, 1)]
    public void Every_draw_s_gradient_is_the_dense_reference_s_central_difference(LandscapeCost cost, int n, int l)
    {
        var c = Circuit.Template(n, l);
        var r = GradientLandscape.Readout(cost);
        foreach (var d in GradientLandscape.Sample(n, l, Entangler.Linear, cost, draws: 4, seed: 7))
        {
            Assert.That(d.Cost, Is.EqualTo(DenseReference.Readout(c, d.Inputs, d.Weights, r)[0]).Within(1e-12));
            Assert.That(d.Weights, Has.All.InRange(0.0, 2 * Math.PI), "weights uniform in [0, 2π)");
            Assert.That(d.Inputs, Has.All.InRange(0.0, Math.PI), "inputs uniform in [0, π)");
            const double h = 1e-5;
            for (int k = 0; k < d.Weights.Length; k++)
            {
                var plus = (double[])d.Weights.Clone(); plus[k] += h;
                var minus = (double[])d.Weights.Clone(); minus[k] -= h;
                double fd = (DenseReference.Readout(c, d.Inputs, plus, r)[0] - DenseReference.Readout(c, d.Inputs, minus, r)[0]) / (2 * h);
                Assert.That(d.Gradient[k], Is.EqualTo(fd).Within(1e-8), $"angle {k}");
            }
        }
    }

    [Test]
    public void The_statistics_are_the_sample_variances_of_the_draws()
    {
        var draws = GradientLandscape.Sample(3, 2, Entangler.Circular, LandscapeCost.Local, 50, seed: 3);
        var p = GradientLandscape.Measure(3, 2, Entangler.Circular, LandscapeCost.Local, 50, seed: 3);
        double Var(IEnumerable<double> v) { var x = v.ToList(); double m = x.Average(); return x.Sum(y => (y - m) * (y - m)) / (x.Count - 1); }
        Assert.That(p.FirstVariance, Is.EqualTo(Var(draws.Select(d => d.Gradient[0]))).Within(1e-12));
        Assert.That(p.MeanVariance, Is.EqualTo(Enumerable.Range(0, 12).Average(k => Var(draws.Select(d => d.Gradient[k])))).Within(1e-12));
        Assert.That(p.MeanCost, Is.EqualTo(draws.Average(d => d.Cost)).Within(1e-12));
        Assert.That(p.Draws, Is.EqualTo(50));
    }

    /// <summary>
    /// One qubit, one layer: H, RY(x), RY(θ), RZ(φ) leave ⟨Z⟩ = -sin(x + θ), so ∂⟨Z⟩/∂θ = -cos(x + θ) with θ uniform
    /// over a period: Var = 1/2 exactly, and P(0) = (1 + ⟨Z⟩)/2 gives 1/8; the variance of cos² is 1/8 (standard error
    /// √(1/8 / 4000) ≈ 0.0056 of the local estimate). ∂/∂φ is 0: RZ is the last gate before a Z measurement.
    /// </summary>
    [Test]
    public void One_qubit_variances_are_the_values_derived_by_hand()
    {
        var local = GradientLandscape.Measure(1, 1, Entangler.Linear, LandscapeCost.Local, 4000, seed: 11);
        Assert.That(local.FirstVariance, Is.EqualTo(0.5).Within(4 * 0.0056));
        Assert.That(local.FirstVarianceSe, Is.EqualTo(Math.Sqrt(0.125 / 4000)).Within(0.0015));
        Assert.That(local.MeanVariance, Is.EqualTo(0.25).Within(2 * 0.0056), "the mean over θ (1/2) and φ (0)");
        Assert.That(local.MeanCost, Is.EqualTo(0).Within(0.05));
        var global = GradientLandscape.Measure(1, 1, Entangler.Linear, LandscapeCost.Global, 4000, seed: 11);
        Assert.That(global.FirstVariance, Is.EqualTo(0.125).Within(4 * 0.0056 / 4));
    }

    [Test]
    public void A_global_cost_s_gradients_vanish_with_qubits_and_a_local_cost_s_do_not()
    {
        // Cerezo et al. 2021: a global cost's variance falls exponentially in n; a shallow local one's does not.
        double G(int n) => GradientLandscape.Measure(n, 3, Entangler.Linear, LandscapeCost.Global, 400, seed: 5).FirstVariance;
        double L(int n) => GradientLandscape.Measure(n, 3, Entangler.Linear, LandscapeCost.Local, 400, seed: 5).FirstVariance;
        Assert.That(G(8), Is.LessThan(G(4) / 16));
        Assert.That(L(8), Is.GreaterThan(L(4) / 3));
    }

    [Test]
    public void A_seed_gives_the_same_draws_and_shapes_draw_independently()
    {
        var a = GradientLandscape.Sample(2, 2, Entangler.Linear, LandscapeCost.Local, 5, seed: 9);
        var b = GradientLandscape.Sample(2, 2, Entangler.Linear, LandscapeCost.Local, 5, seed: 9);
        Assert.That(a.Select(d => d.Gradient), Is.EqualTo(b.Select(d => d.Gradient)));
        var other = GradientLandscape.Sample(2, 2, Entangler.Linear, LandscapeCost.Local, 5, seed: 10);
        Assert.That(other[0].Weights, Is.Not.EqualTo(a[0].Weights));
        var deeper = GradientLandscape.Sample(2, 3, Entangler.Linear, LandscapeCost.Local, 5, seed: 9);
        Assert.That(deeper[0].Weights.Take(8), Is.Not.EqualTo(a[0].Weights), "another shape, its own stream");
    }

    [Test]
    public void The_fit_recovers_an_exact_exponential()
    {
        var pts = Enumerable.Range(4, 5).Select(n => ((double)n, Math.Pow(2, 3 - 1.5 * n))).ToList();
        var (a, b) = GradientLandscape.FitLog2(pts);
        Assert.That(b, Is.EqualTo(-1.5).Within(1e-12));
        Assert.That(a, Is.EqualTo(3).Within(1e-12));
    }
}
