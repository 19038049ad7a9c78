using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using QGenEngine.Models;
using QGenEngine.Models.Metrics;
using QGenEngine.Models.Training;
using QGenEngine.Quantum;
using QGenEngine.Tensors;

namespace QGenEngine.Cli.Study;

/// <summary>
/// `study report`: evaluates the finished runs that have no current eval.json (`eval --run`), then writes the study
/// directory's REPORT.md, results.csv (one row per run) and pictures: each configuration's numbers as mean ± std
/// over its seeds (the model table, quality, convergence, per-digit reconstruction SSIM, one table and plot per
/// varied option), samples side by side and the per-epoch curves overlaid. Every number links to its run directory,
/// whose config.json and train.log hold the command that made it.
/// </summary>
public static class StudyReport
{
    public const string ReportFile = "REPORT.md", CsvFile = "results.csv";

    private sealed record RunResult(PlannedRun Run, IReadOnlyList<JsonObject> Epochs, JsonObject Eval, long Parameters, long CircuitAngles)
    {
        public double? Final(string key) => Epochs.LastOrDefault(e => e[key] is not null)?[key] is { } v ? EpochMetrics.Number(v) : null;
        public double? Evaluated(string key) => Eval[key] is JsonValue v ? EpochMetrics.Number(v) : null;
        public double MeanSecondsPerEpoch => Epochs.Average(e => EpochMetrics.Number(e["seconds"]!));
        public double MeanImagesPerSecond => Epochs.Average(e => EpochMetrics.Number(e["samples_per_s"]!));
        public string Group => (Run.Variation == "base" ? Run.Model : $"{Run.Model} {Run.Variation}") + (Run.Aliases.Count > 0 ? $" (= {string.Join(", ", Run.Aliases)})" : "");
    }

    /// <param name="routeImages">test images a router run is evaluated on by `route`</param>
    public static int Write(StudySpec spec, string dir, IReadOnlyList<PlannedRun> runs, IDevice dev, int evalSamples, TextWriter stdout, int routeImages = 10_000)
    {
        var finished = runs.Where(StudyRunner.Finished).ToList();
        if (finished.Count == 0) throw new CliException($"{dir}: no run of the study has finished yet; `qgen-engine study run {spec.Path}` first");
        var results = new List<RunResult>();
        foreach (var r in finished)
        {
            var evalPath = Path.Combine(r.Dir, "eval.json");
            var ckpt = Path.Combine(r.Dir, Trainer.CheckpointFile);
            if (!File.Exists(evalPath) || File.GetLastWriteTimeUtc(evalPath) < File.GetLastWriteTimeUtc(ckpt))
            {
                stdout.WriteLine($"evaluating {r.Name} ...");
                var err = new StringWriter();
                int code = App.Run(["eval", "--run", r.Dir, "--n", evalSamples.ToString(CultureInfo.InvariantCulture), "--device", dev.Name], TextWriter.Null, err);
                if (code != 0) { stdout.WriteLine($"warning: eval of {r.Name} failed: {err.ToString().Trim()}"); continue; }
            }
            // A router is measured by `route` (its five policies on the test set) beside its eval.
            var routePath = Path.Combine(r.Dir, "route.json");
            if (r.Model == "router" && (!File.Exists(routePath) || File.GetLastWriteTimeUtc(routePath) < File.GetLastWriteTimeUtc(ckpt)))
            {
                stdout.WriteLine($"routing with {r.Name} ...");
                var err = new StringWriter();
                string set = (ModelCatalog.ReadOptions(r.Dir).Dataset == "fashion" ? "fashion" : "mnist") + ":test:" + routeImages.ToString(CultureInfo.InvariantCulture);
                if (App.Run(["route", "--router", r.Dir, "--images", set, "--out", r.Dir, "--json", "--device", dev.Name], TextWriter.Null, err) != 0)
                    stdout.WriteLine($"warning: route with {r.Name} failed: {err.ToString().Trim()}");
            }
            var (model, _) = ModelCatalog.LoadRun(r.Dir, dev);
            long angles = model.NamedModules().Select(m => m.Module).OfType<QuantumLayer>().Sum(q => q.Weight.Numel);
            results.Add(new RunResult(r, Trainer.ReadMetrics(r.Dir), JsonNode.Parse(File.ReadAllText(evalPath))!.AsObject(), model.ParameterCount, angles));
        }

        WriteCsv(Path.Combine(dir, CsvFile), results);
        var groups = results.GroupBy(r => r.Group).ToList();
        var md = new StringBuilder();
        md.AppendLine($"# Study `{spec.Name}`{(spec.Profile is null ? "" : $" (profile `{spec.Profile}`)")}");
        md.AppendLine();
        md.AppendLine($"{results.Count} of {runs.Count} runs finished and evaluated; made by `qgen-engine study report {spec.Path}` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC. " +
                      $"Mean ± standard deviation over seeds (n = runs in the group); every run's directory, command and numbers are in the last table and in `{CsvFile}`. " +
                      $"FID, IS and modes: {evalSamples:N0} samples against the test set with the MNIST metric classifier's features (not Inception-FID). SSIM and BCE: reconstructions of the 10,000 test digits.");
        md.AppendLine();

        md.AppendLine("## Models");
        md.AppendLine();
        md.AppendLine("| configuration | n | parameters | circuit angles | s/epoch | training images/s | sampling images/s | device (threads) |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var g in groups)
        {
            var f = g.First();
            string threads = f.Epochs[^1]["threads"] is { } t ? $" ({t})" : "";
            md.AppendLine($"| {g.Key} | {g.Count()} | {f.Parameters:N0} | {f.CircuitAngles} | {Stat(g.Select(r => (double?)r.MeanSecondsPerEpoch), "F1")} | " +
                          $"{Stat(g.Select(r => (double?)r.MeanImagesPerSecond), "F0")} | {Stat(g.Select(r => r.Evaluated("sampling_images_per_s")), "F0")} | " +
                          $"{f.Epochs[^1]["device"]?.GetValue<string>() ?? f.Run.Args.SkipWhile(a => a != "--device").Skip(1).FirstOrDefault() ?? "cpu"}{threads} |");
        }
        md.AppendLine();

        md.AppendLine("## Quality");
        md.AppendLine();
        md.AppendLine("| configuration | n | FID ↓ | IS ↑ | modes | test SSIM ↑ | test BCE ↓ | epochs |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var g in groups)
            md.AppendLine($"| {g.Key} | {g.Count()} | {Stat(g.Select(r => r.Evaluated("fid")), "F1")} | {Stat(g.Select(r => r.Evaluated("is")), "F2")} | " +
                          $"{Stat(g.Select(r => r.Evaluated("modes")), "F1")} | {Stat(g.Select(r => r.Evaluated("test_ssim")), "F4")} | " +
                          $"{Stat(g.Select(r => r.Evaluated("test_bce")), "F2")} | {g.First().Run.Epochs} |");
        md.AppendLine();

        md.AppendLine("## Convergence");
        md.AppendLine();
        md.AppendLine("The first epoch whose score is within 10 % of the run's last (FID during training; test SSIM for reconstructions), mean over seeds.");
        md.AppendLine();
        md.AppendLine("| configuration | epochs to FID ≤ 1.1 × final | epochs to SSIM ≥ 0.9 × final |");
        md.AppendLine("|---|---|---|");
        foreach (var g in groups)
            md.AppendLine($"| {g.Key} | {Stat(g.Select(r => EpochsTo(r, "fid", lower: true)), "F1")} | {Stat(g.Select(r => EpochsTo(r, "test_ssim", lower: false)), "F1")} |");
        md.AppendLine();

        var adversarial = groups.Where(g => g.Any(r => r.Eval["last_epoch_spread"] is JsonObject)).ToList();
        if (adversarial.Count > 0)
        {
            md.AppendLine("## Training stability");
            md.AppendLine();
            md.AppendLine("How much the losses moved from step to step in each run's last epoch (the standard deviation over its steps, as `eval` " +
                          "reports it), mean ± sd over seeds; and how evenly the samples cover the ten classes (KL of the class histogram " +
                          "from uniform). The report claims the quantum GAN's losses varied more.");
            md.AppendLine();
            md.AppendLine("| configuration | n | sd of d_loss | sd of g_loss | sd of d_real | sd of d_fake | modes KL ↓ |");
            md.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var g in adversarial)
                md.AppendLine($"| {g.Key} | {g.Count()} | " + string.Join(" | ", new[] { "d_loss", "g_loss", "d_real", "d_fake" }.Select(k =>
                    Stat(g.Select(r => r.Eval["last_epoch_spread"] is JsonObject o && o[k] is JsonValue v ? (double?)EpochMetrics.Number(v) : null), "F3"))) +
                    $" | {Stat(g.Select(r => r.Evaluated("modes_kl")), "F3")} |");
            md.AppendLine();
        }

        var perClass = groups.Where(g => g.Any(r => r.Eval["test_ssim_per_class"] is JsonArray)).ToList();
        if (perClass.Count > 0)
        {
            md.AppendLine("## Reconstruction SSIM per digit");
            md.AppendLine();
            md.AppendLine("(the report claims the quantum models helped digits 3, 5 and 8)");
            md.AppendLine();
            md.AppendLine("| configuration | " + string.Join(" | ", Enumerable.Range(0, 10)) + " |");
            md.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---|", 10)));
            foreach (var g in perClass)
                md.AppendLine($"| {g.Key} | " + string.Join(" | ", Enumerable.Range(0, 10).Select(c =>
                    Stat(g.Select(r => r.Eval["test_ssim_per_class"] is JsonArray a && a[c] is { } v ? (double?)EpochMetrics.Number(v) : null), "F3"))) + " |");
            md.AppendLine();
        }

        var factors = spec.Vary.Concat(spec.Models.SelectMany(m => m.Vary ?? []))
                          .GroupBy(f => f.Option).Select(g => (Option: g.Key, Values: (IReadOnlyList<string>)g.SelectMany(f => f.Values).Distinct().ToList()));
        foreach (var (opt, values) in factors)
        {
            md.AppendLine($"## Ablation: {opt}");
            md.AppendLine();
            md.AppendLine($"| model | {opt} | n | FID | IS | test SSIM | test BCE | s/epoch |");
            md.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var model in results.Select(r => r.Run.Model).Distinct())
                foreach (var v in values)
                {
                    var rs = results.Where(r => r.Run.Model == model && r.Run.Is($"{opt}={v}")).ToList();
                    if (rs.Count == 0) continue;
                    md.AppendLine($"| {model} | {v} | {rs.Count} | {Stat(rs.Select(r => r.Evaluated("fid")), "F1")} | {Stat(rs.Select(r => r.Evaluated("is")), "F2")} | " +
                                  $"{Stat(rs.Select(r => r.Evaluated("test_ssim")), "F4")} | {Stat(rs.Select(r => r.Evaluated("test_bce")), "F2")} | {Stat(rs.Select(r => (double?)r.MeanSecondsPerEpoch), "F1")} |");
                }
            string png = $"ablation-{opt}.png";
            if (Imaging.SaveAblationPlot(Path.Combine(dir, png), opt, values, results.SelectMany(r => r.Run.Aliases.Prepend(r.Run.Variation).Select(v => (r.Run.Model, v, r.Evaluated("test_ssim"), r.Evaluated("fid")))).ToList()))
            {
                md.AppendLine();
                md.AppendLine($"![{opt}]({png})");
            }
            md.AppendLine();
        }

        var routers = results.Where(r => File.Exists(Path.Combine(r.Run.Dir, "route.json"))).ToList();
        if (routers.Count > 0)
        {
            var routes = routers.Select(r => JsonNode.Parse(File.ReadAllText(Path.Combine(r.Run.Dir, "route.json")))!).ToList();
            md.AppendLine("## Router");
            md.AppendLine();
            md.AppendLine($"`route` on the test set with each router run (n = {routers.Count}): the router at its target share beside all-classical, all-quantum, " +
                          "random routing at the same share and the oracle; measured time of model forward passes (and the estimator's).");
            md.AppendLine();
            md.AppendLine("| policy | quantum share | SSIM | BCE | ms / image | × all-quantum |");
            md.AppendLine("|---|---|---|---|---|---|");
            foreach (var (label, key) in new[] { ("router", (string?)null), ("all-classical", "classical"), ("all-quantum", "quantum"), ("random", "random"), ("oracle", "oracle") })
            {
                IEnumerable<double?> F(Func<JsonNode, JsonNode?> f) => routes.Select(j => f(key is null ? j : j[key]!) is JsonValue v ? (double?)EpochMetrics.Number(v) : null);
                md.AppendLine($"| {label} | {Stat(F(j => j["share"]), "F3")} | {Stat(F(j => j["quality"]?["ssim"]), "F4")} | {Stat(F(j => j["quality"]?["bce"]), "F2")} | " +
                              $"{Stat(F(j => j["cost"]?["ms_per_image"]), "F3")} | {Stat(F(j => j["cost"]?["relative_to_quantum"]), "F2")} |");
            }
            md.AppendLine();
            md.AppendLine($"Estimator's Spearman with the classical model's true BCE: {Stat(routes.Select(j => j["spearman"] is JsonValue v ? (double?)EpochMetrics.Number(v) : null), "F3")}; " +
                          $"gap recovered over shares: router {Stat(routes.Select(j => j["gap_recovered"]?["router"] is JsonValue v ? (double?)EpochMetrics.Number(v) : null), "F2")}, " +
                          $"oracle {Stat(routes.Select(j => j["gap_recovered"]?["oracle"] is JsonValue v ? (double?)EpochMetrics.Number(v) : null), "F2")} (random 0.50).");
            md.AppendLine();
        }

        // Pictures: 16 samples of each generative configuration's first seed, one row each; the per-epoch curves overlaid.
        var gen = new List<(string Label, float[] Images)>();
        foreach (var g in groups)
        {
            var (model, _) = ModelCatalog.LoadRun(g.First().Run.Dir, dev);
            if (model is IGenerative ig) gen.Add((g.Key, Evaluation.Generate(ig, dev, 16, Trainer.FixedNoiseSeed)));
        }
        if (gen.Count > 0)
        {
            Imaging.SaveGrid(Path.Combine(dir, "samples.png"), gen.SelectMany(x => x.Images).ToArray(), 16 * gen.Count, 16);
            md.AppendLine("## Samples");
            md.AppendLine();
            md.AppendLine("16 samples per row from fixed latents, first seed of each configuration, rows in order: " + string.Join(", ", gen.Select(x => x.Label)) + ".");
            md.AppendLine();
            md.AppendLine("![samples](samples.png)");
            md.AppendLine();
        }
        var curves = new List<string>();
        foreach (var (key, title) in new[] { ("fid", "FID during training"), ("test_ssim", "test SSIM"), ("loss", "training loss (epoch mean)"), ("g_loss", "generator loss (epoch mean)") })
        {
            string png = $"curves-{key.Replace('_', '-')}.png";
            var series = groups.Select(g => (g.Key, g.First().Epochs.Where(e => e[key] is not null).Select(e => (e["epoch"]!.GetValue<int>(), EpochMetrics.Number(e[key]!))).ToList()))
                               .Where(s => s.Item2.Count > 0).ToList();
            if (series.Count > 0 && Imaging.SaveCurves(Path.Combine(dir, png), series, $"{spec.Name}: {title} per epoch (first seed)", key)) curves.Add($"![{key}]({png})");
        }
        if (curves.Count > 0)
        {
            md.AppendLine("## Curves");
            md.AppendLine();
            foreach (var c in curves) md.AppendLine(c);
            md.AppendLine();
        }

        md.AppendLine("## Runs");
        md.AppendLine();
        md.AppendLine("| run | seed | FID | test SSIM | command |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var r in results)
            md.AppendLine($"| [{r.Run.Name}]({Path.GetRelativePath(dir, r.Run.Dir)}) | {r.Run.Seed} | {Fmt(r.Evaluated("fid"), "F1")} | {Fmt(r.Evaluated("test_ssim"), "F4")} | `{r.Run.CommandLine}` |");
        var missing = runs.Except(finished).ToList();
        if (missing.Count > 0)
        {
            md.AppendLine();
            md.AppendLine($"Not finished ({missing.Count}): " + string.Join(", ", missing.Select(r => $"{r.Name} ({StudyRunner.State(r).ToString().ToLowerInvariant()})")));
        }
        QGenEngine.Autograd.AtomicFile.WriteText(Path.Combine(dir, ReportFile), md.ToString());
        stdout.WriteLine($"wrote {Path.Combine(dir, ReportFile)}, {CsvFile} and the pictures ({results.Count} runs; {missing.Count} not finished)");
        return 0;
    }

    private static double? EpochsTo(RunResult r, string key, bool lower)
    {
        var pts = r.Epochs.Where(e => e[key] is not null).Select(e => (Epoch: e["epoch"]!.GetValue<int>(), V: EpochMetrics.Number(e[key]!))).ToList();
        if (pts.Count == 0) return null;
        double last = pts[^1].V;
        return pts.First(p => lower ? p.V <= 1.1 * last : p.V >= 0.9 * last).Epoch;
    }

    /// <summary>"mean ± std" of the values present (std over seeds, n − 1), "-" when none.</summary>
    public static string Stat(IEnumerable<double?> values, string format)
    {
        var v = values.Where(x => x is { } d && double.IsFinite(d)).Select(x => x!.Value).ToList();
        if (v.Count == 0) return "-";
        double mean = v.Average();
        if (v.Count == 1) return mean.ToString(format, CultureInfo.InvariantCulture);
        double sd = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1));
        return $"{mean.ToString(format, CultureInfo.InvariantCulture)} ± {sd.ToString(format, CultureInfo.InvariantCulture)}";
    }

    private static string Fmt(double? v, string format) => v is { } d ? d.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static void WriteCsv(string path, List<RunResult> results)
    {
        var keys = new[] { "fid", "is", "is_std", "modes", "modes_kl", "test_ssim", "test_bce", "sampling_images_per_s" };
        var sb = new StringBuilder("run,model,variation,seed,epochs,parameters,circuit_angles,seconds_per_epoch,training_images_per_s," + string.Join(',', keys) + ",dir,command\n");
        foreach (var r in results)
        {
            sb.Append(string.Join(',', r.Run.Name, r.Run.Model, Csv(r.Run.Variation), r.Run.Seed, r.Run.Epochs, r.Parameters, r.CircuitAngles,
                                  r.MeanSecondsPerEpoch.ToString("R", CultureInfo.InvariantCulture), r.MeanImagesPerSecond.ToString("R", CultureInfo.InvariantCulture)));
            foreach (var k in keys) sb.Append(',').Append(r.Evaluated(k)?.ToString("R", CultureInfo.InvariantCulture) ?? "");
            sb.Append(',').Append(Csv(r.Run.Dir)).Append(',').Append(Csv(r.Run.CommandLine)).Append('\n');
        }
        QGenEngine.Autograd.AtomicFile.WriteText(path, sb.ToString());
    }

    private static string Csv(string s) => s.Contains(',') || s.Contains('"') || s.Contains(' ') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
