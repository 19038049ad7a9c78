using System.Text.Json.Nodes;
using QGenEngine.Quantum;

namespace QGenEngine.Models;

/// <summary>A policy's result on a set: the quantum share, the served mix's mean SSIM and BCE, and its measured wall time.</summary>
public sealed record PolicyResult(string Name, double Share, int QuantumCount, double Ssim, double Bce, double Seconds, double EstimatorSeconds, double? HardwareSeconds)
{
    public JsonObject ToJson(int n, double quantumSeconds, double? quantumHardware) => new()
    {
        ["share"] = Share, ["quantum_inputs"] = QuantumCount,
        ["quality"] = new JsonObject { ["ssim"] = Ssim, ["bce"] = Bce },
        ["cost"] = new JsonObject
        {
            ["seconds"] = Seconds, ["ms_per_image"] = 1000 * Seconds / n, ["estimator_seconds"] = EstimatorSeconds,
            ["relative_to_quantum"] = Seconds / quantumSeconds,
            ["hardware_seconds"] = HardwareSeconds, ["hardware_relative_to_quantum"] = HardwareSeconds / quantumHardware,
        },
    };
}

/// <summary>
/// `route`'s measurement (MODELS.md, issue "the adaptive router"): five policies served over one image set, each as a
/// measured pass (<see cref="Routing.Serve"/>) - all-classical, all-quantum, the router (online threshold), random routing
/// at the router's achieved share (the floor) and an oracle that knows each input's true SSIM gain at that share (the
/// ceiling; it cannot exist, since knowing the gain means running both models) - plus the estimator's rank correlation
/// with the true classical loss, the quality-against-share curve, the gap each policy recovers, and per-class shares.
/// </summary>
public sealed record RouteEvaluation(int Count, PolicyResult Router, PolicyResult Classical, PolicyResult Quantum, PolicyResult Random, PolicyResult Oracle,
                                     double Spearman, IReadOnlyList<Routing.CurvePoint> Curve, double RouterGapRecovered, double OracleGapRecovered,
                                     double[]? ClassShare, double[]? ClassGain, double[]? OracleClassShare, long EstimatorFlops, double? QuantumCostMs,
                                     int CircuitsPerImage, double? QualityTarget)
{
    public IEnumerable<PolicyResult> Policies => [Router, Classical, Quantum, Random, Oracle];

    /// <param name="rule">a fresh online rule per round (it is stateful)</param>
    /// <param name="quantumCostMs">hardware cost model: milliseconds per circuit run (all shots), added per circuit of each quantum-routed input</param>
    /// <param name="rounds">each policy is served this many times, interleaved, and its least wall time kept (a shared machine's noise only ever adds time)</param>
    public static RouteEvaluation Run(Router router, IReconstructive classical, IReconstructive quantum, IDevice dev, float[] pixels, int n, byte[]? labels,
                                      Func<OnlineRouter> rule, double? quantumCostMs, ulong seed, int batch = 100, int rounds = 1, Action<string>? progress = null)
    {
        if (rounds < 1) throw new ArgumentException($"⟨rounds⟩: {rounds} must be ≥ 1");
        int circuits = quantum is Module qm ? qm.NamedModules().Count(m => m.Module is QuantumLayer) : 0;
        double? Hw(RoutedPass p) => quantumCostMs is { } ms ? p.Seconds + p.QuantumCount * circuits * ms / 1000 : null;
        PolicyResult Result(string name, RoutedPass p) => new(name, p.Share, p.QuantumCount, p.MeanSsim, p.MeanBce, p.Seconds, p.EstimatorSeconds, Hw(p));

        // Warm both models (and the estimator) up before anything is timed.
        int warm = Math.Min(n, batch);
        Routing.Serve(classical, quantum, dev, pixels, warm, null, null, new bool[warm], batch);
        Routing.Serve(classical, quantum, dev, pixels, warm, null, null, Enumerable.Repeat(true, warm).ToArray(), batch);
        router.Scores(pixels, warm);

        RoutedPass? c = null, q = null, r = null, rnd = null, o = null;
        OnlineRouter? served = null;
        static RoutedPass Faster(RoutedPass? best, RoutedPass p) => best is null || p.Seconds < best.Seconds ? p : best;
        for (int round = 0; round < rounds; round++)
        {
            string of = rounds > 1 ? $" (round {round + 1} of {rounds})" : "";
            progress?.Invoke("all-classical" + of);
            c = Faster(c, Routing.Serve(classical, quantum, dev, pixels, n, null, null, new bool[n], batch));
            progress?.Invoke("all-quantum" + of);
            q = Faster(q, Routing.Serve(classical, quantum, dev, pixels, n, null, null, Enumerable.Repeat(true, n).ToArray(), batch));
            progress?.Invoke("router" + of);
            var online = rule();
            r = Faster(r, Routing.Serve(classical, quantum, dev, pixels, n, router, online, null, batch));
            served ??= online;
            int k = r.QuantumCount;
            progress?.Invoke("random" + of);
            rnd = Faster(rnd, Routing.Serve(classical, quantum, dev, pixels, n, null, null, Routing.Random(n, k, seed), batch));
            progress?.Invoke("oracle" + of);
            o = Faster(o, Routing.Serve(classical, quantum, dev, pixels, n, null, null, Routing.Top(new Outcomes(c.Ssim, c.Bce, q.Ssim, q.Bce).Gain, k), batch));
        }
        var outcomes = new Outcomes(c!.Ssim, c.Bce, q!.Ssim, q.Bce);
        var gain = outcomes.Gain;

        var scores = router.Scores(pixels, n).Select(v => (double)v).ToArray();
        double rho = Ranking.Spearman(scores, c.Bce);
        var curve = Routing.Curve(outcomes, scores);

        double[]? share = null, classGain = null, oracleShare = null;
        if (labels is not null)
        {
            int classes = labels.Take(n).Max() + 1;
            double[] PerClass(Func<int, double> v) => Enumerable.Range(0, classes).Select(cl =>
            {
                var idx = Enumerable.Range(0, n).Where(i => labels[i] == cl).ToArray();
                return idx.Length == 0 ? double.NaN : idx.Average(v);
            }).ToArray();
            share = PerClass(i => r!.ToQuantum[i] ? 1 : 0);
            classGain = PerClass(i => gain[i]);
            oracleShare = PerClass(i => o!.ToQuantum[i] ? 1 : 0);
        }
        return new RouteEvaluation(n, Result("router", r!), Result("classical", c), Result("quantum", q), Result("random", rnd!), Result("oracle", o!), rho, curve,
                                   Routing.GapRecovered(curve, p => p.Router), Routing.GapRecovered(curve, p => p.Oracle),
                                   share, classGain, oracleShare, router.FlopsPerImage, quantumCostMs, circuits, served!.QualityTarget);
    }

    /// <summary>Plain-language findings: where routing buys quality, where it costs, and how the report's 85 %/40 % claim reads here.</summary>
    public IReadOnlyList<string> Findings()
    {
        var f = new List<string>();
        double gap = Quantum.Ssim - Classical.Ssim;
        if (!(gap > 0))
            f.Add($"routing buys no quality here: all-quantum SSIM {Quantum.Ssim:F4} is not above all-classical {Classical.Ssim:F4}; " +
                  $"the oracle (knowing each input's gain, which no router can) reaches {Oracle.Ssim:F4} at share {Oracle.Share:P0}");
        else
            f.Add($"the router recovers {RouterGapRecovered:P0} of the classical-to-quantum SSIM gap averaged over shares (random 50 %, oracle {OracleGapRecovered:P0}); " +
                  $"at share {Router.Share:P1} it serves SSIM {Router.Ssim:F4} vs random {Random.Ssim:F4}");
        if (Quantum.Seconds <= Classical.Seconds * 1.05)
            f.Add($"routing saves no time on this machine: the quantum model costs {Quantum.Seconds / Classical.Seconds:F2}x the classical one (its circuit is simulated in microseconds)");
        f.Add($"the report's claim \"85 % of quantum quality at 40 % of its cost\" reads here as {Router.Ssim / Quantum.Ssim:P1} of all-quantum SSIM at " +
              $"{Router.Seconds / Quantum.Seconds:P0} of its measured time" +
              (Router.HardwareSeconds is { } h && Quantum.HardwareSeconds is { } qh ? $" ({h / qh:P0} of its modelled hardware time)" : "") +
              $"; all-classical alone gives {Classical.Ssim / Quantum.Ssim:P1} at {Classical.Seconds / Quantum.Seconds:P0}" +
              (Classical.HardwareSeconds is { } ch && Quantum.HardwareSeconds is { } qh2 ? $" ({ch / qh2:P0} hardware)" : ""));
        return f;
    }

    public JsonObject ToJson()
    {
        double qs = Quantum.Seconds; double? qh = Quantum.HardwareSeconds;
        var j = Router.ToJson(Count, qs, qh);
        j["images"] = Count;
        j["target"] = QualityTarget is { } t ? new JsonObject { ["quality"] = t } : new JsonObject { ["share"] = Router.Share };
        foreach (var p in new[] { Classical, Quantum, Random, Oracle }) j[p.Name] = p.ToJson(Count, qs, qh);
        j["spearman"] = Spearman;
        j["estimator"] = new JsonObject
        {
            ["flops_per_image"] = EstimatorFlops, ["ms_per_image"] = 1000 * Router.EstimatorSeconds / Count,
            ["share_of_classical_time"] = Router.EstimatorSeconds / Classical.Seconds,
        };
        j["gap_recovered"] = new JsonObject { ["router"] = Num(RouterGapRecovered), ["random"] = 0.5, ["oracle"] = Num(OracleGapRecovered) };
        j["curve"] = new JsonArray(Curve.Select(p => (JsonNode)new JsonObject { ["share"] = p.Share, ["router"] = p.Router, ["random"] = p.Random, ["oracle"] = p.Oracle }).ToArray());
        if (ClassShare is not null)
            j["per_class"] = new JsonArray(Enumerable.Range(0, ClassShare.Length).Select(c => (JsonNode)new JsonObject
            {
                ["class"] = c, ["share"] = Num(ClassShare[c]), ["oracle_share"] = Num(OracleClassShare![c]), ["mean_ssim_gain"] = Num(ClassGain![c]),
            }).ToArray());
        j["hardware_model"] = QuantumCostMs is { } ms ? new JsonObject { ["ms_per_circuit"] = ms, ["circuits_per_image"] = CircuitsPerImage } : null;
        j["findings"] = new JsonArray(Findings().Select(s => (JsonNode)s).ToArray());
        return j;
    }

    private static JsonNode? Num(double v) => double.IsFinite(v) ? v : null;
}
