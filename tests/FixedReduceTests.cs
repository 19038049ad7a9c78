using QGenEngine.Kernels.Cpu;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

/// <summary>
/// <see cref="FixedReduce"/>: its sums are those of the order it documents (32 running sums, combined in a fixed
/// order, then the tail), so no machine can round them differently; and they are sums (double-precision references).
/// </summary>
[TestFixture]
public class FixedReduceTests
{
    private static readonly int[] Lengths = [0, 1, 7, 31, 32, 33, 64, 100, 784, 1000, 6272];

    /// <summary>The documented order in scalar code: lane l adds elements l, l + 32, ...; lanes (l, l+8, l+16, l+24) then (l, l+4), then ((0+2)+(1+3)); the tail in order.</summary>
    private static float Model(float[] x, Func<int, float> term)
    {
        int n = x.Length, body = n / 32 * 32;
        float total = 0;
        if (n >= 32)
        {
            var lane = new float[32];
            for (int i = 0; i < body; i++) lane[i % 32] += term(i);
            var v = new float[8];
            for (int l = 0; l < 8; l++) v[l] = (lane[l] + lane[l + 8]) + (lane[l + 16] + lane[l + 24]);
            var h = new float[4];
            for (int l = 0; l < 4; l++) h[l] = v[l] + v[l + 4];
            total = (h[0] + h[2]) + (h[1] + h[3]);
        }
        for (int i = body; i < n; i++) total += term(i);
        return total;
    }

    [Test]
    public void Sums_round_exactly_as_the_documented_order([ValueSource(nameof(Lengths))] int n)
    {
        var x = Data.Make(n + 1, n); var y = Data.Make(n + 2, n);
        Assert.That(BitConverter.SingleToInt32Bits(FixedReduce.Sum(x)), Is.EqualTo(BitConverter.SingleToInt32Bits(Model(x, i => x[i]))), "Sum");
        Assert.That(BitConverter.SingleToInt32Bits(FixedReduce.SumOfSquares(x)), Is.EqualTo(BitConverter.SingleToInt32Bits(Model(x, i => x[i] * x[i]))), "SumOfSquares");
        Assert.That(BitConverter.SingleToInt32Bits(FixedReduce.Distance(x, y)),
                    Is.EqualTo(BitConverter.SingleToInt32Bits(MathF.Sqrt(Model(x, i => (x[i] - y[i]) * (x[i] - y[i]))))), "Distance");
    }

    [Test]
    public void Sums_agree_with_double_precision([ValueSource(nameof(Lengths))] int n)
    {
        var x = Data.Make(n + 3, n); var y = Data.Make(n + 4, n);
        double sum = x.Sum(v => (double)v), sq = x.Sum(v => (double)v * v), dist = Math.Sqrt(x.Zip(y, (a, b) => ((double)a - b) * ((double)a - b)).Sum());
        double scale = x.Sum(v => Math.Abs((double)v)) + 1e-30;   // the rounding bound of a sum grows with Σ|x|
        Assert.That(FixedReduce.Sum(x), Is.EqualTo(sum).Within(1e-6 * scale), "Sum");
        Assert.That(FixedReduce.SumOfSquares(x), Is.EqualTo(sq).Within(1e-6 * (sq + 1e-30)), "SumOfSquares");
        Assert.That(FixedReduce.Distance(x, y), Is.EqualTo(dist).Within(1e-6 * (dist + 1e-30)), "Distance");
    }

    [Test]
    public void Distance_refuses_spans_of_different_lengths() =>
        Assert.That(() => FixedReduce.Distance(new float[3], new float[4]), Throws.ArgumentException.With.Message.Contains("3 and 4"));
}
