using System.Globalization;
using System.Text.Json.Nodes;

namespace QGenEngine.Models.Training;

/// <summary>
/// A run directory's logs: metrics.jsonl (one JSON record per finished epoch) and steps.csv (every step's scalars).
/// Each is replaced whole when lines are added (a new file renamed over the old, never appended in place), so a kill at
/// any moment leaves no torn line; after a crash they are cut back to the checkpoint and completed from it.
/// </summary>
public static class RunLogs
{
    public const string MetricsFile = "metrics.jsonl", StepsFile = "steps.csv";

    /// <summary>The metrics of every finished epoch, from metrics.jsonl.</summary>
    public static List<JsonObject> ReadMetrics(string runDir)
    {
        var p = Path.Combine(runDir, MetricsFile);
        if (!File.Exists(p)) return [];
        var lines = File.ReadAllLines(p);
        var records = new List<JsonObject>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            records.Add(JsonText.ParseObject(lines[i], p, $"line {i + 1}"));
        }
        return records;
    }

    /// <summary>steps.csv as (column names, rows): step, epoch (fractional), then the model's scalars.</summary>
    public static (string[] Columns, List<double[]> Rows) ReadSteps(string runDir)
    {
        var p = Path.Combine(runDir, StepsFile);
        if (!File.Exists(p)) return ([], []);
        var lines = File.ReadAllLines(p);
        if (lines.Length == 0) return ([], []);
        var rows = lines.Skip(1).Where(l => l.Length > 0)
                        .Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
        return (lines[0].Split(','), rows);
    }

    /// <summary>metrics.jsonl and steps.csv with these lines added (steps.csv gets its header from <paramref name="scalars"/>), each file replaced atomically.</summary>
    public static void Append(string runDir, string? metricLine, string stepRows, IReadOnlyList<string> scalars)
    {
        if (metricLine is not null)
        {
            var path = Path.Combine(runDir, MetricsFile);
            string old = File.Exists(path) ? File.ReadAllText(path) : "";
            AtomicFile.WriteText(path, old + metricLine + "\n");
        }
        if (stepRows.Length > 0)
        {
            var path = Path.Combine(runDir, StepsFile);
            string old = File.Exists(path) ? File.ReadAllText(path) : "step,epoch," + string.Join(',', scalars) + "\n";
            AtomicFile.WriteText(path, old + stepRows);
        }
    }

    /// <summary>
    /// After a crash, metrics.jsonl and steps.csv may run past the checkpoint (they are written before it): drops what
    /// the resumed run will write again (epochs after <paramref name="epochs"/>, steps after <paramref name="stepsDone"/>),
    /// so nothing is counted twice. Returns the metrics kept.
    /// </summary>
    public static List<JsonObject> Trim(string runDir, int epochs, long stepsDone, Action<string>? log)
    {
        // Tolerant of a torn last line (an older binary appended in place; a kill mid-write leaves half a line).
        var path = Path.Combine(runDir, MetricsFile);
        var lines = File.Exists(path) ? File.ReadAllLines(path).Where(l => l.Length > 0).ToList() : [];
        var metrics = new List<JsonObject>();
        for (int i = 0; i < lines.Count; i++)
        {
            try { metrics.Add(JsonText.ParseObject(lines[i], path, $"line {i + 1}")); }
            catch (FormatException) when (i == lines.Count - 1) { log?.Invoke($"{path}: its last line was cut short (a stop mid-write); dropped"); }
        }
        metrics = metrics.Where(m => m["epoch"]!.GetValue<int>() <= epochs).ToList();
        AtomicFile.WriteText(path, string.Concat(metrics.Select(m => m.ToJsonString() + "\n")));
        var steps = Path.Combine(runDir, StepsFile);
        if (File.Exists(steps))
        {
            var keep = File.ReadAllLines(steps).Where((l, i) => i == 0 || l.IndexOf(',') is > 0 and var c && long.TryParse(l[..c], CultureInfo.InvariantCulture, out long st) && st <= stepsDone);
            AtomicFile.WriteText(steps, string.Concat(keep.Select(l => l + "\n")));
        }
        return metrics;
    }

    /// <summary>
    /// On resume, after <see cref="Trim"/>: what the checkpoint holds and the logs lack (a kill between the checkpoint and
    /// the logs) written - its pending metrics line, if the logs stop before <paramref name="epochs"/>, and its pending
    /// step rows after the last logged step.
    /// </summary>
    public static void Restore(string runDir, string? pendingMetric, string? pendingSteps, int epochs, IReadOnlyList<string> scalars, Action<string>? log)
    {
        var logged = ReadMetrics(runDir);
        int lastEpoch = logged.Count == 0 ? 0 : logged[^1]["epoch"]!.GetValue<int>();
        string? metric = pendingMetric is { Length: > 0 } && lastEpoch < epochs ? pendingMetric : null;
        string rows = "";
        if (pendingSteps is { Length: > 0 } ps)
        {
            var steps = Path.Combine(runDir, StepsFile);
            long last = 0;
            if (File.Exists(steps))
            {
                var lines = File.ReadAllLines(steps);
                if (lines.Length > 1) last = long.Parse(lines[^1][..lines[^1].IndexOf(',')], CultureInfo.InvariantCulture);
            }
            rows = string.Concat(ps.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                                   .Where(l => long.Parse(l[..l.IndexOf(',')], CultureInfo.InvariantCulture) > last).Select(l => l + "\n"));
        }
        if (metric is not null || rows.Length > 0)
        {
            Append(runDir, metric, rows, scalars);
            log?.Invoke($"{runDir}: the logs ended before the checkpoint (a stop between the two); {(metric is null ? "" : "its last epoch's metrics and ")}{rows.Count(c => c == '\n')} step rows restored from it");
        }
    }
}
