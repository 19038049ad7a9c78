using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using QGenEngine.Models.Metrics;
using QGenEngine.Models.Training;

namespace QGenEngine.Studies;

// The original report's claims, each beside what the study measured and a verdict.
public static partial class StudyReport
{
    /// <summary>
    /// The original report's claims, each beside what this study measured and a verdict (issue #23). A claim whose runs
    /// the study does not hold says which study measures it. Verdicts are worded by the numbers alone: "reproduced",
    /// "not reproduced", or "not established" where seeds are too few or the difference is within their spread.
    /// </summary>
    private static void WriteClaims(StringBuilder md, List<RunSummary> results, List<PrimaryTest> tests, JsonObject? landscape, IReadOnlyList<SpeedRow>? speed)
    {
        var claims = new ClaimSet(results);
        var rows = claims.Speed(speed).Concat(claims.Convergence()).Concat(claims.Quality(tests)).Concat(claims.Digits()).Concat(claims.GanLosses()).Concat(claims.Router()).ToList();
        // A study that measures none of the claims (a study of one question, like discriminator.yaml) gets no claims table:
        // rows saying only where else a claim is measured would be all it held.
        if (rows.Count == 0 && landscape is null && !claims.VariesLayers && !claims.VariesQubits) return;
        rows.AddRange(claims.Depth());
        rows.AddRange(claims.Width());
        if (landscape is not null) rows.AddRange(LandscapeClaims(landscape));
        rows.Add(("the report's FID ranges", "FID here uses the metric classifier's features", "not comparable in value with Inception-FID estimates; the comparisons here are like for like"));

        md.AppendLine("## The report's claims");
        md.AppendLine();
        md.AppendLine("Each claim of the original report beside what this study measured (base configurations, mean over seeds) and a verdict from the numbers alone.");
        md.AppendLine();
        md.AppendLine("| claim | measured | verdict |");
        md.AppendLine("|---|---|---|");
        foreach (var (claim, measured, verdict) in rows) md.AppendLine($"| {claim} | {measured} | {verdict} |");
        md.AppendLine();
    }

    /// <summary>The claims measured on a study's runs (base configurations, mean over seeds): one method a claim, each giving its rows.</summary>
    private sealed class ClaimSet
    {
        private readonly List<RunSummary> results;
        /// <summary>Each quantum model beside each of its classical counterparts, where the study holds base runs of both.</summary>
        private readonly List<(string, string)> pairs;

        public ClaimSet(List<RunSummary> results)
        {
            this.results = results;
            pairs = new[] { ("qvae", "vae-attn"), ("qvae", "vae"), ("qgan", "gan"), ("qgan", "qgan-control") }
                    .Where(p => Base(p.Item1).Count > 0 && Base(p.Item2).Count > 0).ToList();
        }

        private List<RunSummary> Base(string model) => results.Where(r => Comparison.Selects(model, r.Run)).ToList();
        private static double? Mean(IEnumerable<double?> v) { var x = v.OfType<double>().ToList(); return x.Count == 0 ? null : x.Average(); }
        private static string F(double? v, string f) => Fmt(v, f);
        private string Few(string q, string c) => Base(q).Count < 2 || Base(c).Count < 2 ? " (one seed a side: indicative only)" : "";

        /// <summary>A run's value of an integer option in its variation (layers=4, qubits=10), or null.</summary>
        private static int? Value(RunSummary r, string opt) => r.Run.Aliases.Prepend(r.Run.Variation).Where(v => v.StartsWith(opt + "=", StringComparison.Ordinal))
                                                                 .Select(v => int.TryParse(v[(opt.Length + 1)..], out int n) ? n : (int?)null).FirstOrDefault(n => n is not null);
        public bool VariesLayers => results.Any(r => r.Run.Model == "qvae" && Value(r, "layers") is not null);
        public bool VariesQubits => results.Any(r => r.Run.Model == "qvae" && Value(r, "qubits") is not null);

        /// <summary>Quantum training 3-5x slower: from speed.json where the folder holds one, else (less fairly) from the runs' s/epoch.</summary>
        public List<(string Claim, string Measured, string Verdict)> Speed(IReadOnlyList<SpeedRow>? speed)
        {
            var rows = new List<(string Claim, string Measured, string Verdict)>();
            // Measured in one process on one machine where speed.json is here; else (less fairly) from the runs.
            var speedRatios = speed is null ? [] : SpeedRatios(speed);
            if (speedRatios.Count > 0)
            {
                double max = speedRatios.Max(x => x.Ratio);
                string runs = pairs.Count == 0 ? "" : "; the runs' own s/epoch (trained in different sessions, on different VMs): " +
                    string.Join(", ", pairs.Where(p => p.Item2 != "qgan-control").Select(p => $"{p.Item1} / {p.Item2} {F(Mean(Base(p.Item1).Select(r => (double?)r.SecondsPerEpoch)) / Mean(Base(p.Item2).Select(r => (double?)r.SecondsPerEpoch)), "F2")}x"));
                rows.Add(("quantum training is 3-5x slower",
                          $"training time per image, one process, interleaved ({SpeedFile}): " + string.Join(", ", speedRatios.Select(x => $"{x.Pair} {x.Ratio:F2}x")) + runs,
                          max >= 3 ? "reproduced" : $"not reproduced: at most {max:F2}x (batched adjoint simulation; the report ran circuits one at a time with parameter-shift)"));
            }
            else if (pairs.Count > 0)
            {
                var ratios = pairs.Where(p => p.Item2 != "qgan-control").Select(p => (p, Ratio: Mean(Base(p.Item1).Select(r => (double?)r.SecondsPerEpoch)) / Mean(Base(p.Item2).Select(r => (double?)r.SecondsPerEpoch)))).ToList();
                if (ratios.Count > 0)
                {
                    double max = ratios.Max(x => x.Ratio ?? 0);
                    rows.Add(("quantum training is 3-5x slower", string.Join("; ", ratios.Select(x => $"{x.p.Item1} / {x.p.Item2}: {F(x.Ratio, "F2")}x s/epoch")),
                              max >= 3 ? "reproduced" : $"not reproduced: at most {max:F2}x (batched adjoint simulation; the report ran circuits one at a time with parameter-shift)"));
                }
            }
            return rows;
        }

        /// <summary>1.5-2x more epochs to converge.</summary>
        public List<(string Claim, string Measured, string Verdict)> Convergence()
        {
            var rows = new List<(string Claim, string Measured, string Verdict)>();
            foreach (var (q, c) in pairs.Where(p => p.Item2 != "qgan-control" && p.Item2 != "vae"))
            {
                string key = q == "qgan" ? "fid" : "test_ssim";
                double? eq = Mean(Base(q).Select(r => EpochsTo(r, key, lower: key == "fid"))), ec = Mean(Base(c).Select(r => EpochsTo(r, key, lower: key == "fid")));
                if (eq is null || ec is null || ec == 0) continue;
                double ratio = eq.Value / ec.Value;
                rows.Add(($"quantum models need 1.5-2x more epochs ({q} vs {c})", $"epochs to within 10 % of the final {(key == "fid" ? "FID" : "test SSIM")}: {eq:F1} vs {ec:F1} ({ratio:F2}x)",
                          (ratio is >= 1.5 and <= 2 ? "reproduced" : ratio > 2 ? "more than claimed" : "not reproduced") + Few(q, c)));
            }
            return rows;
        }

        /// <summary>The quantum model better than each counterpart, on its main score.</summary>
        public List<(string Claim, string Measured, string Verdict)> Quality(List<PrimaryTest> tests)
        {
            var rows = new List<(string Claim, string Measured, string Verdict)>();
            // Each pair's main score, with the verdict of the conclusions' test of that pair where the spec compares
            // it (p adjusted by Holm over the conclusions' family: one verdict for one difference), else Welch's p alone.
            foreach (var (q, c) in pairs)
            {
                bool gan = q == "qgan";
                string key = gan ? "fid" : "test_ssim", format = gan ? "F1" : "F4";
                var a = Values(results, q, key);
                var b = Values(results, c, key);
                if (a.Count == 0 || b.Count == 0) continue;
                string measured = $"{(gan ? "FID" : "test SSIM")} {a.Average().ToString(format, CultureInfo.InvariantCulture)} vs {b.Average().ToString(format, CultureInfo.InvariantCulture)} (n = {a.Count}, {b.Count})";
                string verdict;
                var test = tests.FirstOrDefault(t => t.S.Key == key && ((t.C.A, t.C.B) == (q, c) || (t.C.A, t.C.B) == (c, q)));
                if (a.Count < 2 || b.Count < 2) verdict = "not established (one seed a side)";
                else if (test?.W is { } tw)
                {
                    measured += $", p = {tw.P.ToString("F3", CultureInfo.InvariantCulture)}, Holm {test.Holm.ToString("F3", CultureInfo.InvariantCulture)}";
                    verdict = Verdict(test);
                }
                else
                {
                    var w = Statistics.Welch(a, b);
                    bool better = gan ? w.Difference < 0 : w.Difference > 0;
                    measured += $", p = {w.P.ToString("F3", CultureInfo.InvariantCulture)} (not adjusted: the spec does not compare this pair)";
                    verdict = w.P < 0.05 ? (better ? $"{q} better" : $"{q} worse") : "not established (within the seeds' spread)";
                }
                rows.Add(($"the quantum model is better than {(c == "qgan-control" ? "its classical control (the same interface, no circuit)" : c)} ({q})", measured, verdict));
            }
            return rows;
        }

        /// <summary>Digits 3, 5 and 8 helped most.</summary>
        public List<(string Claim, string Measured, string Verdict)> Digits()
        {
            var rows = new List<(string Claim, string Measured, string Verdict)>();
            // The quantum model's per-class gain there against its gain on the other digits.
            foreach (var (q, c) in pairs.Where(p => p.Item2 is "gan" or "vae-attn"))
            {
                bool gan = q == "qgan";
                double? Gain(int d)
                {
                    double? Of(List<RunSummary> rs) => gan ? Mean(rs.Select(r => PerClass(r, d, "fid")))
                        : Mean(rs.Select(r => r.Eval["test_ssim_per_class"] is JsonArray arr && arr[d] is JsonValue v ? (double?)EpochMetrics.Number(v) : null));
                    var (x, y) = (Of(Base(q)), Of(Base(c)));
                    return x is null || y is null ? null : gan ? y - x : x - y;   // positive: the quantum model better
                }
                var g358 = Mean(new[] { 3, 5, 8 }.Select(Gain)); var gOther = Mean(new[] { 0, 1, 2, 4, 6, 7, 9 }.Select(Gain));
                if (g358 is null || gOther is null) continue;
                string unit = gan ? "per-class FID lower by" : "per-class SSIM higher by";
                rows.Add(($"the quantum models helped digits 3, 5 and 8 ({q} vs {c})", $"{unit} {g358.Value.ToString(gan ? "F1" : "F4", CultureInfo.InvariantCulture)} on 3/5/8, " +
                          $"{gOther.Value.ToString(gan ? "F1" : "F4", CultureInfo.InvariantCulture)} on the other digits",
                          (g358 > 0 && g358 > gOther ? "reproduced in direction (3/5/8 gain more than the rest)" : g358 > 0 ? "not reproduced: the gain is no larger on 3/5/8" : "not reproduced") + Few(q, c)));
            }
            return rows;
        }

        /// <summary>The quantum GAN's losses varied more.</summary>
        public List<(string Claim, string Measured, string Verdict)> GanLosses()
        {
            var rows = new List<(string Claim, string Measured, string Verdict)>();
            if (pairs.Any(p => p == ("qgan", "gan")))
            {
                double? Spread(string model, string k) => Mean(Base(model).Select(r => r.Eval["last_epoch_spread"] is JsonObject o && o[k] is JsonValue v ? (double?)EpochMetrics.Number(v) : null));
                double? qd = Spread("qgan", "d_loss"), gd = Spread("gan", "d_loss"), qg = Spread("qgan", "g_loss"), gg = Spread("gan", "g_loss");
                if (qd is not null && gd is not null && qg is not null && gg is not null)
                    rows.Add(("the quantum GAN's losses varied more", $"sd over the last epoch's steps: d_loss {qd:F3} vs {gd:F3}, g_loss {qg:F3} vs {gg:F3} (qgan vs gan)",
                              (qd > gd && qg > gg ? "reproduced" : qd < gd && qg < gg ? "not reproduced: they varied less" : "mixed") + Few("qgan", "gan")));
            }
            return rows;
        }

        /// <summary>The router: ~85 % of the quality at ~40 % of the cost.</summary>
        public List<(string Claim, string Measured, string Verdict)> Router()
        {
            var rows = new List<(string Claim, string Measured, string Verdict)>();
            var routes = results.Where(r => r.Route is not null).Select(r => r.Route!).ToList();
            if (routes.Count > 0)
            {
                double? quality = Mean(routes.Select(j => j["quality"]?["ssim"] is JsonValue a && j["quantum"]?["quality"]?["ssim"] is JsonValue b ? EpochMetrics.Number(a) / EpochMetrics.Number(b) : (double?)null));
                double? cost = Mean(routes.Select(j => j["cost"]?["relative_to_quantum"] is JsonValue v ? (double?)EpochMetrics.Number(v) : null));
                double? classical = Mean(routes.Select(j => j["classical"]?["quality"]?["ssim"] is JsonValue a && j["quantum"]?["quality"]?["ssim"] is JsonValue b ? EpochMetrics.Number(a) / EpochMetrics.Number(b) : (double?)null));
                if (quality is not null && cost is not null)
                    rows.Add(("the router keeps ~85 % of the quantum model's quality at ~40 % of its cost", $"router: {quality:P1} of all-quantum SSIM at {cost:P0} of its time; all-classical alone: {F(classical, "P1")}",
                              quality >= 0.85 && cost <= 0.45 ? (classical >= 0.85 ? "met, but all-classical meets it too" : "reproduced") : "not reproduced"));
            }
            return rows;
        }

        /// <summary>Gradients vanish beyond 4 layers, from the qvae runs that vary the layers (the ablations).</summary>
        public List<(string Claim, string Measured, string Verdict)> Depth()
        {
            var rows = new List<(string Claim, string Measured, string Verdict)>();
            var layers = results.Where(r => r.Run.Model == "qvae" && Value(r, "layers") is not null).ToList();
            if (layers.Count > 0)
            {
                // Per angle: the total norm grows with the number of angles (16 per layer at 8 qubits) even where each one's does not.
                var byDepth = layers.GroupBy(r => Value(r, "layers")).Where(g => g.Key is not null).OrderBy(g => g.Key)
                                    .Select(g => (L: g.Key!.Value, G: Mean(g.Select(PerAngleGradient)), Total: Mean(g.Select(r => r.Final("circuit_grad_norm"))))).Where(x => x.G is not null).ToList();
                var at4 = byDepth.FirstOrDefault(x => x.L == 4).G; var deepest = byDepth.LastOrDefault();
                rows.Add(("gradients vanish beyond 4 layers", string.Join(", ", byDepth.Select(x => $"{x.L} layer{(x.L == 1 ? "" : "s")} {x.G:G3}")) +
                          " (one angle's RMS gradient, last epoch: the norm over √angles; the norm itself " + string.Join(", ", byDepth.Select(x => $"{x.Total:G3}")) + ")",
                          at4 is null || deepest.L <= 4 ? "not established (no run beyond 4 layers)" : deepest.G < at4 / 10 ? "reproduced" : $"not reproduced: {deepest.L} layers {deepest.G / at4:F2}x the 4-layer gradient per angle, no fall by 10x"));
            }
            else rows.Add(("gradients vanish beyond 4 layers", "no finished run here varies the layers", "measured by studies/ablations.yaml (circuit gradient norm against layers)"));
            return rows;
        }

        /// <summary>10+ qubits prohibitive, from the qvae runs that vary the qubits (the ablations).</summary>
        public List<(string Claim, string Measured, string Verdict)> Width()
        {
            var rows = new List<(string Claim, string Measured, string Verdict)>();
            var widths = results.Where(r => r.Run.Model == "qvae" && Value(r, "qubits") is not null).ToList();
            if (widths.Count > 0)
            {
                var byWidth = widths.GroupBy(r => Value(r, "qubits")!.Value).OrderBy(g => g.Key).Select(g => (N: g.Key, S: Mean(g.Select(r => (double?)r.SecondsPerEpoch)))).ToList();
                var at8 = byWidth.FirstOrDefault(x => x.N == 8).S; var widest = byWidth.Last();
                rows.Add(("10+ qubits are prohibitive", string.Join(", ", byWidth.Select(x => $"{x.N} qubits {x.S:F0} s/epoch")),
                          at8 is null || widest.N < 10 ? "not established (no run at 10+ qubits)" : widest.S > 10 * at8 ? "reproduced" : $"not reproduced: {widest.S / at8:F1}x the 8-qubit time"));
            }
            else rows.Add(("10+ qubits are prohibitive", "no finished run here varies the qubits", "measured by studies/ablations.yaml (s/epoch against qubits)"));
            return rows;
        }
    }
}
