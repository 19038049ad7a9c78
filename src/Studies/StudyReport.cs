using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using QGenEngine.Models;
using QGenEngine.Models.Metrics;
using QGenEngine.Models.Training;
using QGenEngine.Tensors;

namespace QGenEngine.Studies;

/// <summary>
/// `study report`: evaluates the finished runs that have no current eval.json (`eval --run`), then writes the study
/// directory's REPORT.md, results.csv (one row per run) and pictures: each configuration's numbers as mean ± std
/// over its seeds (the model table, quality, convergence, per-digit reconstruction SSIM, one table and plot per
/// varied option), samples side by side and the per-epoch curves overlaid. Every number links to its run directory,
/// whose config.json and train.log hold the command that made it. In five files: this one (evaluating the runs, the
/// report's outline, number formats, results.csv), .Sections (one method a section), .Statistics (the tests the
/// conclusions rest on), .Claims (the original report's claims) and .Measured (landscape.json and speed.json).
/// </summary>
public static partial class StudyReport
{
    public const string ReportFile = "REPORT.md", CsvFile = "results.csv";

    /// <param name="reportDir">where REPORT.md, results.csv, the pictures and the runs' summaries (runs/RUN/) go; the study directory by default</param>
    /// <param name="routeImages">test images a router run is evaluated on by `route`</param>
    /// <param name="run">the program's `eval` and `route` commands, which evaluate a finished run</param>
    /// <param name="probeSteps">steps of the fresh discriminator `probe` trains against each finished GAN run (0: none)</param>
    public static int Write(StudySpec spec, string dir, IReadOnlyList<PlannedRun> runs, IDevice dev, int evalSamples, TextWriter stdout, ProgramCommand run,
                            int routeImages = 10_000, string? reportDir = null, int probeSteps = DefaultProbeSteps)
    {
        reportDir ??= dir;
        Directory.CreateDirectory(reportDir);
        // 1. Every run finished in the study directory: evaluated (eval.json; route.json for a router) and summarised into reportDir/runs/.
        foreach (var r in runs.Where(StudyRunner.Finished)) Finish(r, reportDir, dev, evalSamples, routeImages, probeSteps, stdout, run, spec.NoiseModels);
        // 2. The report, from the summaries alone (a clean clone holds them; checkpoints are not needed).
        var results = runs.Select(r => StudySummaries.Read(r, reportDir)).OfType<RunSummary>().ToList();
        if (results.Count == 0 && ReadLandscape(reportDir) is null && ReadSpeed(reportDir) is null)
            throw new StudyException($"{dir}: no run of the study has finished yet (and {Path.Combine(reportDir, StudySummaries.RunsFolder)} holds no summary); `qgen-engine study run {spec.Path}` first");
        WriteReport(spec, runs, results, reportDir, evalSamples);
        int missing = runs.Count - results.Count;
        stdout.WriteLine($"wrote {Path.Combine(reportDir, ReportFile)}, {CsvFile} and the pictures ({results.Count} runs; {missing} not finished)");
        return 0;
    }

    /// <summary>Steps of the fresh discriminator `probe` trains against each finished GAN run, by default.</summary>
    public const int DefaultProbeSteps = 1500;

    /// <summary>
    /// What a finished run needs before it is reported: its evaluation of <paramref name="evalSamples"/> samples
    /// (eval.json, unless one newer than the checkpoint exists), `route` for a router, and, with a
    /// <paramref name="reportDir"/>, its summary there. Failures are warnings: the report evaluates again later.
    /// </summary>
    public static void Finish(PlannedRun r, string? reportDir, IDevice dev, int evalSamples, int routeImages, int probeSteps, TextWriter stdout, ProgramCommand run,
                              IReadOnlyList<string>? noiseModels = null)
    {
        var evalPath = Path.Combine(r.Dir, "eval.json");
        var ckpt = Path.Combine(r.Dir, Trainer.CheckpointFile);
        if (!File.Exists(evalPath) || File.GetLastWriteTimeUtc(evalPath) < File.GetLastWriteTimeUtc(ckpt))
        {
            stdout.WriteLine($"evaluating {r.Name} ({evalSamples} samples) ...");
            var err = new StringWriter();
            int code = run(["eval", "--run", r.Dir, "--n", evalSamples.ToString(CultureInfo.InvariantCulture), "--device", dev.Name], TextWriter.Null, err);
            if (code != 0) { stdout.WriteLine($"warning: eval of {r.Name} failed: {err.ToString().Trim()}"); return; }
        }
        // A router is measured by `route` (its five policies on the test set) beside its eval.
        var routePath = Path.Combine(r.Dir, "route.json");
        if (r.Model == "router" && (!File.Exists(routePath) || File.GetLastWriteTimeUtc(routePath) < File.GetLastWriteTimeUtc(ckpt)))
        {
            stdout.WriteLine($"routing with {r.Name} ...");
            var err = new StringWriter();
            string set = (ModelCatalog.ReadOptions(r.Dir).Dataset == "fashion" ? "fashion" : "mnist") + ":test:" + routeImages.ToString(CultureInfo.InvariantCulture);
            if (run(["route", "--router", r.Dir, "--images", set, "--out", r.Dir, "--json", "--device", dev.Name], TextWriter.Null, err) != 0)
                stdout.WriteLine($"warning: route with {r.Name} failed: {err.ToString().Trim()}");
        }
        // A GAN's discriminator probed (`probe`: its own accuracy on held-out data, and a fresh one's against the frozen
        // generator - is a discriminator at chance an equilibrium?), about 5 minutes of one core at its 1,500 steps.
        var probePath = Path.Combine(r.Dir, "probe.json");
        if (probeSteps > 0 && (!File.Exists(probePath) || File.GetLastWriteTimeUtc(probePath) < File.GetLastWriteTimeUtc(ckpt)) && HasDiscriminator(r.Dir, dev))
        {
            stdout.WriteLine($"probing {r.Name}'s discriminator ({probeSteps} steps) ...");
            var err = new StringWriter();
            if (run(["probe", "--run", r.Dir, "--steps", probeSteps.ToString(CultureInfo.InvariantCulture), "--device", dev.Name], TextWriter.Null, err) != 0)
                stdout.WriteLine($"warning: probe of {r.Name} failed: {err.ToString().Trim()}");
        }
        // Under each of the spec's device calibrations, where the run has a circuit (eval-noise-<file>.json beside eval.json).
        if (noiseModels is { Count: > 0 } && HasCircuit(r.Dir, dev))
            foreach (var nm in noiseModels)
            {
                var noisy = Path.Combine(r.Dir, $"eval-noise-{Path.GetFileNameWithoutExtension(nm)}.json");
                if (File.Exists(noisy) && File.GetLastWriteTimeUtc(noisy) >= File.GetLastWriteTimeUtc(ckpt)) continue;
                stdout.WriteLine($"evaluating {r.Name} under the noise model {Path.GetFileName(nm)} ({evalSamples} samples) ...");
                var err = new StringWriter();
                if (run(["eval", "--run", r.Dir, "--n", evalSamples.ToString(CultureInfo.InvariantCulture), "--noise-model", nm, "--device", dev.Name], TextWriter.Null, err) != 0)
                    stdout.WriteLine($"warning: eval of {r.Name} under {nm} failed: {err.ToString().Trim()}");
            }
        if (reportDir is null) return;
        StudySummaries.Write(r, reportDir, dev);
        stdout.WriteLine($"summarised {r.Name} in {StudySummaries.DirOf(reportDir, r)}");
    }

    private static bool HasDiscriminator(string dir, IDevice dev) => ModelCatalog.LoadRun(dir, dev).Model is Gan;

    private static bool HasCircuit(string dir, IDevice dev)
    {
        var (model, _) = ModelCatalog.LoadRun(dir, dev);
        return model.NamedModules().Any(m => m.Module is QGenEngine.Quantum.QuantumLayer);
    }

    /// <summary>REPORT.md and results.csv from the summaries: the conclusions first, then one section after another (each a method of StudyReport.Sections.cs).</summary>
    private static void WriteReport(StudySpec spec, IReadOnlyList<PlannedRun> runs, List<RunSummary> results, string dir, int evalSamples)
    {
        var landscape = ReadLandscape(dir);
        var speed = ReadSpeed(dir);
        if (results.Count == 0)
        {
            // Nothing trained yet: what is measured without training (the landscape), and what is left to run.
            var pending = new StringBuilder();
            pending.AppendLine($"# Study `{spec.Name}`{(spec.Profile is null ? "" : $" (profile `{spec.Profile}`)")}");
            pending.AppendLine();
            pending.AppendLine($"0 of {runs.Count} runs finished; made by `qgen-engine study report {spec.Path}`. What needs no training is below; the runs are listed at the end with the command that completes them.");
            pending.AppendLine();
            if (landscape is not null) WriteLandscape(pending, landscape);
            if (speed is not null) WriteSpeed(pending, speed.Rows, speed.Machine);
            WriteClaims(pending, results, [], landscape, speed?.Rows);
            WriteMissing(pending, spec, runs, results);
            WriteCsv(Path.Combine(dir, CsvFile), results);
            QGenEngine.Autograd.AtomicFile.WriteText(Path.Combine(dir, ReportFile), pending.ToString());
            return;
        }
        WriteCsv(Path.Combine(dir, CsvFile), results);
        var groups = results.GroupBy(r => r.Group).ToList();
        var md = new StringBuilder();
        string scoredBy = results.Select(r => r.Eval["scored_by"]?.GetValue<string>()).FirstOrDefault(x => x is not null)
                          ?? (results.Any(r => r.Eval["dataset"]?.GetValue<string>() == "fashion") ? "the Fashion-MNIST metric classifier" : "the MNIST metric classifier");
        string dataset = results.Select(r => r.Eval["dataset"]?.GetValue<string>() ?? r.Epochs[0]["dataset"]?.GetValue<string>()).FirstOrDefault(x => x is not null) switch
        {
            "fashion" => "Fashion-MNIST", _ => "MNIST",
        };
        int samples = results.Select(r => r.Evaluated("samples")).FirstOrDefault(x => x is not null) is { } sn ? (int)sn : evalSamples;
        var commits = results.SelectMany(r => r.Commits).Distinct().ToList();
        md.AppendLine($"# Study `{spec.Name}`{(spec.Profile is null ? "" : $" (profile `{spec.Profile}`)")}");
        md.AppendLine();
        md.AppendLine($"{results.Count} of {runs.Count} runs finished and evaluated; made by `qgen-engine study report {spec.Path}` " +
                      $"from the runs' summaries (`{StudySummaries.RunsFolder}/`). Mean ± standard deviation over seeds (n = runs in the group), and the mean's 95 % " +
                      $"confidence interval (Student's t) where n ≥ 2. FID, IS, modes, precision/recall and density/coverage: {samples:N0} samples against the " +
                      $"{dataset} test set in the features of {scoredBy} (not Inception-FID). SSIM and BCE: reconstructions of the 10,000 {dataset} test images. " +
                      $"Trained by the binaries of commit{(commits.Count > 1 ? "s" : "")} {string.Join(", ", commits.Select(c => $"`{c}`"))}" +
                      (results.Any(r => r.Commits.Count > 1) ? $"; {results.Count(r => r.Commits.Count > 1)} run(s) were resumed by a binary of another commit (see Runs)." : ".") +
                      (commits.Contains("unknown") ? " `unknown`: a binary built outside a git clone that was not told its commit (`-p:QGenBuildCommit`)." : ""));
        md.AppendLine();
        var tests = PrimaryTests(spec, results);
        if (spec.Comparisons.Count > 0) WriteConclusions(md, spec, runs, results, tests, dataset, scoredBy, speed?.Rows);
        WriteModels(md, groups);
        WriteQuality(md, groups);
        WriteFidelityAndDiversity(md, groups);
        if (landscape is not null) WriteLandscape(md, landscape);
        if (speed is not null) WriteSpeed(md, speed.Rows, speed.Machine);
        WriteClaims(md, results, tests, landscape, speed?.Rows);
        WriteNoise(md, groups);
        if (spec.Comparisons.Count > 0) WriteComparisons(md, spec, results);
        WriteConvergence(md, groups);
        WriteGenerationPerClass(md, groups);
        WriteStability(md, groups);
        WriteDiscriminatorProbes(md, groups);
        WriteSsimPerClass(md, groups);
        WriteAblations(md, spec, results, dir);
        WriteRouter(md, results);
        WriteSamples(md, results, groups, dir);
        WriteCurves(md, spec, groups, dir);
        WriteRuns(md, results, dir);
        WriteMissing(md, spec, runs, results);
        QGenEngine.Autograd.AtomicFile.WriteText(Path.Combine(dir, ReportFile), md.ToString());
    }

    /// <summary>The runs not finished yet, each with its state, and the one command that completes them.</summary>
    private static void WriteMissing(StringBuilder md, StudySpec spec, IReadOnlyList<PlannedRun> runs, List<RunSummary> results)
    {
        var missing = runs.Where(r => !results.Any(x => x.Run.Index == r.Index)).ToList();
        if (missing.Count > 0)
        {
            md.AppendLine();
            md.AppendLine($"Not finished ({missing.Count}): " + string.Join(", ", missing.Select(r => $"{r.Name} ({StudyRunner.State(r).ToString().ToLowerInvariant()})")) + ". " +
                          $"They complete with `tools/study/start.sh {spec.Path}{(spec.Profile is null ? "" : $" --profile {spec.Profile}")} --jobs 2` " +
                          $"(or `qgen-engine study run {spec.Path}{(spec.Profile is null ? "" : $" --profile {spec.Profile}")}`), then `qgen-engine study report` as above.");
        }
    }

    /// <summary>The last epoch's circuit gradient norm over √angles: one angle's root-mean-square gradient (null without a circuit).</summary>
    private static double? PerAngleGradient(RunSummary r) => r.CircuitAngles > 0 && r.Final("circuit_grad_norm") is { } g ? g / Math.Sqrt(r.CircuitAngles) : null;

    private static double? First(RunSummary r, string key) => r.Epochs.FirstOrDefault(e => e[key] is not null)?[key] is { } v ? EpochMetrics.Number(v) : null;

    private static double? PerClass(RunSummary r, int c, string key) =>
        r.Eval["per_class"] is JsonArray a && c < a.Count && a[c]?[key] is JsonValue v ? EpochMetrics.Number(v) : null;

    /// <summary>The mean's 95 % confidence interval (Student's t over seeds), "-" with fewer than two values.</summary>
    public static string Ci(IEnumerable<double?> values, string format)
    {
        var v = values.Where(x => x is { } d && double.IsFinite(d)).Select(x => x!.Value).ToList();
        if (v.Count < 2) return "-";
        var s = Statistics.Summarise(v);
        return $"[{s.Low.ToString(format, CultureInfo.InvariantCulture)}, {s.High.ToString(format, CultureInfo.InvariantCulture)}]";
    }

    private static double? EpochsTo(RunSummary r, string key, bool lower)
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

    private static void WriteCsv(string path, List<RunSummary> results)
    {
        var keys = new[] { "fid", "fid_bootstrap_sd", "is", "is_std", "modes", "modes_kl", "precision", "recall", "density", "coverage", "test_ssim", "test_bce", "sampling_images_per_s" };
        var sb = new StringBuilder("run,model,variation,seed,epochs,parameters,circuit_angles,seconds_per_epoch,seconds_measure,training_images_per_s," + string.Join(',', keys) + ",commits,dir,command\n");
        foreach (var r in results)
        {
            sb.Append(string.Join(',', r.Run.Name, r.Run.Model, Csv(r.Run.Variation), r.Run.Seed, r.Run.Epochs, r.Parameters, r.CircuitAngles,
                                  r.SecondsPerEpoch.ToString("R", CultureInfo.InvariantCulture), r.SpeedMeasure, r.ImagesPerSecond.ToString("R", CultureInfo.InvariantCulture)));
            foreach (var k in keys) sb.Append(',').Append(r.Evaluated(k)?.ToString("R", CultureInfo.InvariantCulture) ?? "");
            sb.Append(',').Append(Csv(string.Join(' ', r.Commits))).Append(',').Append(Csv(r.Run.Dir)).Append(',').Append(Csv(r.Run.CommandLine)).Append('\n');
        }
        QGenEngine.Autograd.AtomicFile.WriteText(path, sb.ToString());
    }

    private static string Csv(string s) => s.Contains(',') || s.Contains('"') || s.Contains(' ') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
