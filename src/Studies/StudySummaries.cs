using System.Text.Json;
using System.Text.Json.Nodes;
using QGenEngine.Models;
using QGenEngine.Models.Metrics;
using QGenEngine.Models.Training;
using QGenEngine.Tensors;

namespace QGenEngine.Studies;

/// <summary>A finished run as its summary holds it: what a report needs, without the checkpoint.</summary>
/// <param name="Dir">the summary's folder (REPORTDIR/runs/RUN)</param>
/// <param name="Strip">16 samples from the fixed latents (generative models), 28×28 each, one after another</param>
/// <param name="Commits">the commits of the binaries that trained its epochs, in order (two or more: resumed by another binary)</param>
/// <param name="Probe">`qgen-engine probe`'s probe.json where it was run (GANs): the discriminator on held-out data, and a fresh one's</param>
public sealed record RunSummary(PlannedRun Run, string Dir, IReadOnlyList<JsonObject> Epochs, JsonObject Eval, JsonNode? Route, float[]? Strip,
                                long Parameters, long CircuitAngles, IReadOnlyList<string> Commits, JsonNode? Probe = null)
{
    /// <summary>eval-noise-&lt;calibration&gt;.json by calibration file stem: the run evaluated under a device's noise model.</summary>
    public IReadOnlyDictionary<string, JsonObject> NoiseEvals { get; init; } = new Dictionary<string, JsonObject>();

    public double? Final(string key) => Epochs.LastOrDefault(e => e[key] is not null)?[key] is { } v ? EpochMetrics.Number(v) : null;
    public double? Evaluated(string key) => Eval[key] is JsonValue v ? EpochMetrics.Number(v) : null;

    /// <summary>The run's typical epoch in seconds, and how it was measured: see <see cref="EpochTime.Typical"/>.</summary>
    public double SecondsPerEpoch => EpochTime.Typical(Epochs)!.Value.Seconds;
    public string SpeedMeasure => EpochTime.Typical(Epochs)!.Value.Measure;
    /// <summary>Training images per second of the typical epoch (the images of an epoch over <see cref="SecondsPerEpoch"/>).</summary>
    public double ImagesPerSecond => Epochs.Select(e => EpochMetrics.Number(e["samples_per_s"]!) * EpochMetrics.Number(e["seconds"]!)).Average() / SecondsPerEpoch;

    public string Group => (Run.Variation == "base" ? Run.Model : $"{Run.Model} {Run.Variation}") + (Run.Aliases.Count > 0 ? $" (= {string.Join(", ", Run.Aliases)})" : "");
}

/// <summary>How long a run's epochs took, robust to the pauses a study's runs go through.</summary>
public static class EpochTime
{
    /// <summary>
    /// A run's typical epoch in seconds, and how it was measured, from its metrics.jsonl records (null with none): for a
    /// one-thread CPU run whose epochs record it, the median over those epochs of the process's CPU time ("cpu"), which
    /// neither a pause (SIGSTOP, a session's end) nor other work on the machine inflates; else the median epoch's
    /// wall-clock time ("wall"), which an epoch or two that spanned a pause do not move as they move a mean.
    /// </summary>
    public static (double Seconds, string Measure)? Typical(IReadOnlyList<JsonObject> epochs)
    {
        if (epochs.Count == 0) return null;
        bool cpu = epochs.Any(e => e["cpu_seconds"] is not null)
                   && epochs.All(e => (e["device"]?.GetValue<string>() ?? "cpu") == "cpu" && e["threads"] is { } t && EpochMetrics.Number(t) == 1);
        return cpu ? (Median(epochs.Where(e => e["cpu_seconds"] is not null).Select(e => EpochMetrics.Number(e["cpu_seconds"]!))), "cpu")
                   : (Median(epochs.Select(e => EpochMetrics.Number(e["seconds"]!))), "wall");
    }

    private static double Median(IEnumerable<double> xs)
    {
        var a = xs.Order().ToArray();
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }
}

/// <summary>
/// The committed record of a study (issue #23): for every finished run, REPORTDIR/runs/RUN/ holds its config.json,
/// metrics.jsonl, eval.json (route.json for a router, probe.json where `probe` ran), a strip of 16 samples (samples.png, 28 × 448 pixels, pixel for
/// pixel) and summary.json (the run's place in the plan, its parameter counts and the commits of the binaries that
/// trained it). A report is written from these alone, so a clean clone rebuilds it without a checkpoint.
/// </summary>
public static class StudySummaries
{
    public const string RunsFolder = "runs", SummaryFile = "summary.json", StripFile = "samples.png";
    public const int StripImages = 16;
    public const string NoisePrefix = "eval-noise-";
    private static readonly string[] Copied = [Trainer.ConfigFile, Trainer.MetricsFile, "eval.json", "route.json", "probe.json"];

    public static string DirOf(string reportDir, PlannedRun r) => Path.Combine(reportDir, RunsFolder, r.Name);

    /// <summary>Writes (or refreshes) a finished run's summary from its run directory; its eval.json must exist.</summary>
    public static void Write(PlannedRun r, string reportDir, IDevice dev)
    {
        string dst = DirOf(reportDir, r);
        Directory.CreateDirectory(dst);
        foreach (var f in Copied.Concat(Directory.GetFiles(r.Dir, NoisePrefix + "*.json").Select(Path.GetFileName)).OfType<string>())
            if (File.Exists(Path.Combine(r.Dir, f)))
            {
                // Whole or not at all: a refresh cut off mid-copy must not leave a torn metrics.jsonl beside the last summary.json.
                byte[] bytes = File.ReadAllBytes(Path.Combine(r.Dir, f));
                QGenEngine.Autograd.AtomicFile.Write(Path.Combine(dst, f), s => s.Write(bytes));
            }
        var (model, _) = ModelCatalog.LoadRun(r.Dir, dev);
        if (model is IGenerative g)
        {
            var strip = Evaluation.Generate(g, dev, StripImages, Trainer.FixedNoiseSeed);
            Imaging.SaveImage(Path.Combine(dst, StripFile), Transpose(strip), 28, 28 * StripImages);
        }
        var commits = Commits(RunLogs.ReadMetrics(r.Dir));
        var summary = new JsonObject
        {
            ["run"] = r.Name, ["model"] = r.Model, ["seed"] = r.Seed, ["variation"] = r.Variation,
            ["also"] = new JsonArray(r.Aliases.Select(a => (JsonNode)a).ToArray()), ["epochs"] = r.Epochs, ["command"] = r.CommandLine,
            ["parameters"] = model.ParameterCount,
            ["circuit_angles"] = model.NamedModules().Select(m => m.Module).OfType<QGenEngine.Quantum.QuantumLayer>().Sum(l => l.Weight.Numel),
            ["commits"] = new JsonArray(commits.Select(c => (JsonNode)c).ToArray()),
        };
        if (commits.Count > 1) summary["note"] = $"resumed by a binary of another commit: epochs were trained by {string.Join(", then ", commits)}";
        QGenEngine.Autograd.AtomicFile.WriteText(Path.Combine(dst, SummaryFile), summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>A run's summary where it is complete (every planned epoch and an eval), else null.</summary>
    public static RunSummary? Read(PlannedRun r, string reportDir)
    {
        string dir = DirOf(reportDir, r);
        string summaryPath = Path.Combine(dir, SummaryFile), evalPath = Path.Combine(dir, "eval.json");
        if (!File.Exists(summaryPath) || !File.Exists(evalPath)) return null;
        var epochs = RunLogs.ReadMetrics(dir);
        if (epochs.Count < r.Epochs) return null;
        JsonObject summary, eval;
        try
        {
            summary = JsonNode.Parse(File.ReadAllText(summaryPath))!.AsObject();
            eval = JsonNode.Parse(File.ReadAllText(evalPath))!.AsObject();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new StudyException($"{dir}: a summary file is not valid JSON ({e.Message})"); }
        var route = File.Exists(Path.Combine(dir, "route.json")) ? JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "route.json"))) : null;
        var probe = File.Exists(Path.Combine(dir, "probe.json")) ? JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "probe.json"))) : null;
        float[]? strip = null;
        if (File.Exists(Path.Combine(dir, StripFile)))
        {
            var (px, w, h) = Imaging.ReadPng(Path.Combine(dir, StripFile));
            if (w != 28 * StripImages || h != 28) throw new StudyException($"{Path.Combine(dir, StripFile)}: {w}×{h} pixels; a sample strip is {28 * StripImages}×28");
            strip = Untranspose(px);
        }
        long Long(string k) => summary[k] is JsonValue v ? v.GetValue<long>() : 0;
        var commits = summary["commits"] is JsonArray ca ? ca.Select(c => c!.GetValue<string>()).ToList() : Commits(epochs);
        var noise = new Dictionary<string, JsonObject>();
        foreach (var f in Directory.GetFiles(dir, NoisePrefix + "*.json").OrderBy(f => f, StringComparer.Ordinal))
            try { noise[Path.GetFileNameWithoutExtension(f)[NoisePrefix.Length..]] = JsonNode.Parse(File.ReadAllText(f))!.AsObject(); }
            catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new StudyException($"{f}: not valid JSON ({e.Message})"); }
        return new RunSummary(r, dir, epochs, eval, route, strip, Long("parameters"), Long("circuit_angles"), commits, probe) { NoiseEvals = noise };
    }

    /// <summary>The distinct commits in the epochs' "build" fields, in order of first use ("unrecorded" for epochs from before builds were recorded).</summary>
    public static List<string> Commits(IEnumerable<JsonObject> epochs) =>
        epochs.Select(e => e["build"] is JsonValue v ? v.GetValue<string>() : "unrecorded").Distinct().ToList();

    // A strip is 16 images side by side: rows of 28·16 pixels. The images are kept one after another in memory.
    private static float[] Transpose(float[] images)
    {
        var strip = new float[images.Length];
        for (int k = 0; k < StripImages; k++)
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++) strip[y * 28 * StripImages + k * 28 + x] = images[k * 784 + y * 28 + x];
        return strip;
    }

    private static float[] Untranspose(float[] strip)
    {
        var images = new float[strip.Length];
        for (int k = 0; k < StripImages; k++)
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++) images[k * 784 + y * 28 + x] = strip[y * 28 * StripImages + k * 28 + x];
        return images;
    }
}
