using System.Diagnostics;

namespace QGenEngine.Models;

/// <summary>Rank statistics.</summary>
public static class Ranking
{
    /// <summary>1-based ranks, ties given the mean of the ranks they span (SciPy's rankdata, method "average").</summary>
    public static double[] Ranks(IReadOnlyList<double> v)
    {
        var order = Enumerable.Range(0, v.Count).OrderBy(i => v[i]).ThenBy(i => i).ToArray();
        var r = new double[v.Count];
        for (int s = 0; s < order.Length;)
        {
            int e = s;
            while (e + 1 < order.Length && v[order[e + 1]] == v[order[s]]) e++;
            double rank = (s + e) / 2.0 + 1;
            for (int k = s; k <= e; k++) r[order[k]] = rank;
            s = e + 1;
        }
        return r;
    }

    /// <summary>Spearman's rank correlation: Pearson's correlation of the ranks (NaN when either side is constant).</summary>
    public static double Spearman(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count != b.Count) throw new ArgumentException($"Spearman needs paired values; got {a.Count} and {b.Count}");
        if (a.Count < 2) return double.NaN;
        var ra = Ranks(a); var rb = Ranks(b);
        double ma = ra.Average(), mb = rb.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < ra.Length; i++) { sab += (ra[i] - ma) * (rb[i] - mb); saa += (ra[i] - ma) * (ra[i] - ma); sbb += (rb[i] - mb) * (rb[i] - mb); }
        return saa == 0 || sbb == 0 ? double.NaN : sab / Math.Sqrt(saa * sbb);
    }
}

/// <summary>
/// Exact quantiles of a stream: every value seen, kept sorted (binary search and insertion; 8 bytes per input, and
/// insertion moves at most the values seen - about 0.1 ms at 100,000 inputs, nothing beside a model's forward pass).
/// Exact, so it holds any quantile a changing target asks for, which a fixed-quantile sketch (P²) cannot.
/// </summary>
public sealed class StreamingQuantile
{
    private readonly List<double> _sorted = [];
    public int Count => _sorted.Count;

    public void Add(double v)
    {
        if (double.IsNaN(v)) throw new ArgumentException("a NaN cannot be ranked");
        int i = _sorted.BinarySearch(v);
        _sorted.Insert(i < 0 ? ~i : i, v);
    }

    /// <summary>The smallest value with at least a share p of the values at or below it (p in [0, 1]).</summary>
    public double Quantile(double p)
    {
        if (Count == 0) throw new InvalidOperationException("no values yet");
        return _sorted[Math.Clamp((int)Math.Ceiling(p * Count) - 1, 0, Count - 1)];
    }
}

/// <summary>
/// The online routing rule: an input goes to the quantum model when its estimated difficulty is above the (1 − s)
/// quantile of the estimates seen so far (itself included), s the target quantum share. Two feedbacks:
/// <list type="bullet">
/// <item>share: s is corrected by the running deficit, (s·n − quantum so far) / <see cref="Window"/> - a stream whose
/// difficulty drifts (sorted, or a burst of hard digits) still gets its share, where the quantile alone would send a
/// rising stream all to one side;</item>
/// <item>quality (<see cref="ForQuality"/>): after each output, s moves by <c>step · (target − its SSIM)</c> - integral
/// control, so the running mean quality settles on the target when a share in [0, 1] reaches it. The quality of a
/// reconstruction is observable when it is served (the input is its target).</item>
/// </list>
/// </summary>
public sealed class OnlineRouter
{
    public const double Window = 25;
    private readonly StreamingQuantile _seen = new();
    private readonly double _step;

    /// <summary>The quantum share the rule aims for now (fixed, or adapted to <see cref="QualityTarget"/>).</summary>
    public double TargetShare { get; private set; }
    public double? QualityTarget { get; }
    public int Seen { get; private set; }
    public int Quantum { get; private set; }
    public double Share => Seen == 0 ? 0 : Quantum / (double)Seen;
    private double _qualitySum;
    private int _observed;
    public double MeanQuality => _observed == 0 ? double.NaN : _qualitySum / _observed;

    private OnlineRouter(double share, double? quality, double step) { TargetShare = share; QualityTarget = quality; _step = step; }

    public static OnlineRouter ForShare(double share)
    {
        if (!(share >= 0 && share <= 1)) throw new ArgumentException($"⟨share⟩: {share} is outside [0, 1]");
        return new OnlineRouter(share, null, 0);
    }

    /// <summary>Aim for a mean reconstruction SSIM; the share starts at <paramref name="start"/> and follows the quality.</summary>
    public static OnlineRouter ForQuality(double target, double start = 0.3, double step = 0.02)
    {
        if (!(target > 0 && target <= 1)) throw new ArgumentException($"⟨quality⟩: {target} is outside (0, 1]; it is a mean reconstruction SSIM");
        return new OnlineRouter(start, target, step);
    }

    /// <summary>Whether the input with this estimate goes to the quantum model.</summary>
    public bool Route(double score)
    {
        _seen.Add(score);
        Seen++;
        double share = Math.Clamp(TargetShare + (TargetShare * Seen - Quantum) / Window, 0, 1);
        bool quantum = share >= 1 || (share > 0 && score > _seen.Quantile(1 - share));
        if (quantum) Quantum++;
        return quantum;
    }

    /// <summary>The quality of the output just served (its reconstruction SSIM); moves the share in quality mode.</summary>
    public void Observe(double quality)
    {
        _qualitySum += quality; _observed++;
        if (QualityTarget is { } q) TargetShare = Math.Clamp(TargetShare + _step * (q - quality), 0, 1);
    }
}

/// <summary>Each input's reconstruction quality under each model: what a routing policy chooses between.</summary>
public sealed record Outcomes(double[] ClassicalSsim, double[] ClassicalBce, double[] QuantumSsim, double[] QuantumBce)
{
    public int Count => ClassicalSsim.Length;

    /// <summary>The quantum model's SSIM gain on each input (what an oracle routes by).</summary>
    public double[] Gain => QuantumSsim.Zip(ClassicalSsim, (q, c) => q - c).ToArray();

    /// <summary>Mean SSIM and BCE of the mix that sends the inputs marked true to the quantum model.</summary>
    public (double Ssim, double Bce) Quality(bool[] toQuantum)
    {
        double s = 0, b = 0;
        for (int i = 0; i < Count; i++) { s += toQuantum[i] ? QuantumSsim[i] : ClassicalSsim[i]; b += toQuantum[i] ? QuantumBce[i] : ClassicalBce[i]; }
        return (s / Count, b / Count);
    }
}

/// <summary>A measured pass of a routing policy over a set: its choices, the served outputs' quality and the wall time of each part.</summary>
public sealed record RoutedPass(bool[] ToQuantum, double[] Ssim, double[] Bce, double EstimatorSeconds, double ClassicalSeconds, double QuantumSeconds)
{
    public int Count => ToQuantum.Length;
    public int QuantumCount => ToQuantum.Count(q => q);
    public double Share => QuantumCount / (double)Count;
    public double MeanSsim => Ssim.Average();
    public double MeanBce => Bce.Average();
    public double Seconds => EstimatorSeconds + ClassicalSeconds + QuantumSeconds;
}

/// <summary>Routing policies, the measured serving pass, and the quality-against-share curve.</summary>
public static class Routing
{
    /// <summary>The k inputs with the highest scores (ties by position) marked true.</summary>
    public static bool[] Top(IReadOnlyList<double> score, int k)
    {
        var pick = new bool[score.Count];
        foreach (int i in Enumerable.Range(0, score.Count).OrderByDescending(i => score[i]).ThenBy(i => i).Take(k)) pick[i] = true;
        return pick;
    }

    /// <summary>k inputs drawn uniformly without replacement, seeded.</summary>
    public static bool[] Random(int n, int k, ulong seed)
    {
        var rng = new System.Random((int)(seed % int.MaxValue));
        var idx = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(idx);
        var pick = new bool[n];
        foreach (int i in idx.Take(k)) pick[i] = true;
        return pick;
    }

    /// <summary>
    /// Serves n images in batches as a stream: each batch's estimates (if a router decides), the online rule's choices
    /// input by input, then the classical model on the batch's classical inputs and the quantum model on the rest;
    /// the outputs' SSIM feeds back into the rule. Wall time is measured per part (model forward passes only; SSIM,
    /// the evaluation's own cost, is not counted). Without a router, <paramref name="fixedChoice"/> says where each goes.
    /// </summary>
    public static RoutedPass Serve(IReconstructive classical, IReconstructive quantum, IDevice dev, ReadOnlySpan<float> pixels, int n,
                                   Router? router, OnlineRouter? rule, bool[]? fixedChoice, int batch = 100)
    {
        if ((router is null) != (rule is null) || (router is null) == (fixedChoice is null))
            throw new ArgumentException("serve with a router and its rule, or with fixed choices");
        const int px = 784;
        var toQ = new bool[n]; var ssim = new double[n]; var bce = new double[n];
        var sw = new Stopwatch();
        double est = 0, cls = 0, qua = 0;
        for (int s = 0; s < n; s += batch)
        {
            int m = Math.Min(batch, n - s);
            var chunk = pixels.Slice(s * px, m * px);
            if (router is not null)
            {
                sw.Restart();
                var scores = router.Scores(chunk, m);
                est += sw.Elapsed.TotalSeconds;
                for (int i = 0; i < m; i++) toQ[s + i] = rule!.Route(scores[i]);
            }
            else Array.Copy(fixedChoice!, s, toQ, s, m);
            foreach (bool q in (bool[])[false, true])
            {
                var members = Enumerable.Range(0, m).Where(i => toQ[s + i] == q).ToArray();
                if (members.Length == 0) continue;
                var sub = new float[members.Length * px];
                for (int j = 0; j < members.Length; j++) chunk.Slice(members[j] * px, px).CopyTo(sub.AsSpan(j * px));
                sw.Restart();
                var (recon, b) = Evaluation.Reconstruct(q ? quantum : classical, dev, sub, members.Length);
                if (q) qua += sw.Elapsed.TotalSeconds; else cls += sw.Elapsed.TotalSeconds;
                for (int j = 0; j < members.Length; j++)
                {
                    int i = s + members[j];
                    bce[i] = b[j];
                    ssim[i] = Ssim.Compute(sub.AsSpan(j * px, px), recon.AsSpan(j * px, px), 28, 28);
                }
            }
            if (rule is not null) for (int i = 0; i < m; i++) rule.Observe(ssim[s + i]);
        }
        return new RoutedPass(toQ, ssim, bce, est, cls, qua);
    }

    /// <summary>One point of the quality-against-share curve (mean SSIM of the mix).</summary>
    public sealed record CurvePoint(double Share, double Router, double Random, double Oracle);

    /// <summary>
    /// Mean SSIM against the quantum share (0, 1/steps, ..., 1): the router sending its highest estimates, random routing
    /// (its expectation, exactly the straight line between the endpoints) and the oracle sending the largest true gains.
    /// </summary>
    public static IReadOnlyList<CurvePoint> Curve(Outcomes o, IReadOnlyList<double> scores, int steps = 20)
    {
        var gain = o.Gain;
        var (c, _) = o.Quality(new bool[o.Count]);
        var (q, _) = o.Quality(Enumerable.Repeat(true, o.Count).ToArray());
        var pts = new List<CurvePoint>();
        for (int k = 0; k <= steps; k++)
        {
            double share = k / (double)steps;
            int count = (int)Math.Round(share * o.Count);
            pts.Add(new CurvePoint(share, o.Quality(Top(scores, count)).Ssim, c + share * (q - c), o.Quality(Top(gain, count)).Ssim));
        }
        return pts;
    }

    /// <summary>
    /// The share of the gap between all-classical and all-quantum quality a policy recovers, averaged over the curve's
    /// shares (model-routing papers' "average performance gap recovered"): 0.5 for random routing, 1 for a policy that
    /// gets all-quantum quality at every share. NaN when the quantum model is not better on average (no gap to recover).
    /// </summary>
    public static double GapRecovered(IReadOnlyList<CurvePoint> curve, Func<CurvePoint, double> policy)
    {
        double c = curve[0].Random, q = curve[^1].Random;
        if (!(q - c > 1e-12)) return double.NaN;
        return curve.Average(p => (policy(p) - c) / (q - c));
    }
}
