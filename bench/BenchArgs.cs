using System.Globalization;

namespace QGenEngine.Bench;

public sealed record BenchArgs(string? Json, string Device, int Batch, string Model, int Threads, bool Quick)
{
    public static BenchArgs Parse(string[] args)
    {
        string? json = null, device = "cpu", model = "vae"; int batch = 64, threads = 0; bool quick = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"option {args[i]} needs a value");
            int Int(string v, string opt) => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int r) && r > 0 ? r : throw new ArgumentException($"{opt}: '{v}' is not a positive integer");
            switch (args[i])
            {
                case "--json": json = Next(); break;
                case "--device": device = Next(); break;
                case "--batch": batch = Int(Next(), "--batch"); break;
                case "--model": model = Next(); break;
                case "--threads": threads = Int(Next(), "--threads"); break;
                case "--quick": quick = true; break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        if (QGenEngine.Models.ModelCatalog.Find(model) is null) throw new ArgumentException($"--model: unknown model '{model}'; expected one of {QGenEngine.Models.ModelCatalog.Names}");
        return new(json, device, batch, model, threads, quick);
    }
}

/// <summary>One benchmark result: ordered fields, printed as a table row and written as a JSON object.</summary>
public sealed class Record
{
    public Dictionary<string, object> Fields { get; } = new();

    public Record(string suite, string name, string device, int batch, double medianMs)
    {
        Fields["suite"] = suite; Fields["name"] = name; Fields["device"] = device; Fields["batch"] = batch;
        Fields["median_ms"] = Math.Round(medianMs, 4);
    }

    public Record With(string key, object value) { Fields[key] = value is double d ? Math.Round(d, 3) : value; return this; }

    public static void PrintTable(string suite, List<Record> rows)
    {
        if (rows.Count == 0) return;
        var keys = rows.SelectMany(r => r.Fields.Keys).Distinct().Where(k => k != "suite").ToList();
        var cells = rows.Select(r => keys.Select(k => r.Fields.TryGetValue(k, out var v) ? Convert.ToString(v, CultureInfo.InvariantCulture)! : "").ToArray()).ToList();
        var widths = keys.Select((k, i) => Math.Max(k.Length, cells.Max(c => c[i].Length))).ToArray();
        Console.WriteLine();
        Console.WriteLine($"## {suite}");
        Console.WriteLine(string.Join("  ", keys.Select((k, i) => k.PadLeft(widths[i]))));
        foreach (var c in cells) Console.WriteLine(string.Join("  ", c.Select((v, i) => v.PadLeft(widths[i]))));
    }
}

public static class Timing
{
    /// <summary>
    /// Median wall time in ms of <paramref name="reps"/> runs after untimed ones: at least <paramref name="warmup"/>, and
    /// for at least <see cref="WarmupSeconds"/> - .NET compiles a method quickly first and again, optimised, only after
    /// it has been called ~30 times and a background delay, so a few warm-up calls of a sub-millisecond kernel would time
    /// its first, slower code (the circuit's fwd+grad measured 0.55 ms that way, 0.37 ms once warm).
    /// </summary>
    public static double Median(Action run, int reps, int warmup = 2) => Median(null, run, reps, warmup);

    /// <summary>As above, waiting for the device's queued kernels at the end of every run (GPU launches are asynchronous).</summary>
    public const double WarmupSeconds = 0.5;

    public static double Median(QGenEngine.Tensors.IDevice? dev, Action work, int reps, int warmup = 2)
    {
        var gpu = dev as QGenEngine.Kernels.Gpu.IlgpuDevice;
        Action run = gpu is null ? work : () => { work(); gpu.Synchronize(); };
        var warm = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < warmup || warm.Elapsed.TotalSeconds < WarmupSeconds; i++) run();
        var t = new double[reps];
        var sw = new System.Diagnostics.Stopwatch();
        for (int i = 0; i < reps; i++) { sw.Restart(); run(); t[i] = sw.Elapsed.TotalMilliseconds; }
        Array.Sort(t);
        return reps % 2 == 1 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    }
}
