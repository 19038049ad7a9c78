using System.Globalization;
using System.Text;
using QGenEngine.Models.Metrics;

namespace QGenEngine.Studies;

// The statistics the conclusions rest on: the primary tests (Welch, Holm-adjusted together), the chain of comparisons that splits a difference, and the exploratory comparisons.
public static partial class StudyReport
{
    /// <summary>A score as the report prints it: its key in eval.json, its label, its number format, and whether lower is better.</summary>
    private sealed record Score(string Key, string Label, string Format, bool Lower);

    /// <summary>The scores the conclusions are drawn from: FID for samples, test SSIM for reconstructions.</summary>
    private static readonly Score[] PrimaryScores = [new("fid", "FID", "F1", true), new("test_ssim", "test SSIM", "F4", false)];

    /// <summary>One test of the family the conclusions rest on: a comparison on one primary score, the two sides' values
    /// over seeds, Welch's test (null while a side has fewer than 2) and its p adjusted by Holm over the whole family.</summary>
    private sealed record PrimaryTest(Comparison C, Score S, List<double> A, List<double> B, WelchTest? W, double Holm);

    /// <summary>One score of every run of the configuration a side names, finite values only.</summary>
    private static List<double> Values(List<RunSummary> results, string side, string key) =>
        results.Where(r => Comparison.Selects(side, r.Run)).Select(r => r.Evaluated(key)).OfType<double>().Where(double.IsFinite).ToList();

    /// <summary>Every comparison of the spec on every primary score both sides have, Holm-adjusted together: computed once,
    /// so that the conclusions and the claims table give one verdict for one difference.</summary>
    private static List<PrimaryTest> PrimaryTests(StudySpec spec, List<RunSummary> results)
    {
        var rows = new List<(Comparison C, Score S, List<double> A, List<double> B, WelchTest? W)>();
        foreach (var c in spec.Comparisons)
            foreach (var s in PrimaryScores)
            {
                var (a, b) = (Values(results, c.A, s.Key), Values(results, c.B, s.Key));
                if (a.Count > 0 && b.Count > 0) rows.Add((c, s, a, b, a.Count >= 2 && b.Count >= 2 ? Statistics.Welch(a, b) : null));
            }
        var holm = Statistics.Holm(rows.Select(r => r.W?.P ?? double.NaN).ToList());
        return rows.Select((r, i) => new PrimaryTest(r.C, r.S, r.A, r.B, r.W, holm[i])).ToList();
    }

    /// <summary>A test's verdict in words: established only under 0.05 after Holm.</summary>
    private static string Verdict(PrimaryTest t)
    {
        string better = (t.A.Average() - t.B.Average() < 0) == t.S.Lower ? t.C.A : t.C.B;
        return t.W is null ? "not tested yet (n < 2 on a side)"
            : t.Holm < 0.05 ? $"{better} better: established"
            : t.W.P < 0.05 ? $"{better} better at p < 0.05 alone, not after Holm: suggestive only"
            : "not established: the interval holds differences of either sign";
    }

    /// <summary>
    /// The answer in words (issue #23), first in the report: each comparison's primary scores (<see cref="PrimaryScores"/>)
    /// with Welch's interval and p, and p adjusted by Holm over all of them together - the family the conclusions come
    /// from, so that one of many tests falling under 0.05 by chance is not read as a finding (the other scores, under
    /// Comparisons, are exploratory); where one comparison is a chain of others (gan → gan-uniform → qgan-control → qgan),
    /// its difference split into theirs, which sum to it; the cost; and what the runs cannot say.
    /// </summary>
    private static void WriteConclusions(StringBuilder md, StudySpec spec, IReadOnlyList<PlannedRun> runs, List<RunSummary> results, List<PrimaryTest> rows,
                                         string dataset, string scoredBy, IReadOnlyList<SpeedRow>? speed)
    {
        List<double> Values(string side, string key) => StudyReport.Values(results, side, key);
        string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        if (rows.Count == 0) return;
        int tests = rows.Count(r => r.W is not null);

        md.AppendLine("## What can be concluded");
        md.AppendLine();
        md.AppendLine($"Each pair the study is about, on the scores the conclusions rest on - FID of the samples and SSIM of the test-set reconstructions, " +
                      $"where a model has them: the difference of the means over seeds (first − second), its 95 % interval and Welch's p, and p adjusted " +
                      $"(Holm) for the {tests} test{(tests == 1 ? "" : "s")} made here together. A difference is called established only where the adjusted p " +
                      $"is below 0.05. The other scores (precision, recall, IS, ...) are under Comparisons, as exploration.");
        md.AppendLine();
        md.AppendLine("| comparison | what differs | score | first | second | difference | 95 % CI | p | p (Holm) | conclusion |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var t in rows)
        {
            var (c, sc, a, b, w) = (t.C, t.S, t.A, t.B, t.W);
            string first = Stat(a.Select(x => (double?)x), sc.Format) + $" (n={a.Count})", second = Stat(b.Select(x => (double?)x), sc.Format) + $" (n={b.Count})";
            md.AppendLine($"| {c.A} − {c.B} | {c.Change ?? "-"} | {sc.Label} | {first} | {second} | {F(a.Average() - b.Average(), sc.Format)} | " +
                          (w is null ? "- | - | - |" : $"[{F(w.Low, sc.Format)}, {F(w.High, sc.Format)}] | {F(w.P, "F3")} | {F(t.Holm, "F3")} |") + $" {Verdict(t)} |");
        }
        md.AppendLine();

        // A comparison that is a chain of others: its difference is the sum of theirs (each model's mean counted once on
        // the way), which says which change carries it.
        foreach (var total in spec.Comparisons)
        {
            var chain = Chain(spec.Comparisons, total);
            if (chain is null) continue;
            foreach (var sc in PrimaryScores)
            {
                var models = chain.Select(c => c.B).Append(total.A).ToList();
                if (models.Any(m => Values(m, sc.Key).Count == 0)) continue;
                double Mean(string m) => Values(m, sc.Key).Average();
                md.AppendLine($"{total.A} − {total.B}, {sc.Label}: the difference split along the comparisons that lead from {total.B} to {total.A} (they sum to it):");
                md.AppendLine();
                md.AppendLine($"| step | what differs | {sc.Label} difference | 95 % CI | p |");
                md.AppendLine("|---|---|---|---|---|");
                foreach (var step in chain.Append(total))
                {
                    var (a, b) = (Values(step.A, sc.Key), Values(step.B, sc.Key));
                    var w = a.Count >= 2 && b.Count >= 2 ? Statistics.Welch(a, b) : null;
                    string name = step == total ? $"**{total.B} → {total.A} (all steps)**" : $"{step.B} → {step.A}";
                    md.AppendLine($"| {name} | {(step == total ? "all of the above" : step.Change ?? "-")} | {F(Mean(step.A) - Mean(step.B), sc.Format)} | " +
                                  (w is null ? "- | - |" : $"[{F(w.Low, sc.Format)}, {F(w.High, sc.Format)}] | {F(w.P, "F3")} |"));
                }
                md.AppendLine();
                double all = Mean(total.A) - Mean(total.B);
                var moved = chain.Select(c => (Step: c, D: Mean(c.A) - Mean(c.B))).ToList();
                string Name((Comparison Step, double D) x) => $"{x.Step.B} → {x.Step.A}";
                if (moved.All(x => x.D * all >= 0))
                {
                    var largest = moved.OrderByDescending(x => Math.Abs(x.D)).First();
                    md.Append($"Every step moves {sc.Label} the same way; the largest is {Name(largest)}: {F(largest.D, sc.Format)} of the {F(all, sc.Format)} in all.");
                }
                else
                    md.Append($"The steps pull {sc.Label} in opposite directions: " + string.Join(", ", moved.Select(x => $"{Name(x)} {F(x.D, sc.Format)}")) +
                                  $"; together {F(all, sc.Format)}.");
                md.AppendLine(" These are differences of means; a step whose interval holds 0 is not established on its own.");
                md.AppendLine();
            }
        }

        // What it costs.
        var ratios = speed is null ? [] : SpeedRatios(speed);
        if (ratios.Count > 0)
        {
            md.AppendLine("What the circuit costs: training time per image, quantum over classical, measured in one process (Speed on one machine): " +
                          string.Join(", ", ratios.Select(x => $"{x.Pair} {x.Ratio:F2}x")) + ".");
            md.AppendLine();
        }

        // What the runs cannot say.
        var ns = spec.Comparisons.SelectMany(c => new[] { c.A, c.B }).Distinct().Select(side => results.Count(r => Comparison.Selects(side, r.Run))).Where(n => n > 0).ToList();
        int missing = runs.Count - results.Count;
        md.AppendLine("What these runs cannot say:");
        md.AppendLine();
        if (ns.Count > 0)
            md.AppendLine($"- **Small differences.** {(ns.Min() == ns.Max() ? $"{ns.Min()}" : $"{ns.Min()}-{ns.Max()}")} seed(s) per configuration: a difference inside an interval " +
                          "above is not excluded, and one that is not established is not shown to be absent - only that these seeds cannot tell it from seed-to-seed spread.");
        md.AppendLine($"- **Other scores, other data.** FID, IS and precision/recall are computed in the features of {scoredBy} on {dataset}: like for like " +
                      "within this study, not comparable in value with Inception-FIDs published elsewhere, and one data set only.");
        bool varied = spec.Vary.Count > 0 || spec.Grid.Count > 0 || spec.Models.Any(m => m.Vary is { Count: > 0 });
        md.AppendLine(varied ? "- **Other settings.** Each configuration ran at the settings its name gives (the spec's options over the model's defaults), none " +
                               "tuned further; a comparison at other settings (learning rates, length) may come out otherwise."
                             : "- **Other settings.** Every model ran at one setting (the spec's options over its own defaults), none tuned for it; a comparison at " +
                               "other settings (learning rates, length) may come out otherwise.");
        if (results.Any(r => r.CircuitAngles > 0))
            md.AppendLine("- **Hardware.** The circuits were simulated exactly and without noise in training; a device's noise enters only the evaluation " +
                          "under a calibration (On a device, where the spec asks for it), not a run on a quantum computer.");
        if (missing > 0)
            md.AppendLine($"- **Unfinished runs.** {missing} of {runs.Count} runs have not finished (listed under Runs): every number here changes as they land.");
        md.AppendLine();
    }

    /// <summary>
    /// A path of two or more other comparisons that leads from <paramref name="total"/>'s second model to its first
    /// (each step first − second, the next step starting where the last ended), or null: the shortest, found breadth-first.
    /// </summary>
    public static IReadOnlyList<Comparison>? Chain(IReadOnlyList<Comparison> comparisons, Comparison total)
    {
        var steps = comparisons.Where(c => c != total && !(c.A == total.A && c.B == total.B)).ToList();
        var queue = new Queue<List<Comparison>>(steps.Where(c => c.B == total.B).Select(c => new List<Comparison> { c }));
        while (queue.Count > 0)
        {
            var path = queue.Dequeue();
            if (path[^1].A == total.A) { if (path.Count >= 2) return path; continue; }
            foreach (var next in steps.Where(c => c.B == path[^1].A && !path.Any(p => p.B == c.A) && c.A != total.B))
                queue.Enqueue([.. path, next]);
        }
        return null;
    }

    /// <summary>The spec's comparisons: for each pair and each score both sides have, the difference of means, its 95 % interval and Welch's p.</summary>
    private static void WriteComparisons(StringBuilder md, StudySpec spec, List<RunSummary> results)
    {
        md.AppendLine("## Comparisons");
        md.AppendLine();
        md.AppendLine("Each pair the study is about: the difference of the means (first − second) over seeds, its 95 % confidence interval and the two-sided " +
                      "p-value of Welch's t-test (unequal variances). With three seeds a side, only large differences reach p < 0.05, and an interval " +
                      "that spans 0 means the sign is not established; a p-value below 0.05 across the many rows here is also expected by chance once in twenty.");
        md.AppendLine();
        md.AppendLine("| comparison | score | first | second | difference | 95 % CI | p (Welch) | reading |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        Score[] scores =
        [
            new("fid", "FID", "F1", true), new("precision", "precision", "F3", false), new("recall", "recall", "F3", false), new("density", "density", "F3", false),
            new("coverage", "coverage", "F3", false), new("is", "IS", "F2", false), new("test_ssim", "test SSIM", "F4", false), new("test_bce", "test BCE", "F2", true),
        ];
        foreach (var (a, b, _) in spec.Comparisons)
        {
            foreach (var (key, label, format, lower) in scores)
            {
                var (xa, xb) = (Values(results, a, key), Values(results, b, key));
                if (xa.Count == 0 || xb.Count == 0) continue;
                string first = Stat(xa.Select(x => (double?)x), format), second = Stat(xb.Select(x => (double?)x), format);
                if (xa.Count < 2 || xb.Count < 2)
                {
                    md.AppendLine($"| {a} − {b} | {label} | {first} (n={xa.Count}) | {second} (n={xb.Count}) | {(xa.Average() - xb.Average()).ToString(format, CultureInfo.InvariantCulture)} | - | - | n < 2 on a side: no interval yet |");
                    continue;
                }
                var w = Statistics.Welch(xa, xb);
                string better = (w.Difference < 0) == lower ? a : b;
                string reading = w.P < 0.05 ? $"{better} better (p < 0.05)" : w.P < 0.1 ? $"{better} better at p < 0.1 only: not established" : "no difference established";
                md.AppendLine($"| {a} − {b} | {label} | {first} | {second} | {w.Difference.ToString(format, CultureInfo.InvariantCulture)} | " +
                              $"[{w.Low.ToString(format, CultureInfo.InvariantCulture)}, {w.High.ToString(format, CultureInfo.InvariantCulture)}] | {w.P:F3} | {reading} |");
            }
        }
        md.AppendLine();
    }
}
