using System.Globalization;
using System.Text.Json.Nodes;

namespace QGenEngine.Bench;

/// <summary>
/// `bench compare OLD.json NEW.json [--threshold 0.2]`: records matched by suite, name, device and batch (and model
/// where present); each shared timing or rate as new/old, and a record flagged where it got slower by more than the
/// threshold (these machines vary up to 2x between runs: compare files measured in one session, or read the flags as
/// leads to measure again). Exit 0, or 1 with --fail when something regressed.
/// </summary>
public static class Compare
{
    private static readonly string[] Key = ["suite", "name", "device", "batch", "model"];
    /// <summary>Fields where more is better (rates); every other number is a time, where less is.</summary>
    private static bool IsRate(string field) => field.Contains("per_s", StringComparison.Ordinal) || field.Contains("gflops", StringComparison.Ordinal) || field.Contains("of_peak", StringComparison.Ordinal);

    public static int Run(string[] args)
    {
        var files = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
        double threshold = 0.2; bool fail = args.Contains("--fail");
        int t = Array.IndexOf(args, "--threshold");
        if (t >= 0 && (t + 1 >= args.Length || !double.TryParse(args[t + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out threshold) || threshold <= 0))
        {
            Console.Error.WriteLine("--threshold: expected a positive number (0.2 = 20 % slower)");
            return 2;
        }
        if (t >= 0) files.Remove(args[t + 1]);
        if (files.Count != 2) { Console.Error.WriteLine("usage: bench compare OLD.json NEW.json [--threshold 0.2] [--fail]"); return 2; }
        var (oldRecs, newRecs) = (Load(files[0]), Load(files[1]));
        if (oldRecs is null || newRecs is null) return 2;
        static string Id(JsonObject r) => string.Join(" / ", Key.Where(k => r[k] is not null).Select(k => r[k]!.ToString()));
        var old = oldRecs.GroupBy(Id).ToDictionary(g => g.Key, g => g.First());
        int regressions = 0, matched = 0;
        Console.WriteLine($"{"record",-60} {"field",-16} {"old",12} {"new",12} {"new/old",8}");
        foreach (var n in newRecs)
        {
            if (!old.TryGetValue(Id(n), out var o)) continue;
            matched++;
            foreach (var (field, nv) in n)
            {
                if (Key.Contains(field) || nv is not JsonValue v || !v.TryGetValue(out double x) || o[field] is not JsonValue ov || !ov.TryGetValue(out double y) || y == 0) continue;
                if (field is "threads" or "flops" or "bytes" || field.EndsWith("_per_sample", StringComparison.Ordinal)) continue;   // counts, not measurements
                double ratio = x / y;
                bool rate = IsRate(field);
                bool worse = rate ? ratio < 1 / (1 + threshold) : ratio > 1 + threshold;
                if (worse) regressions++;
                Console.WriteLine($"{Id(n),-60} {field,-16} {y,12:G5} {x,12:G5} {ratio,8:F3}{(worse ? "  REGRESSION" : "")}");
            }
        }
        Console.WriteLine($"{matched} records in both; {regressions} measurement(s) worse by more than {threshold:P0}" +
                          (matched == 0 ? " (no record matched: different suites?)" : ""));
        return fail && regressions > 0 ? 1 : 0;
    }

    private static List<JsonObject>? Load(string path)
    {
        try
        {
            if (JsonNode.Parse(File.ReadAllText(path)) is JsonArray a && a.All(x => x is JsonObject)) return a.Select(x => x!.AsObject()).ToList();
            Console.Error.WriteLine($"{path}: expected a JSON array of bench records (bench ... --json FILE)");
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"{path}: {e.Message}");
        }
        return null;
    }
}
