using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using QGenEngine.Models;
using QGenEngine.Models.Metrics;
using QGenEngine.Models.Training;
using QGenEngine.Quantum;
using QGenEngine.Tensors;

namespace QGenEngine.Studies;

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

    /// <summary>
    /// What a finished run needs before it is reported: its evaluation of <paramref name="evalSamples"/> samples
    /// (eval.json, unless one newer than the checkpoint exists), `route` for a router, and, with a
    /// <paramref name="reportDir"/>, its summary there. Failures are warnings: the report evaluates again later.
    /// </summary>
    public const int DefaultProbeSteps = 1500;

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

    /// <summary>Each device calibration the runs were evaluated under: the noiseless scores beside the noisy ones, per configuration.</summary>
    private static void WriteNoise(StringBuilder md, IEnumerable<IGrouping<string, RunSummary>> groups)
    {
        var stems = groups.SelectMany(g => g.SelectMany(r => r.NoiseEvals.Keys)).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
        if (stems.Count == 0) return;
        md.AppendLine("## On a device (noise models)");
        md.AppendLine();
        md.AppendLine("The trained circuits run under a device's calibration (`eval --noise-model`: thermal relaxation for each gate's duration, a depolarising " +
                      "channel sized to its calibrated error, per-qubit readout confusion; docs/noise-model.md) - how each model, trained noiselessly, would do " +
                      "on that device. Same samples and test images as above; only the circuits change.");
        md.AppendLine();
        foreach (var stem in stems)
        {
            var gs = groups.Where(g => g.Any(r => r.NoiseEvals.ContainsKey(stem))).ToList();
            string device = gs.SelectMany(g => g).Select(r => r.NoiseEvals.GetValueOrDefault(stem)?["noise_model_name"]?.GetValue<string>()).FirstOrDefault(n => n is not null) ?? stem;
            md.AppendLine($"Under `{stem}` ({device}):");
            md.AppendLine();
            md.AppendLine("| configuration | n | FID noiseless | FID on the device | change | test SSIM noiseless | test SSIM on the device |");
            md.AppendLine("|---|---|---|---|---|---|---|");
            var unchanged = new List<string>();
            foreach (var g in gs)
            {
                var rs = g.Where(r => r.NoiseEvals.ContainsKey(stem)).ToList();
                double? Noisy(RunSummary r, string k) => r.NoiseEvals[stem][k] is JsonValue v ? EpochMetrics.Number(v) : null;
                // Samples identical to the last bit under noise: the circuit is not on the sampling path (qvae's sits in the encoder).
                bool same = rs.All(r => Noisy(r, "fid") is { } n && r.Evaluated("fid") == n);
                if (same) unchanged.Add(g.Key);
                md.AppendLine($"| {g.Key} | {rs.Count} | {Stat(rs.Select(r => r.Evaluated("fid")), "F1")} | {Stat(rs.Select(r => Noisy(r, "fid")), "F1")} | " +
                              $"{(same ? "none (no circuit in sampling)" : Stat(rs.Select(r => Noisy(r, "fid") - r.Evaluated("fid")), "F1"))} | {Stat(rs.Select(r => r.Evaluated("test_ssim")), "F4")} | " +
                              $"{Stat(rs.Select(r => Noisy(r, "test_ssim")), "F4")} |");
            }
            md.AppendLine();
            if (unchanged.Count > 0)
            {
                md.AppendLine($"{string.Join(", ", unchanged)}: the same FID to the last digit on the device - sampling does not run the circuit (the qvae's " +
                              "attention sits between the encoder and μ, log σ²; a sample decodes z ~ N(0, I)), so only its reconstructions (test SSIM) meet the noise.");
                md.AppendLine();
            }
        }
    }

    private static bool HasDiscriminator(string dir, IDevice dev) => ModelCatalog.LoadRun(dir, dev).Model is Gan;

    private static bool HasCircuit(string dir, IDevice dev)
    {
        var (model, _) = ModelCatalog.LoadRun(dir, dev);
        return model.NamedModules().Any(m => m.Module is QGenEngine.Quantum.QuantumLayer);
    }

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

        md.AppendLine("## Models");
        md.AppendLine();
        md.AppendLine("| configuration | n | parameters | circuit angles | s/epoch | training images/s | sampling images/s | device (threads) |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var g in groups)
        {
            var f = g.First();
            string threads = f.Epochs[^1]["threads"] is { } t ? $" ({t})" : "";
            md.AppendLine($"| {g.Key} | {g.Count()} | {f.Parameters:N0} | {f.CircuitAngles} | {Stat(g.Select(r => (double?)r.SecondsPerEpoch), "F1")} | " +
                          $"{Stat(g.Select(r => (double?)r.ImagesPerSecond), "F0")} | {Stat(g.Select(r => r.Evaluated("sampling_images_per_s")), "F0")} | " +
                          $"{f.Epochs[^1]["device"]?.GetValue<string>() ?? f.Run.Args.SkipWhile(a => a != "--device").Skip(1).FirstOrDefault() ?? "cpu"}{threads} |");
        }
        md.AppendLine();
        md.AppendLine("s/epoch: each run's typical epoch of training (validation and FID excluded) - the median over its epochs of the process's CPU time " +
                      "where a one-thread run recorded it (`cpu_seconds`; a pause or other work on the machine does not inflate it), else the median " +
                      "epoch's wall-clock time (an epoch that spanned a pause moves a mean, not the median); the Runs table says which. " +
                      "Training images/s is an epoch's images over that time.");
        md.AppendLine();

        md.AppendLine("## Quality");
        md.AppendLine();
        md.AppendLine("| configuration | n | FID ↓ | FID 95 % CI | FID sampling sd | IS ↑ | modes | test SSIM ↑ | test SSIM 95 % CI | test BCE ↓ | epochs |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var g in groups)
            md.AppendLine($"| {g.Key} | {g.Count()} | {Stat(g.Select(r => r.Evaluated("fid")), "F1")} | {Ci(g.Select(r => r.Evaluated("fid")), "F1")} | " +
                          $"{Stat(g.Select(r => r.Evaluated("fid_bootstrap_sd")), "F2")} | {Stat(g.Select(r => r.Evaluated("is")), "F2")} | " +
                          $"{Stat(g.Select(r => r.Evaluated("modes")), "F1")} | {Stat(g.Select(r => r.Evaluated("test_ssim")), "F4")} | {Ci(g.Select(r => r.Evaluated("test_ssim")), "F4")} | " +
                          $"{Stat(g.Select(r => r.Evaluated("test_bce")), "F2")} | {g.First().Run.Epochs} |");
        md.AppendLine();
        md.AppendLine("FID sampling sd: the standard deviation of FID over 20 bootstrap resamples of one run's samples (the test set fixed), mean over seeds - " +
                      "the noise of the measurement itself, to set beside the seed-to-seed sd.");
        md.AppendLine();

        var prd = groups.Where(g => g.Any(r => r.Evaluated("precision") is not null)).ToList();
        if (prd.Count > 0)
        {
            md.AppendLine("## Fidelity and diversity");
            md.AppendLine();
            md.AppendLine("FID mixes how good samples are with how much of the data they cover. Precision and density measure fidelity, recall and coverage diversity " +
                          "(Kynkäänniemi et al. 2019; Naeem et al. 2020; k = 5 nearest neighbours in the metric classifier's features; 1.0 is the test set against " +
                          "itself, and 10,000 training digits against the test set score 0.93-0.95 on all four).");
            md.AppendLine();
            md.AppendLine("| configuration | n | precision ↑ | recall ↑ | density ↑ | coverage ↑ |");
            md.AppendLine("|---|---|---|---|---|---|");
            foreach (var g in prd)
                md.AppendLine($"| {g.Key} | {g.Count()} | " + string.Join(" | ", new[] { "precision", "recall", "density", "coverage" }.Select(k => Stat(g.Select(r => r.Evaluated(k)), "F3"))) + " |");
            md.AppendLine();
        }

        if (landscape is not null) WriteLandscape(md, landscape);
        if (speed is not null) WriteSpeed(md, speed.Rows, speed.Machine);
        WriteClaims(md, results, tests, landscape, speed?.Rows);
        WriteNoise(md, groups);
        if (spec.Comparisons.Count > 0) WriteComparisons(md, spec, results);

        md.AppendLine("## Convergence");
        md.AppendLine();
        md.AppendLine("The first epoch whose score is within 10 % of the run's last (FID during training; test SSIM for reconstructions), mean over seeds.");
        md.AppendLine();
        md.AppendLine("| configuration | epochs to FID ≤ 1.1 × final | epochs to SSIM ≥ 0.9 × final |");
        md.AppendLine("|---|---|---|");
        foreach (var g in groups)
            md.AppendLine($"| {g.Key} | {Stat(g.Select(r => EpochsTo(r, "fid", lower: true)), "F1")} | {Stat(g.Select(r => EpochsTo(r, "test_ssim", lower: false)), "F1")} |");
        md.AppendLine();

        var perClassFid = groups.Where(g => g.Any(r => r.Eval["per_class"] is JsonArray)).ToList();
        if (perClassFid.Count > 0)
        {
            md.AppendLine("## Generation per class");
            md.AppendLine();
            md.AppendLine($"For each class the metric classifier assigns to the samples: its share of them (10 % each when balanced) and, where at least " +
                          $"{SampleQuality.MinPerClass} samples fell in it, their FID against that class's test images (mean ± sd over seeds; per-class FIDs " +
                          "come from ~1,000 samples and carry more small-sample bias than the overall FID - compare them across models, not with it). " +
                          "The report claims the quantum models helped digits 3, 5 and 8.");
            md.AppendLine();
            md.AppendLine("| configuration | " + string.Join(" | ", Enumerable.Range(0, 10)) + " |");
            md.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---|", 10)));
            foreach (var g in perClassFid)
            {
                md.AppendLine($"| {g.Key} share | " + string.Join(" | ", Enumerable.Range(0, 10).Select(c => Stat(g.Select(r => PerClass(r, c, "share")), "P1"))) + " |");
                md.AppendLine($"| {g.Key} FID | " + string.Join(" | ", Enumerable.Range(0, 10).Select(c => Stat(g.Select(r => PerClass(r, c, "fid")), "F1"))) + " |");
            }
            md.AppendLine();
        }

        var adversarial = groups.Where(g => g.Any(r => r.Eval["last_epoch_spread"] is JsonObject o && o["d_loss"] is not null)).ToList();
        if (adversarial.Count > 0)
        {
            md.AppendLine("## Training stability");
            md.AppendLine();
            md.AppendLine("The discriminator's mean D(real) and D(fake) over each run's last epoch of training (a gap near 0: it no longer tells " +
                          "the generator's samples from digits while it trains); how much the losses moved from step to step in that epoch (the " +
                          "standard deviation over its steps, as `eval` reports it); mean ± sd over seeds; and how evenly the samples cover the ten " +
                          "classes (KL of the class histogram from uniform). The report claims the quantum GAN's losses varied more.");
            md.AppendLine();
            md.AppendLine("| configuration | n | D(real) | D(fake) | D(real) − D(fake) | sd of d_loss | sd of g_loss | sd of d_real | sd of d_fake | modes KL ↓ |");
            md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
            foreach (var g in adversarial)
                md.AppendLine($"| {g.Key} | {g.Count()} | {Stat(g.Select(r => r.Final("d_real")), "F3")} | {Stat(g.Select(r => r.Final("d_fake")), "F3")} | " +
                              $"{Stat(g.Select(r => r.Final("d_real") - r.Final("d_fake")), "F3")} | " + string.Join(" | ", new[] { "d_loss", "g_loss", "d_real", "d_fake" }.Select(k =>
                    Stat(g.Select(r => r.Eval["last_epoch_spread"] is JsonObject o && o[k] is JsonValue v ? (double?)EpochMetrics.Number(v) : null), "F3"))) +
                    $" | {Stat(g.Select(r => r.Evaluated("modes_kl")), "F3")} |");
            md.AppendLine();
        }

        var probed = groups.Where(g => g.Any(r => r.Probe is not null)).ToList();
        if (probed.Count > 0)
        {
            md.AppendLine("## The discriminator: equilibrium or stalled?");
            md.AppendLine();
            md.AppendLine("`qgen-engine probe` on the finished runs: the run's own discriminator on held-out test digits and as many fresh samples " +
                          "(accuracy of its logit's sign; mean D(real) and D(fake)), and a fresh discriminator of the same architecture trained alone " +
                          "against the frozen generator (Adam at the run's settings), its accuracy on the same held-out data at the end. A generator " +
                          "that had reached an equilibrium would leave the fresh discriminator near 50 % too.");
            md.AppendLine();
            md.AppendLine("| configuration | n | own D: accuracy | own D(real) | own D(fake) | fresh D: accuracy | fresh D steps | recall (diversity) |");
            md.AppendLine("|---|---|---|---|---|---|---|---|");
            var readings = new List<(string Config, double Own, double Fresh, double? Recall)>();
            foreach (var g in probed)
            {
                var probedRuns = g.Where(r => r.Probe is not null).ToList();
                var ps = probedRuns.Select(r => r.Probe!).ToList();
                IEnumerable<double?> P(Func<JsonNode, JsonNode?> f) => ps.Select(p => f(p) is JsonValue v ? (double?)EpochMetrics.Number(v) : null);
                IEnumerable<double?> Own() => P(p => p["trained"]?["accuracy"]);
                IEnumerable<double?> Fresh() => P(p => p["fresh"] is JsonArray a ? a[^1]?["accuracy"] : null);
                md.AppendLine($"| {g.Key} | {ps.Count} | {Stat(Own(), "P1")} | {Stat(P(p => p["trained"]?["d_real"]), "F3")} | " +
                              $"{Stat(P(p => p["trained"]?["d_fake"]), "F3")} | {Stat(Fresh(), "P1")} | " +
                              $"{Stat(P(p => p["steps"]), "F0")} | {Stat(probedRuns.Select(r => r.Evaluated("recall")), "F3")} |");
                var own = Own().OfType<double>().ToList(); var fresh = Fresh().OfType<double>().ToList();
                var recall = probedRuns.Select(r => r.Evaluated("recall")).OfType<double>().ToList();
                if (own.Count > 0 && fresh.Count > 0) readings.Add((g.Key, own.Average(), fresh.Average(), recall.Count > 0 ? recall.Average() : null));
            }
            md.AppendLine();
            if (readings.Count > 0)
            {
                // The reading, from the numbers alone: an equilibrium leaves a fresh discriminator near chance.
                var stalled = readings.Where(x => x.Fresh >= 0.55).ToList();
                string P1(double v) => v.ToString("P1", CultureInfo.InvariantCulture);
                md.Append(stalled.Count == readings.Count
                    ? $"Reading: no probed generator is at an equilibrium. A fresh discriminator trained alone separates each frozen generator's samples from test digits " +
                      $"({string.Join(", ", readings.Select(x => $"{x.Config} {P1(x.Fresh)}"))}) better than the run's own discriminator does " +
                      $"({string.Join(", ", readings.Select(x => $"{P1(x.Own)}"))}): the own discriminator's means near 0.5 do not say that no flaw is left to find; " +
                      "they are what a stalemate looks like, a discriminator chasing a generator that keeps moving. "
                    : $"Reading: {string.Join(", ", readings.Where(x => x.Fresh < 0.55).Select(x => x.Config))} leave{(readings.Count(x => x.Fresh < 0.55) == 1 ? "s" : "")} a fresh discriminator " +
                      $"near chance (an equilibrium); {(stalled.Count == 0 ? "no other" : string.Join(", ", stalled.Select(x => $"{x.Config} ({P1(x.Fresh)})")))} do{(stalled.Count == 1 ? "es" : "")} not. ");
                var withRecall = readings.Where(x => x.Recall is not null).OrderByDescending(x => x.Fresh).ToList();
                if (withRecall.Count >= 2)
                    md.Append($"Ordered by how easily a fresh discriminator wins: {string.Join(", ", withRecall.Select(x => $"{x.Config} ({P1(x.Fresh)}, recall {x.Recall:F3})"))}; " +
                              "recall measures how much of the test set's variety the samples cover.");
                md.AppendLine();
                md.AppendLine();
            }
        }

        var perClass = groups.Where(g => g.Any(r => r.Eval["test_ssim_per_class"] is JsonArray)).ToList();
        if (perClass.Count > 0)
        {
            md.AppendLine("## Reconstruction SSIM per class");
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
                                  $"{Stat(rs.Select(r => r.Evaluated("test_ssim")), "F4")} | {Stat(rs.Select(r => r.Evaluated("test_bce")), "F2")} | {Stat(rs.Select(r => (double?)r.SecondsPerEpoch), "F1")} |");
                }
            string png = $"ablation-{opt}.png";
            bool ssim = results.Any(r => r.Evaluated("test_ssim") is not null);
            if (Imaging.SaveAblationPlot(Path.Combine(dir, png), opt, values,
                    results.SelectMany(r => r.Run.Aliases.Prepend(r.Run.Variation).Select(v => (r.Run.Model, v, ssim ? r.Evaluated("test_ssim") : r.Evaluated("fid")))).ToList(),
                    ssim ? "test reconstruction SSIM" : "FID (lower is better)"))
            {
                md.AppendLine();
                md.AppendLine($"![{opt}]({png})");
            }
            // Barren plateaus: the circuit's gradient norm in the first and the last epoch against the option (depth, qubits, ...).
            string gpng = $"ablation-{opt}-circuit-gradient.png";
            var grads = results.SelectMany(r => new[] { (" first epoch", First(r, "circuit_grad_norm")), (" last epoch", r.Final("circuit_grad_norm")), (" last epoch, per angle", PerAngleGradient(r)) }
                                   .SelectMany(series => r.Run.Aliases.Prepend(r.Run.Variation).Select(v => (r.Run.Model + series.Item1, v, series.Item2)))).ToList();
            if (grads.Any(g => g.Item3 is not null) && Imaging.SaveAblationPlot(Path.Combine(dir, gpng), opt, values, grads, "circuit gradient norm (epoch mean)", logY: true))
            {
                md.AppendLine();
                md.AppendLine($"The circuit's gradient norm (mean over an epoch's steps) in the first and the last epoch against {opt}: a barren plateau shows as a fall by orders of magnitude. " +
                              "The norm is over all of the circuit's angles, so it grows with their number even where each angle's gradient does not; " +
                              "per angle is the last epoch's norm over √angles (the root mean square of one angle's gradient), the measure a plateau is about.");
                md.AppendLine();
                md.AppendLine($"| model | {opt} | n | angles | first epoch | last epoch | last epoch per angle |");
                md.AppendLine("|---|---|---|---|---|---|---|");
                foreach (var model in results.Select(r => r.Run.Model).Distinct())
                    foreach (var v in values)
                    {
                        var rs = results.Where(r => r.Run.Model == model && r.Run.Is($"{opt}={v}") && r.Final("circuit_grad_norm") is not null).ToList();
                        if (rs.Count > 0)
                            md.AppendLine($"| {model} | {v} | {rs.Count} | {rs[0].CircuitAngles} | {Stat(rs.Select(r => First(r, "circuit_grad_norm")), "G3")} | " +
                                          $"{Stat(rs.Select(r => r.Final("circuit_grad_norm")), "G3")} | {Stat(rs.Select(PerAngleGradient), "G3")} |");
                    }
                md.AppendLine();
                md.AppendLine($"![{opt} gradient]({gpng})");
            }
            md.AppendLine();
        }

        var routers = results.Where(r => r.Route is not null).ToList();
        if (routers.Count > 0)
        {
            var routes = routers.Select(r => r.Route!).ToList();
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

        // Pictures: each generative run's strip of 16 samples (fixed latents), every seed, each row named in the picture.
        var rows = results.Where(r => r.Strip is not null).OrderBy(r => groups.FindIndex(g => g.Key == r.Group)).ThenBy(r => r.Run.Seed)
                          .Select(r => ($"{r.Group}  seed {r.Run.Seed}", r.Strip)).ToList();
        if (rows.Count > 0)
        {
            Imaging.SaveLabelledRows(Path.Combine(dir, "samples.png"), rows, StudySummaries.StripImages);
            md.AppendLine("## Samples");
            md.AppendLine();
            md.AppendLine("16 samples per run from the same fixed latents, every seed of each generative configuration; each row is named in the picture.");
            md.AppendLine();
            md.AppendLine("![samples](samples.png)");
            md.AppendLine();
        }
        var curves = new List<string>();
        foreach (var (key, title) in new[] { ("fid", "FID during training"), ("test_ssim", "test SSIM"), ("loss", "training loss (epoch mean)"), ("g_loss", "generator loss (epoch mean)"), ("d_real", "discriminator's mean D(real)") })
        {
            string png = $"curves-{key.Replace('_', '-')}.png";
            var series = groups.Select(g => (g.Key, (IReadOnlyList<List<(int, double)>>)g.Select(r => r.Epochs.Where(e => e[key] is not null)
                                   .Select(e => (e["epoch"]!.GetValue<int>(), EpochMetrics.Number(e[key]!))).ToList()).ToList()))
                               .Where(s => s.Item2.Any(p => p.Count > 0)).ToList();
            if (series.Count > 0 && Imaging.SaveCurves(Path.Combine(dir, png), series, $"{spec.Name}: {title} per epoch", key))
                curves.Add($"![{key}]({png})");
        }
        if (curves.Count > 0)
        {
            md.AppendLine("## Curves");
            md.AppendLine();
            md.AppendLine("Each configuration's mean over its seeds at every epoch; the shaded band runs from its lowest seed to its highest (n in the legend).");
            md.AppendLine();
            foreach (var c in curves) md.AppendLine(c);
            md.AppendLine();
        }

        md.AppendLine("## Runs");
        md.AppendLine();
        md.AppendLine("| run | seed | FID | test SSIM | s/epoch | trained by | command |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var r in results)
            md.AppendLine($"| [{r.Run.Name}]({Path.GetRelativePath(dir, r.Dir).Replace('\\', '/')}) | {r.Run.Seed} | {Fmt(r.Evaluated("fid"), "F1")} | {Fmt(r.Evaluated("test_ssim"), "F4")} | " +
                          $"{Fmt(r.SecondsPerEpoch, "F1")} ({r.SpeedMeasure}) | " +
                          $"{string.Join(" then ", r.Commits.Select(c => $"`{c}`"))}{(r.Commits.Count > 1 ? " (resumed by another binary)" : "")} | `{r.Run.CommandLine}` |");
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

    /// <summary>The last epoch's circuit gradient norm over √angles: one angle's root-mean-square gradient (null without a circuit).</summary>
    private static double? PerAngleGradient(RunSummary r) => r.CircuitAngles > 0 && r.Final("circuit_grad_norm") is { } g ? g / Math.Sqrt(r.CircuitAngles) : null;

    private static double? First(RunSummary r, string key) => r.Epochs.FirstOrDefault(e => e[key] is not null)?[key] is { } v ? EpochMetrics.Number(v) : null;

    private static double? PerClass(RunSummary r, int c, string key) =>
        r.Eval["per_class"] is JsonArray a && c < a.Count && a[c]?[key] is JsonValue v ? EpochMetrics.Number(v) : null;

    /// <summary>
    /// The original report's claims, each beside what this study measured and a verdict (issue #23). A claim whose runs
    /// the study does not hold says which study measures it. Verdicts are worded by the numbers alone: "reproduced",
    /// "not reproduced", or "not established" where seeds are too few or the difference is within their spread.
    /// </summary>
    private static void WriteClaims(StringBuilder md, List<RunSummary> results, List<PrimaryTest> tests, JsonObject? landscape, IReadOnlyList<SpeedRow>? speed)
    {
        List<RunSummary> Base(string model) => results.Where(r => Comparison.Selects(model, r.Run)).ToList();
        double? Mean(IEnumerable<double?> v) { var x = v.OfType<double>().ToList(); return x.Count == 0 ? null : x.Average(); }
        string F(double? v, string f) => Fmt(v, f);
        var pairs = new[] { ("qvae", "vae-attn"), ("qvae", "vae"), ("qgan", "gan"), ("qgan", "qgan-control") }
                    .Where(p => Base(p.Item1).Count > 0 && Base(p.Item2).Count > 0).ToList();
        var rows = new List<(string Claim, string Measured, string Verdict)>();
        string Few(string q, string c) => Base(q).Count < 2 || Base(c).Count < 2 ? " (one seed a side: indicative only)" : "";

        // 1. Speed: measured in one process on one machine where speed.json is here; else (less fairly) from the runs.
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
        // 2. Convergence.
        foreach (var (q, c) in pairs.Where(p => p.Item2 != "qgan-control" && p.Item2 != "vae"))
        {
            string key = q == "qgan" ? "fid" : "test_ssim";
            double? eq = Mean(Base(q).Select(r => EpochsTo(r, key, lower: key == "fid"))), ec = Mean(Base(c).Select(r => EpochsTo(r, key, lower: key == "fid")));
            if (eq is null || ec is null || ec == 0) continue;
            double ratio = eq.Value / ec.Value;
            rows.Add(($"quantum models need 1.5-2x more epochs ({q} vs {c})", $"epochs to within 10 % of the final {(key == "fid" ? "FID" : "test SSIM")}: {eq:F1} vs {ec:F1} ({ratio:F2}x)",
                      (ratio is >= 1.5 and <= 2 ? "reproduced" : ratio > 2 ? "more than claimed" : "not reproduced") + Few(q, c)));
        }
        // 3. Quality: each pair's main score, with the verdict of the conclusions' test of that pair where the spec compares
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
        // 4. Digits 3, 5 and 8: the quantum model's per-class gain there against its gain on the other digits.
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
        // 5. GAN loss variation.
        if (pairs.Any(p => p == ("qgan", "gan")))
        {
            double? Spread(string model, string k) => Mean(Base(model).Select(r => r.Eval["last_epoch_spread"] is JsonObject o && o[k] is JsonValue v ? (double?)EpochMetrics.Number(v) : null));
            double? qd = Spread("qgan", "d_loss"), gd = Spread("gan", "d_loss"), qg = Spread("qgan", "g_loss"), gg = Spread("gan", "g_loss");
            if (qd is not null && gd is not null && qg is not null && gg is not null)
                rows.Add(("the quantum GAN's losses varied more", $"sd over the last epoch's steps: d_loss {qd:F3} vs {gd:F3}, g_loss {qg:F3} vs {gg:F3} (qgan vs gan)",
                          (qd > gd && qg > gg ? "reproduced" : qd < gd && qg < gg ? "not reproduced: they varied less" : "mixed") + Few("qgan", "gan")));
        }
        // 6. The router.
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
        // A study that measures none of the claims (a study of one question, like discriminator.yaml) gets no claims table:
        // rows saying only where else a claim is measured would be all it held.
        bool measuresAny = rows.Count > 0 || landscape is not null;
        // 7-8. Depth and width: from the ablations.
        int? Value(RunSummary r, string opt) => r.Run.Aliases.Prepend(r.Run.Variation).Where(v => v.StartsWith(opt + "=", StringComparison.Ordinal))
                                                 .Select(v => int.TryParse(v[(opt.Length + 1)..], out int n) ? n : (int?)null).FirstOrDefault(n => n is not null);
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
        var widths = results.Where(r => r.Run.Model == "qvae" && Value(r, "qubits") is not null).ToList();
        if (widths.Count > 0)
        {
            var byWidth = widths.GroupBy(r => Value(r, "qubits")!.Value).OrderBy(g => g.Key).Select(g => (N: g.Key, S: Mean(g.Select(r => (double?)r.SecondsPerEpoch)))).ToList();
            var at8 = byWidth.FirstOrDefault(x => x.N == 8).S; var widest = byWidth.Last();
            rows.Add(("10+ qubits are prohibitive", string.Join(", ", byWidth.Select(x => $"{x.N} qubits {x.S:F0} s/epoch")),
                      at8 is null || widest.N < 10 ? "not established (no run at 10+ qubits)" : widest.S > 10 * at8 ? "reproduced" : $"not reproduced: {widest.S / at8:F1}x the 8-qubit time"));
        }
        else rows.Add(("10+ qubits are prohibitive", "no finished run here varies the qubits", "measured by studies/ablations.yaml (s/epoch against qubits)"));
        if (landscape is not null) rows.AddRange(LandscapeClaims(landscape));
        measuresAny |= layers.Count > 0 || widths.Count > 0;
        if (!measuresAny) return;
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
