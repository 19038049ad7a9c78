using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using QGenEngine.Autograd;
using QGenEngine.Quantum;
using QGenEngine.Studies;

namespace QGenEngine.Cli.Commands;

/// <summary>
/// `qgen-engine landscape`: the circuit template's gradient variance at random angles over a grid of qubits and layers,
/// for a local and a global cost (<see cref="GradientLandscape"/>) - the barren-plateau measurement of McClean et al.
/// (2018), independent of any training. Prints the grid and the exponential fits; --out writes landscape.json,
/// landscape.csv and two plots (against layers, against qubits), which `study report` reads when they lie beside its
/// REPORT.md.
/// </summary>
public static class LandscapeCommand
{
    public const string JsonFile = StudyReport.LandscapeFile;   // what `study report` looks for beside REPORT.md

    public static Command Build(TextWriter stdout)
    {
        var qubits = new Option<string>("--qubits") { Description = "qubit counts: a list (4,6,8) or a range (4..12)", DefaultValueFactory = _ => "4..12" };
        var layers = new Option<string>("--layers") { Description = "layer counts: a list or a range", DefaultValueFactory = _ => "1..8" };
        var entangler = new Option<string>("--entangler") { Description = "linear | circular | all", DefaultValueFactory = _ => "linear" };
        var cost = new Option<string>("--cost") { Description = "local (<Z> of qubit 0), global (P(|0...0>)) or both, comma-separated", DefaultValueFactory = _ => "local,global" };
        var draws = new Option<int>("--draws") { Description = "random circuits per shape (angles uniform in [0, 2pi), inputs in [0, pi))", DefaultValueFactory = _ => 200 };
        var seed = new Option<ulong>("--seed") { Description = "seed of the draws", DefaultValueFactory = _ => 1UL };
        var outDir = new Option<string?>("--out") { Description = $"write {JsonFile}, landscape.csv, landscape-layers.png and landscape-qubits.png into this folder" };
        var cmd = new Command("landscape", "Barren plateaus: the circuit's gradient variance at random angles against qubits and layers (local and global cost)")
        {
            qubits, layers, entangler, cost, draws, seed, outDir,
        };
        cmd.SetAction(p =>
        {
            var ns = ParseCounts(p.GetValue(qubits)!, "--qubits", 1, 16);
            var ls = ParseCounts(p.GetValue(layers)!, "--layers", 1, 64);
            var ent = p.GetValue(entangler)!.ToLowerInvariant() switch
            {
                "linear" => Entangler.Linear, "circular" => Entangler.Circular, "all" => Entangler.All,
                var s => throw new CliException($"--entangler: unknown entangler '{s}'; expected linear, circular or all"),
            };
            var costs = p.GetValue(cost)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(c => c.ToLowerInvariant() switch
            {
                "local" => LandscapeCost.Local, "global" => LandscapeCost.Global,
                _ => throw new CliException($"--cost: unknown cost '{c}'; expected local, global or both (local,global)"),
            }).Distinct().ToList();
            if (costs.Count == 0) throw new CliException("--cost: no cost given; expected local, global or both (local,global)");
            int m = p.GetValue(draws);
            if (m < 2 || m > 1_000_000) throw new CliException($"--draws: {m} is outside [2, 1000000] (a variance needs two draws)");
            ulong sd = p.GetValue(seed);
            string? dir = p.GetValue(outDir);
            if (dir is not null) Directory.CreateDirectory(dir);

            var points = new List<LandscapePoint>();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            stdout.WriteLine($"landscape: the template circuit ({ent.ToString().ToLowerInvariant()} entangler), {m} random draws per shape, seed {sd}, exact adjoint gradients in double precision");
            foreach (var c in costs)
                foreach (int n in ns)
                {
                    foreach (int l in ls) points.Add(GradientLandscape.Measure(n, l, ent, c, m, sd));
                    stdout.WriteLine($"  {Name(c)} cost, {n,2} qubits: layers {ls[0]}..{ls[^1]} done ({clock.Elapsed.TotalSeconds:F0} s)");
                }
            var fits = Fits(points, costs, ns, ls);
            stdout.Write(Table(points, costs, ns, ls, fits));
            if (dir is not null)
            {
                var json = ToJson(points, fits, ent, m, sd);
                AtomicFile.Write(Path.Combine(dir, JsonFile), s => s.Write(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }))));
                var csv = new StringBuilder("cost,qubits,layers,draws,mean_variance,mean_variance_se,first_variance,first_variance_se,mean_cost\n");
                foreach (var q in points)
                    csv.AppendLine(string.Join(",", Name(q.Cost), q.Qubits, q.Layers, q.Draws, G(q.MeanVariance), G(q.MeanVarianceSe), G(q.FirstVariance), G(q.FirstVarianceSe), G(q.MeanCost)));
                AtomicFile.Write(Path.Combine(dir, "landscape.csv"), s => s.Write(System.Text.Encoding.UTF8.GetBytes(csv.ToString())));
                var written = new List<string> { JsonFile, "landscape.csv" };
                written.AddRange(Plots(dir, points, costs, ns, ls, ent, m));
                stdout.WriteLine($"wrote {string.Join(", ", written)} in {dir}");
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>A fit of log₂ Var[∂C/∂θ₁] (the first angle's variance) against one axis at a fixed value of the other (qubits at fixed layers, or the reverse).</summary>
    public sealed record Fit(LandscapeCost Cost, string Along, int FixedAt, double Slope);

    private static List<Fit> Fits(List<LandscapePoint> points, List<LandscapeCost> costs, IReadOnlyList<int> ns, IReadOnlyList<int> ls)
    {
        var fits = new List<Fit>();
        foreach (var c in costs)
        {
            if (ns.Count >= 2)
                foreach (int l in ls)
                    fits.Add(new Fit(c, "qubits", l, GradientLandscape.FitLog2(points.Where(q => q.Cost == c && q.Layers == l).Select(q => ((double)q.Qubits, q.FirstVariance)).ToList()).Slope));
            if (ls.Count >= 2)
                foreach (int n in ns)
                    fits.Add(new Fit(c, "layers", n, GradientLandscape.FitLog2(points.Where(q => q.Cost == c && q.Qubits == n).Select(q => ((double)q.Layers, q.FirstVariance)).ToList()).Slope));
        }
        return fits;
    }

    private static string Table(List<LandscapePoint> points, List<LandscapeCost> costs, IReadOnlyList<int> ns, IReadOnlyList<int> ls, List<Fit> fits)
    {
        var sb = new StringBuilder();
        foreach (var c in costs)
        {
            sb.AppendLine();
            sb.AppendLine($"{Name(c)} cost ({(c == LandscapeCost.Local ? "<Z> of qubit 0" : "P(|0...0>)")}): Var[dC/dtheta] of the first layer's RY on qubit 0; rows qubits, columns layers" +
                          (ls.Count >= 2 ? "; last column: log2 slope per layer added" : ""));
            sb.Append("qubits");
            foreach (int l in ls) sb.Append($" {"L=" + l,9}");
            if (ls.Count >= 2) sb.Append($" {"slope",7}");
            sb.AppendLine();
            foreach (int n in ns)
            {
                sb.Append($"{n,6}");
                foreach (int l in ls) sb.Append($" {points.Single(q => q.Cost == c && q.Qubits == n && q.Layers == l).FirstVariance,9:0.00E+0}");
                if (ls.Count >= 2) sb.Append($" {fits.Single(f => f.Cost == c && f.Along == "layers" && f.FixedAt == n).Slope,7:F2}");
                sb.AppendLine();
            }
            if (ns.Count >= 2)
            {
                sb.Append("slope ");
                foreach (int l in ls) sb.Append($" {fits.Single(f => f.Cost == c && f.Along == "qubits" && f.FixedAt == l).Slope,9:F2}");
                sb.AppendLine("   (log2 Var per qubit added)");
            }
        }
        return sb.ToString();
    }

    private static JsonObject ToJson(List<LandscapePoint> points, List<Fit> fits, Entangler ent, int draws, ulong seed) => new()
    {
        ["circuit"] = "template: H and RY(x) on every qubit, then per layer RY(theta), RZ(phi) on every qubit and the entangler (docs/QUANTUM.md)",
        ["entangler"] = ent.ToString().ToLowerInvariant(),
        ["draws"] = draws,
        ["seed"] = seed,
        ["gradients"] = "exact adjoint, double precision",
        ["points"] = new JsonArray(points.Select(q => (JsonNode)new JsonObject
        {
            ["cost"] = Name(q.Cost), ["qubits"] = q.Qubits, ["layers"] = q.Layers, ["draws"] = q.Draws,
            ["mean_variance"] = q.MeanVariance, ["mean_variance_se"] = q.MeanVarianceSe,
            ["first_variance"] = q.FirstVariance, ["first_variance_se"] = q.FirstVarianceSe, ["mean_cost"] = q.MeanCost,
        }).ToArray()),
        ["fits"] = new JsonArray(fits.Select(f => (JsonNode)new JsonObject
        {
            ["cost"] = Name(f.Cost), ["along"] = f.Along, [f.Along == "qubits" ? "layers" : "qubits"] = f.FixedAt, ["log2_slope"] = f.Slope,
        }).ToArray()),
    };

    private static IEnumerable<string> Plots(string dir, List<LandscapePoint> points, List<LandscapeCost> costs, IReadOnlyList<int> ns, IReadOnlyList<int> ls, Entangler ent, int draws)
    {
        string title = $"gradient variance at random angles ({ent.ToString().ToLowerInvariant()} entangler, {draws} draws per point)";
        var byLayers = costs.SelectMany(c => Few(ns).Select(n => ($"{Name(c)}, {n} qubits",
            (IReadOnlyList<(double, double, double)>)points.Where(q => q.Cost == c && q.Qubits == n).Select(q => ((double)q.Layers, q.FirstVariance, q.FirstVarianceSe)).ToList()))).ToList();
        if (ls.Count >= 2 && Imaging.SaveLandscapePlot(Path.Combine(dir, "landscape-layers.png"), "layers", byLayers, title)) yield return "landscape-layers.png";
        var byQubits = costs.SelectMany(c => Few(ls).Select(l => ($"{Name(c)}, {l} layer{(l == 1 ? "" : "s")}",
            (IReadOnlyList<(double, double, double)>)points.Where(q => q.Cost == c && q.Layers == l).Select(q => ((double)q.Qubits, q.FirstVariance, q.FirstVarianceSe)).ToList()))).ToList();
        if (ns.Count >= 2 && Imaging.SaveLandscapePlot(Path.Combine(dir, "landscape-qubits.png"), "qubits", byQubits, title)) yield return "landscape-qubits.png";
    }

    /// <summary>At most four values of an axis for a plot's lines: the ends and two between.</summary>
    private static IEnumerable<int> Few(IReadOnlyList<int> v) =>
        v.Count <= 4 ? v : new[] { 0, (v.Count - 1) / 3, 2 * (v.Count - 1) / 3, v.Count - 1 }.Distinct().Select(i => v[i]);

    private static string Name(LandscapeCost c) => c == LandscapeCost.Local ? "local" : "global";
    private static string G(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>"4..12" or "4,6,8": distinct counts in [min, max], ascending.</summary>
    internal static IReadOnlyList<int> ParseCounts(string s, string option, int min, int max)
    {
        List<int> v;
        int dots = s.IndexOf("..", StringComparison.Ordinal);
        if (dots >= 0)
        {
            if (!int.TryParse(s[..dots].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int a) ||
                !int.TryParse(s[(dots + 2)..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int b) || b < a)
                throw new CliException($"{option}: '{s}' is not a range like 4..12 (two whole numbers, the first not above the second)");
            v = Enumerable.Range(a, b - a + 1).ToList();
        }
        else
            v = s.Split(',', StringSplitOptions.TrimEntries).Select(t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int x) ? x
                    : throw new CliException($"{option}: '{t}' is not a whole number; expected a list like 4,6,8 or a range like 4..12")).Distinct().Order().ToList();
        foreach (int x in v)
            if (x < min || x > max) throw new CliException($"{option}: {x} is outside [{min}, {max}]");
        return v;
    }
}
