using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using QGenEngine.Models.Training;
using QGenEngine.Quantum;

namespace QGenEngine.Studies;

// What a report folder may hold besides the runs: the gradient landscape at random angles (`landscape`) and every model's step timed in one process (`bench study-speed`).
public static partial class StudyReport
{
    /// <summary>The file `qgen-engine landscape --out` writes; a report folder that holds one reports it (gradients at random angles).</summary>
    public const string LandscapeFile = "landscape.json";

    private static JsonObject? ReadLandscape(string dir)
    {
        string path = Path.Combine(dir, LandscapeFile);
        if (!File.Exists(path)) return null;
        try { return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new StudyException($"{path}: not a JSON object; expected what `qgen-engine landscape --out` writes"); }
        catch (System.Text.Json.JsonException e) { throw new StudyException($"{path}: not valid JSON ({e.Message}); expected what `qgen-engine landscape --out` writes"); }
    }

    /// <summary>The JSON `bench study-speed --json` writes; a report folder that holds one reports it (every model's training step, timed in one process).</summary>
    public const string SpeedFile = "speed.json";

    /// <summary>One model's training step as `bench study-speed` timed it: its batch, median ms per step, the threads it ran on,
    /// and the epoch of the training set it works out to (bench's number: the report does not redo its arithmetic).</summary>
    public sealed record SpeedRow(string Model, int Batch, double Ms, int Threads, double? SecondsPerEpoch)
    {
        public double MsPerImage => Ms / Batch;
    }

    /// <summary>speed.json as read once: every model's step, and the machine it ran on in words (its "machine" record), or null.</summary>
    private sealed record SpeedTable(IReadOnlyList<SpeedRow> Rows, string? Machine);

    private static SpeedTable? ReadSpeed(string dir)
    {
        string path = Path.Combine(dir, SpeedFile);
        if (!File.Exists(path)) return null;
        const string expected = "expected what `bench study-speed --json` writes";
        try
        {
            var records = (JsonNode.Parse(File.ReadAllText(path)) as JsonArray ?? throw new StudyException($"{path}: not a JSON array; {expected}")).OfType<JsonObject>().ToList();
            var rows = records.Where(r => r["suite"]?.GetValue<string>() == "study-speed" && r["batch"] is JsonValue b && b.GetValue<int>() > 0)
                .Select(r => new SpeedRow(r["name"]!.GetValue<string>(), r["batch"]!.GetValue<int>(), EpochMetrics.Number(r["median_ms"]!), r["threads"]?.GetValue<int>() ?? 0,
                                     r["s_per_epoch"] is JsonValue se ? EpochMetrics.Number(se) : null))
                .ToList();
            if (rows.Count == 0 || rows.Any(r => !(r.Ms > 0))) throw new StudyException($"{path}: no study-speed step with a positive median_ms; {expected}");
            var m = records.FirstOrDefault(r => r["name"]?.GetValue<string>() == "machine");
            string? machine = m is null ? null : $"{m["cores"]} cores, {(m["avx512f"]?.GetValue<bool>() == true ? "AVX-512" : m["avx2"]?.GetValue<bool>() == true ? "AVX2" : "no AVX2")}, binary `{m["build"]}`";
            return new SpeedTable(rows, machine);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            throw new StudyException($"{path}: not readable ({e.Message}); {expected}");
        }
    }

    /// <summary>Each quantum model's training time per image over its classical counterpart's, where speed.json timed both.</summary>
    private static List<(string Pair, double Ratio)> SpeedRatios(IReadOnlyList<SpeedRow> speed)
    {
        var by = speed.ToDictionary(r => r.Model);
        return new[] { ("qvae", "vae-attn"), ("qvae", "vae"), ("qgan", "gan"), ("qgan", "qgan-control") }
            .Where(p => by.ContainsKey(p.Item1) && by.ContainsKey(p.Item2))
            .Select(p => ($"{p.Item1} / {p.Item2}", by[p.Item1].MsPerImage / by[p.Item2].MsPerImage)).ToList();
    }

    /// <summary>Every model's training step timed in one process on one machine, interleaved (`bench study-speed`).</summary>
    private static void WriteSpeed(StringBuilder md, IReadOnlyList<SpeedRow> speed, string? machine)
    {
        md.AppendLine("## Speed on one machine");
        md.AppendLine();
        md.AppendLine($"The runs above trained in different sessions, often on different VMs (AVX2 or AVX-512) and beside other work, so their s/epoch " +
                      $"compare models only roughly. Here every model's training step at its default batch was timed in one process, in interleaved rounds " +
                      $"(each round times every model in turn, so the machine's drift falls on all alike), on {speed[0].Threads} thread(s) as the study's runs" +
                      (machine is null ? "" : $" ({machine})") + ": " +
                      $"`bench study-speed --threads 1 --json {SpeedFile}` (the VAE family's augmentation and the per-epoch FID are left out of every model alike).");
        md.AppendLine();
        md.AppendLine("| model | batch | ms / step | images/s | s / epoch (60,000 images) |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var r in speed)
            md.AppendLine($"| {r.Model} | {r.Batch} | {r.Ms:F1} | {1e3 / r.MsPerImage:F0} | {Fmt(r.SecondsPerEpoch, "F0")} |");
        md.AppendLine();
        var ratios = SpeedRatios(speed);
        if (ratios.Count > 0)
        {
            md.AppendLine("Training time per image, quantum over classical: " + string.Join(", ", ratios.Select(x => $"{x.Pair} {x.Ratio:F2}x")) + ".");
            md.AppendLine();
        }
    }

    /// <summary>A landscape's points as (cost, qubits, layers) → (first angle's variance, its standard error).</summary>
    private static Dictionary<(string Cost, int Qubits, int Layers), (double Var, double Se)> LandscapePoints(JsonObject l) =>
        (l["points"] as JsonArray ?? []).OfType<JsonObject>().Where(p => p["first_variance"] is JsonValue)
            .ToDictionary(p => (p["cost"]!.GetValue<string>(), p["qubits"]!.GetValue<int>(), p["layers"]!.GetValue<int>()),
                          p => (EpochMetrics.Number(p["first_variance"]!), p["first_variance_se"] is JsonValue se ? EpochMetrics.Number(se) : double.NaN));

    /// <summary>
    /// The gradient landscape at random angles (`qgen-engine landscape`): the variance of the first angle's partial
    /// derivative against qubits and layers for a local and a global cost - the barren-plateau measurement, free of how
    /// far any training went.
    /// </summary>
    private static void WriteLandscape(StringBuilder md, JsonObject l)
    {
        var pts = LandscapePoints(l);
        md.AppendLine("## Gradients at random angles");
        md.AppendLine();
        md.AppendLine($"The circuit template ({l["entangler"]} entangler) at {l["draws"]} random draws per shape (every angle uniform in [0, 2π), every input in [0, π); " +
                      $"seed {l["seed"]}; exact adjoint gradients in double precision): the variance of ∂C/∂θ for the first layer's RY on qubit 0 (McClean et al. 2018), " +
                      "for a local cost C = ⟨Z₀⟩ (the expval readout's first output) and a global one C = P(|0…0⟩) (the probs readout's first output). " +
                      "A barren plateau is a variance that falls exponentially - a straight falling line on these log scales. Made by " +
                      $"`qgen-engine landscape --draws {l["draws"]} --seed {l["seed"]} --out <this folder>` ({LandscapeFile}, landscape.csv).");
        md.AppendLine();
        foreach (var cost in pts.Keys.Select(k => k.Cost).Distinct())
        {
            var ns = pts.Keys.Where(k => k.Cost == cost).Select(k => k.Qubits).Distinct().Order().ToList();
            var ls = pts.Keys.Where(k => k.Cost == cost).Select(k => k.Layers).Distinct().Order().ToList();
            md.AppendLine($"{cost} cost: Var[∂C/∂θ₁] (± standard error), rows qubits, columns layers; last column the fitted log₂ change per layer, last row per qubit.");
            md.AppendLine();
            md.AppendLine("| qubits | " + string.Join(" | ", ls.Select(x => $"L = {x}")) + " | log₂/layer |");
            md.AppendLine("|---" + string.Concat(ls.Select(_ => "|---")) + "|---|");
            string Fit(string along, int at) => (l["fits"] as JsonArray ?? []).OfType<JsonObject>()
                .FirstOrDefault(f => f["cost"]?.GetValue<string>() == cost && f["along"]?.GetValue<string>() == along && f[along == "qubits" ? "layers" : "qubits"]?.GetValue<int>() == at)
                ?["log2_slope"] is JsonValue v ? EpochMetrics.Number(v).ToString("F2", CultureInfo.InvariantCulture) : "-";
            foreach (int n in ns)
                md.AppendLine($"| {n} | " + string.Join(" | ", ls.Select(x => pts.TryGetValue((cost, n, x), out var p) ? Sci(p.Var) + (double.IsFinite(p.Se) ? $" ± {Sci(p.Se)}" : "") : "-")) + $" | {Fit("layers", n)} |");
            md.AppendLine("| log₂/qubit | " + string.Join(" | ", ls.Select(x => Fit("qubits", x))) + " | |");
            md.AppendLine();
        }
        md.AppendLine("![against layers](landscape-layers.png)");
        md.AppendLine("![against qubits](landscape-qubits.png)");
        md.AppendLine();
    }

    /// <summary>The depth and width claims measured on the landscape (gradients at random angles, no training).</summary>
    private static IEnumerable<(string, string, string)> LandscapeClaims(JsonObject l)
    {
        var pts = LandscapePoints(l);
        var costs = pts.Keys.Select(k => k.Cost).Distinct().ToList();
        // Depth: at 8 qubits (the report's circuit) where measured, else the widest; 4 layers against the deepest.
        var depth = new List<(string Cost, int N, int L0, double V0, double V4, int L, double VL)>();
        foreach (var c in costs)
        {
            var ns = pts.Keys.Where(k => k.Cost == c).Select(k => k.Qubits).Distinct().ToList();
            int n = ns.Contains(8) ? 8 : ns.Max();
            var ls = pts.Keys.Where(k => k.Cost == c && k.Qubits == n).Select(k => k.Layers).ToList();
            int shallowest = ls.Min(), deepest = ls.Max();
            if (shallowest < 4 && deepest > 4 && pts.TryGetValue((c, n, 4), out var at4))
                depth.Add((c, n, shallowest, pts[(c, n, shallowest)].Var, at4.Var, deepest, pts[(c, n, deepest)].Var));
        }
        if (depth.Count > 0)
        {
            // A cliff at 4 layers is a fall by 10x or more past it; otherwise say how each cost behaves on either side of 4.
            string How(double before, double after) => after >= 2 ? (before >= 2 ? "falls steadily with depth, from the first layer on (an exponential in depth, no cliff at 4)" : "falls only past 4 layers")
                                                                   : "levels off past 4 layers";
            yield return ("gradients vanish beyond 4 layers (at random angles)",
                string.Join("; ", depth.Select(d => $"{d.Cost} cost, {d.N} qubits: Var[∂C/∂θ₁] {Sci(d.V0)} at {d.L0} layer{(d.L0 == 1 ? "" : "s")}, {Sci(d.V4)} at 4, {Sci(d.VL)} at {d.L} (×{d.VL / d.V4:G2} past 4)")),
                depth.Any(d => d.V4 / d.VL >= 10) ? "reproduced: a fall by 10x or more past 4 layers"
                : "not as claimed: " + string.Join("; ", depth.Select(d => $"the {d.Cost} cost's variance {How(d.V0 / d.V4, d.V4 / d.VL)}")));
        }
        // Width: the fitted fall per qubit at the report's 3 layers (or the nearest depth measured).
        var width = new List<(string Cost, int L, double PerQubit, int N0, int N1)>();
        foreach (var c in costs)
        {
            var ls = pts.Keys.Where(k => k.Cost == c).Select(k => k.Layers).Distinct().ToList();
            int depthAt = ls.OrderBy(x => Math.Abs(x - 3)).First();
            var row = pts.Where(kv => kv.Key.Cost == c && kv.Key.Layers == depthAt).OrderBy(kv => kv.Key.Qubits).Select(kv => ((double)kv.Key.Qubits, kv.Value.Var)).ToList();
            if (row.Count >= 2 && row[^1].Item1 >= 10)
                width.Add((c, depthAt, Math.Pow(2, -GradientLandscape.FitLog2(row).Slope), (int)row[0].Item1, (int)row[^1].Item1));
        }
        if (width.Count > 0)
        {
            string measured = string.Join("; ", width.Select(w => $"{w.Cost} cost, {w.L} layers, {w.N0}-{w.N1} qubits: Var[∂C/∂θ₁] falls {w.PerQubit:F2}x per qubit"));
            bool anyFalls = width.Any(w => w.PerQubit >= 1.5), allFall = width.All(w => w.PerQubit >= 1.5);
            yield return ("10+ qubits are prohibitive (gradients at random angles)", measured,
                allFall ? "reproduced in kind: gradients fall exponentially with qubits for every cost measured (from the smallest width on: no threshold at 10)"
                : anyFalls ? $"not as claimed: the {string.Join(", ", width.Where(w => w.PerQubit >= 1.5).Select(w => w.Cost))} cost's gradients fall exponentially with qubits from the smallest width on (no threshold at 10), " +
                             $"the {string.Join(", ", width.Where(w => w.PerQubit < 1.5).Select(w => w.Cost))} cost's do not: the plateau follows the cost, not the width"
                : "not reproduced: no exponential fall with qubits");
        }
    }

    private static string Sci(double v) => v.ToString("0.0E+0", CultureInfo.InvariantCulture);
}
