using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using QGenEngine.Models.Metrics;
using QGenEngine.Models.Training;

namespace QGenEngine.Studies;

// `study report`'s tables and pictures of the runs, one method a section of REPORT.md, in the report's order.
public static partial class StudyReport
{
    /// <summary>The model table: parameters, circuit angles and speed per configuration.</summary>
    private static void WriteModels(StringBuilder md, List<IGrouping<string, RunSummary>> groups)
    {
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
    }

    /// <summary>FID (with its interval and sampling noise), IS, modes, test SSIM and BCE per configuration.</summary>
    private static void WriteQuality(StringBuilder md, List<IGrouping<string, RunSummary>> groups)
    {
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
    }

    /// <summary>Precision, recall, density and coverage per configuration, where the runs were scored for them.</summary>
    private static void WriteFidelityAndDiversity(StringBuilder md, List<IGrouping<string, RunSummary>> groups)
    {
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
    }

    /// <summary>The epochs each configuration took to come within 10 % of its final score.</summary>
    private static void WriteConvergence(StringBuilder md, List<IGrouping<string, RunSummary>> groups)
    {
        md.AppendLine("## Convergence");
        md.AppendLine();
        md.AppendLine("The first epoch whose score is within 10 % of the run's last (FID during training; test SSIM for reconstructions), mean over seeds.");
        md.AppendLine();
        md.AppendLine("| configuration | epochs to FID ≤ 1.1 × final | epochs to SSIM ≥ 0.9 × final |");
        md.AppendLine("|---|---|---|");
        foreach (var g in groups)
            md.AppendLine($"| {g.Key} | {Stat(g.Select(r => EpochsTo(r, "fid", lower: true)), "F1")} | {Stat(g.Select(r => EpochsTo(r, "test_ssim", lower: false)), "F1")} |");
        md.AppendLine();
    }

    /// <summary>Each class's share of the samples and its FID against that class's test images.</summary>
    private static void WriteGenerationPerClass(StringBuilder md, List<IGrouping<string, RunSummary>> groups)
    {
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
    }

    /// <summary>A GAN's discriminator means and how much its losses moved over the last epoch.</summary>
    private static void WriteStability(StringBuilder md, List<IGrouping<string, RunSummary>> groups)
    {
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
    }

    /// <summary>`probe`'s findings on the finished GANs (own against fresh discriminator) and the reading they give.</summary>
    private static void WriteDiscriminatorProbes(StringBuilder md, List<IGrouping<string, RunSummary>> groups)
    {
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
    }

    /// <summary>Reconstruction SSIM per class.</summary>
    private static void WriteSsimPerClass(StringBuilder md, List<IGrouping<string, RunSummary>> groups)
    {
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
    }

    /// <summary>One table and plot per varied option, and the circuit's gradient norm against it.</summary>
    private static void WriteAblations(StringBuilder md, StudySpec spec, List<RunSummary> results, string dir)
    {
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
    }

    /// <summary>`route`'s five policies with each router run.</summary>
    private static void WriteRouter(StringBuilder md, List<RunSummary> results)
    {
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
    }

    /// <summary>Every generative run's strip of samples in one picture, each row named in it.</summary>
    private static void WriteSamples(StringBuilder md, List<RunSummary> results, List<IGrouping<string, RunSummary>> groups, string dir)
    {
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
    }

    /// <summary>The per-epoch curves of every configuration (mean over seeds, band from lowest to highest).</summary>
    private static void WriteCurves(StringBuilder md, StudySpec spec, List<IGrouping<string, RunSummary>> groups, string dir)
    {
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
    }

    /// <summary>Every run with its scores, speed, the commits that trained it and its command.</summary>
    private static void WriteRuns(StringBuilder md, List<RunSummary> results, string dir)
    {
        md.AppendLine("## Runs");
        md.AppendLine();
        md.AppendLine("| run | seed | FID | test SSIM | s/epoch | trained by | command |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var r in results)
            md.AppendLine($"| [{r.Run.Name}]({Path.GetRelativePath(dir, r.Dir).Replace('\\', '/')}) | {r.Run.Seed} | {Fmt(r.Evaluated("fid"), "F1")} | {Fmt(r.Evaluated("test_ssim"), "F4")} | " +
                          $"{Fmt(r.SecondsPerEpoch, "F1")} ({r.SpeedMeasure}) | " +
                          $"{string.Join(" then ", r.Commits.Select(c => $"`{c}`"))}{(r.Commits.Count > 1 ? " (resumed by another binary)" : "")} | `{r.Run.CommandLine}` |");
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
}
