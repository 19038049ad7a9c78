namespace QGenEngine.Models.Metrics;

/// <summary>Inception Score with the metric classifier: exp(E_x KL(p(y|x) ‖ p(y))), mean and standard deviation over splits.</summary>
public static class InceptionScore
{
    public static (double Mean, double Std) Compute(ReadOnlySpan<float> probs, int n, int classes, int splits = 10)
    {
        if (n < splits) throw new ArgumentException($"IS over {splits} splits needs at least {splits} images, got {n}");
        var scores = new double[splits];
        for (int s = 0; s < splits; s++)
        {
            int lo = n * s / splits, hi = n * (s + 1) / splits;
            var py = new double[classes];
            for (int i = lo; i < hi; i++) for (int c = 0; c < classes; c++) py[c] += probs[i * classes + c];
            for (int c = 0; c < classes; c++) py[c] /= hi - lo;
            double kl = 0;
            for (int i = lo; i < hi; i++)
                for (int c = 0; c < classes; c++)
                {
                    double p = probs[i * classes + c];
                    if (p > 0) kl += p * (Math.Log(p) - Math.Log(py[c]));
                }
            scores[s] = Math.Exp(kl / (hi - lo));
        }
        double mean = scores.Average();
        return (mean, Math.Sqrt(scores.Average(x => (x - mean) * (x - mean))));
    }
}
