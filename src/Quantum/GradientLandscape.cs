using QGenEngine.Tensors;

namespace QGenEngine.Quantum;

/// <summary>Which cost a landscape differentiates (Cerezo et al. 2021: a global cost's gradients vanish exponentially
/// in the qubits at any depth; a local cost's only once the circuit is deep enough to scramble).</summary>
public enum LandscapeCost
{
    /// <summary>⟨Z⟩ of qubit 0 (the expval readout's first output): a local cost.</summary>
    Local,
    /// <summary>P(|0…0⟩) (the probs readout's first output): a global cost.</summary>
    Global,
}

/// <summary>
/// One point of the landscape: the gradient statistics of one circuit shape over random angles. Var[∂C/∂θ] is what
/// McClean et al. (2018) plot against qubits and layers; a barren plateau is its exponential fall.
/// </summary>
/// <param name="MeanVariance">the variance of ∂C/∂w over the draws, averaged over the circuit's 2·n·L angles</param>
/// <param name="MeanVarianceSe">its standard error over the draws (how far the estimate itself may be off)</param>
/// <param name="FirstVariance">Var[∂C/∂θ] of the first layer's RY angle on qubit 0 (one parameter, McClean's convention)</param>
/// <param name="FirstVarianceSe">its standard error</param>
/// <param name="MeanCost">the cost's mean over the draws (its scale: P(|0…0⟩) averages 2^-n)</param>
public sealed record LandscapePoint(int Qubits, int Layers, Entangler Entangler, LandscapeCost Cost, int Draws,
                                    double MeanVariance, double MeanVarianceSe, double FirstVariance, double FirstVarianceSe, double MeanCost);

/// <summary>
/// The gradient landscape of the report's circuit template at random angles: for each shape, <c>draws</c> circuits
/// with every weight uniform in [0, 2π) and every input angle uniform in [0, π) (the qgan's noise), the exact adjoint
/// gradient of the cost in double precision (<see cref="Simulator.RunExact"/>), and the variance of each partial
/// derivative over the draws. Independent of any training: where a trained run's gradient norm mixes the plateau with
/// how far training has gone, this is the circuit alone. Reproducible: draw d of a shape uses stream d of the seed.
/// </summary>
public static class GradientLandscape
{
    /// <summary>One random circuit of a landscape: its weights, inputs, cost and the cost's gradient in the weights.</summary>
    public sealed record Draw(double[] Weights, double[] Inputs, double Cost, double[] Gradient);

    /// <summary>The <paramref name="draws"/> random circuits of one shape and their exact gradients (what <see cref="Measure"/> summarises).</summary>
    public static Draw[] Sample(int qubits, int layers, Entangler entangler, LandscapeCost cost, int draws, ulong seed)
    {
        if (draws < 2) throw new ArgumentOutOfRangeException(nameof(draws), $"draws must be at least 2 to estimate a variance, got {draws}");
        if (layers < 1) throw new ArgumentOutOfRangeException(nameof(layers), $"layers must be at least 1 (no angles to differentiate otherwise), got {layers}");
        var c = Circuit.Template(qubits, layers, entangler);
        var r = Readout(cost);
        var cot = new double[r.Width(qubits)]; cot[0] = 1;   // C = the readout's first output
        int p = c.WeightCount;
        var result = new Draw[draws];
        // The shape's own stream: the same draws whatever other shapes a scan holds.
        ulong shape = CounterRng.Derive(CounterRng.Derive(CounterRng.Derive(CounterRng.Derive(seed, (ulong)qubits), (ulong)layers), (ulong)entangler), (ulong)cost);
        Parallel.For(0, draws, d =>
        {
            ulong s = CounterRng.Derive(shape, (ulong)d);
            var w = new double[p];
            for (int k = 0; k < p; k++) w[k] = 2 * Math.PI * Uniform(s, (ulong)k);
            var x = new double[c.InputCount];
            for (int q = 0; q < x.Length; q++) x[q] = Math.PI * Uniform(s, (ulong)(p + q));
            var (y, wg, _) = Simulator.RunExact(c, x, 1, w, r, cot);
            result[d] = new Draw(w, x, y[0], wg!);
        });
        return result;
    }

    /// <summary>The readout whose first output is the cost: ⟨Z₀⟩ of expval (local), P(|0…0⟩) of probs (global).</summary>
    public static Readout Readout(LandscapeCost cost) => cost == LandscapeCost.Local ? Quantum.Readout.Expval : Quantum.Readout.Probs;

    public static LandscapePoint Measure(int qubits, int layers, Entangler entangler, LandscapeCost cost, int draws, ulong seed)
    {
        var sample = Sample(qubits, layers, entangler, cost, draws, seed);
        var grads = sample.Select(d => d.Gradient).ToArray();
        var costs = sample.Select(d => d.Cost).ToArray();
        int p = grads[0].Length;
        // Per-angle variance (two-pass), then the mean over angles; the standard errors from the per-draw squares.
        var varK = new double[p];
        for (int k = 0; k < p; k++)
        {
            double m = 0; for (int d = 0; d < draws; d++) m += grads[d][k];
            m /= draws;
            double v = 0; for (int d = 0; d < draws; d++) v += (grads[d][k] - m) * (grads[d][k] - m);
            varK[k] = v / (draws - 1);
        }
        // SE of a variance estimated by the mean of squared deviations: sd of those squares / √draws.
        double Se(Func<int, double> sq)
        {
            double m = 0; for (int d = 0; d < draws; d++) m += sq(d);
            m /= draws;
            double v = 0; for (int d = 0; d < draws; d++) v += (sq(d) - m) * (sq(d) - m);
            return Math.Sqrt(v / (draws - 1) / draws);
        }
        var means = new double[p];
        for (int k = 0; k < p; k++) { for (int d = 0; d < draws; d++) means[k] += grads[d][k]; means[k] /= draws; }
        double meanVar = varK.Average();
        double meanVarSe = Se(d => { double s = 0; for (int k = 0; k < p; k++) s += (grads[d][k] - means[k]) * (grads[d][k] - means[k]); return s / p; });
        double firstSe = Se(d => (grads[d][0] - means[0]) * (grads[d][0] - means[0]));
        return new LandscapePoint(qubits, layers, entangler, cost, draws, meanVar, meanVarSe, varK[0], firstSe, costs.Average());
    }

    /// <summary>Uniform in [0, 1) with 53 random bits (the double-precision scan must not round its angles to float).</summary>
    private static double Uniform(ulong seed, ulong i) => (CounterRng.Hash(seed, i) >> 11) * (1.0 / (1UL << 53));

    /// <summary>
    /// The exponential fit log₂ Var = a + b·x over a series' points (least squares), x the qubits or the layers: Var
    /// ∝ 2^(b·x), so b = -1 halves the variance with every qubit (or layer) added; returns (a, b).
    /// </summary>
    public static (double Intercept, double Slope) FitLog2(IReadOnlyList<(double X, double Variance)> points)
    {
        if (points.Count < 2) throw new ArgumentException("a fit takes at least two points", nameof(points));
        double n = points.Count, sx = 0, sy = 0, sxx = 0, sxy = 0;
        foreach (var (x, v) in points)
        {
            double y = Math.Log2(v);
            sx += x; sy += y; sxx += x * x; sxy += x * y;
        }
        double b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        return ((sy - b * sx) / n, b);
    }
}
