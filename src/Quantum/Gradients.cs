namespace QGenEngine.Quantum;

/// <summary>
/// The three ways to get ∂⟨G, readout⟩/∂(weights, inputs): adjoint (one backward sweep, exact; the
/// default), parameter-shift (two circuit runs per angle, what hardware needs; exact for these gates,
/// and with a shots readout as noisy as hardware would be) and finite differences (tests only).
/// </summary>
public static class Gradients
{
    /// <param name="inputGrads">false when nothing upstream needs the inputs' gradient (a GAN's noise): parameter-shift
    /// then skips the 2 × inputs circuit runs (the returned input gradient is zeros)</param>
    public static (float[] Readout, float[] WeightGrad, float[] InputGrad) Compute(GradMethod method, Circuit c, float[] inputs, int batch,
        float[] weights, Readout r, float[] cotangent, ulong seed = 0, NoiseModel? noise = null, bool inputGrads = true) => method switch
    {
        GradMethod.Adjoint when noise is { IsNoiseless: false } =>
            throw new ArgumentException("the adjoint method needs a pure state; with noise use ⟨grad⟩ shift (or fd)"),
        GradMethod.Adjoint => Simulator.Adjoint(c, inputs, batch, weights, r, cotangent, seed),
        GradMethod.Shift => Shift(c, inputs, batch, weights, r, cotangent, seed, noise, inputGrads),
        _ => FiniteDifferences(c, inputs, batch, weights, r, cotangent, seed, noise),
    };

    private static float[] Run(Circuit c, float[] inputs, int batch, float[] weights, Readout r, ulong seed, NoiseModel? noise, bool dbl = false) =>
        noise is { IsNoiseless: false } ? DensityMatrix.Run(c, inputs, batch, weights, r, noise, seed)
        : dbl ? Simulator.Run<double>(c, inputs, batch, weights, r, seed) : Simulator.Run(c, inputs, batch, weights, r, seed);

    private static double Dot(float[] a, float[] b, int from, int count)
    {
        double s = 0;
        for (int i = from; i < from + count; i++) s += (double)a[i] * b[i];
        return s;
    }

    /// <summary>∂f/∂θ = [f(θ + π/2) − f(θ − π/2)] / 2 for every rotation angle (each angle feeds one gate in these templates).</summary>
    public static (float[], float[], float[]) Shift(Circuit c, float[] inputs, int batch, float[] weights, Readout r, float[] cot, ulong seed = 0, NoiseModel? noise = null,
                                                     bool inputGrads = true)
    {
        int width = r.Width(c.Qubits);
        var y = Run(c, inputs, batch, weights, r, seed, noise);
        var wg = new float[c.WeightCount];
        ulong run = 1;
        for (int k = 0; k < c.WeightCount; k++)
        {
            var wp = (float[])weights.Clone(); wp[k] += MathF.PI / 2;
            var wm = (float[])weights.Clone(); wm[k] -= MathF.PI / 2;
            var yp = Run(c, inputs, batch, wp, r, seed + run++, noise); var ym = Run(c, inputs, batch, wm, r, seed + run++, noise);
            wg[k] = (float)(0.5 * (Dot(cot, yp, 0, cot.Length) - Dot(cot, ym, 0, cot.Length)));
        }
        float[] ig;
        if (!inputGrads) ig = new float[inputs.Length];
        else if (c.Encoding == Encoding.Angle)
        {
            ig = new float[inputs.Length];
            for (int q = 0; q < c.InputCount; q++)
            {   // shift input q of every sample at once: samples are independent
                var ip = (float[])inputs.Clone(); var im = (float[])inputs.Clone();
                for (int b = 0; b < batch; b++) { ip[b * c.InputCount + q] += MathF.PI / 2; im[b * c.InputCount + q] -= MathF.PI / 2; }
                var yp = Run(c, ip, batch, weights, r, seed + run++, noise); var ym = Run(c, im, batch, weights, r, seed + run++, noise);
                for (int b = 0; b < batch; b++)
                    ig[b * c.InputCount + q] = (float)(0.5 * (Dot(cot, yp, b * width, width) - Dot(cot, ym, b * width, width)));
            }
        }
        else ig = FiniteDifferences(c, inputs, batch, weights, r, cot, seed, noise).Item3;   // amplitudes are no rotation angles
        return (y, wg, ig);
    }

    /// <summary>Central differences in double precision (tests only).</summary>
    public static (float[], float[], float[]) FiniteDifferences(Circuit c, float[] inputs, int batch, float[] weights, Readout r, float[] cot,
                                                               ulong seed = 0, NoiseModel? noise = null, double h = 1e-3)
    {
        int width = r.Width(c.Qubits);
        var y = Run(c, inputs, batch, weights, r, seed, noise, dbl: true);
        var wg = new float[c.WeightCount];
        for (int k = 0; k < c.WeightCount; k++)
        {
            var wp = (float[])weights.Clone(); wp[k] += (float)h;
            var wm = (float[])weights.Clone(); wm[k] -= (float)h;
            double step = (double)wp[k] - wm[k];
            wg[k] = (float)((Dot(cot, Run(c, inputs, batch, wp, r, seed, noise, true), 0, cot.Length) - Dot(cot, Run(c, inputs, batch, wm, r, seed, noise, true), 0, cot.Length)) / step);
        }
        var ig = new float[inputs.Length];
        for (int q = 0; q < c.InputCount; q++)
        {
            var ip = (float[])inputs.Clone(); var im = (float[])inputs.Clone();
            for (int b = 0; b < batch; b++) { ip[b * c.InputCount + q] += (float)h; im[b * c.InputCount + q] -= (float)h; }
            var yp = Run(c, ip, batch, weights, r, seed, noise, true); var ym = Run(c, im, batch, weights, r, seed, noise, true);
            for (int b = 0; b < batch; b++)
            {
                double step = (double)ip[b * c.InputCount + q] - im[b * c.InputCount + q];
                ig[b * c.InputCount + q] = (float)((Dot(cot, yp, b * width, width) - Dot(cot, ym, b * width, width)) / step);
            }
        }
        return (y, wg, ig);
    }
}
