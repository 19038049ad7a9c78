using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using QGenEngine.Models;
using QGenEngine.Models.Metrics;
using QGenEngine.Models.Training;
using QGenEngine.Tensors;

namespace QGenEngine.Cli.Commands;

/// <summary>`metrics fid|is|ssim` on any image sets, and `eval --run DIR` for a trained run.</summary>
public static class MetricsCommand
{
    public const string FidNote = Evaluation.FidNote;

    private static IDevice Device(string? d) => DeviceOption.Resolve(d);

    /// <summary>The data set whose classifier scores these sets: theirs where known (they must agree), else MNIST's.</summary>
    public static string DatasetOf(params ImageSets.Set[] sets)
    {
        var known = sets.Select(s => s.Dataset).Where(d => d is not null).Distinct().ToList();
        if (known.Count > 1) throw new CliException($"{sets[0].Description} and {sets[1].Description} are of different data sets ({string.Join(", ", known)}); FID compares sets of one");
        return known.FirstOrDefault() ?? "mnist";
    }

    public static double Fid(IDevice dev, ImageSets.Set a, ImageSets.Set b) =>
        RunEvaluation.Fid(MetricClassifier.Load(dev, DatasetOf(a, b)), dev, a.Pixels, a.Count, b.Pixels, b.Count);

    public static (double Mean, double Std) Is(IDevice dev, ImageSets.Set a) => RunEvaluation.InceptionScore(MetricClassifier.Load(dev, DatasetOf(a)), dev, a.Pixels, a.Count);

    public static Command Build(TextWriter stdout)
    {
        var cmd = new Command("metrics", "FID, IS, SSIM, modes and precision/recall of image sets (mnist:train[:N], mnist:test[:N], fashion:test, an IDX file, a PNG folder, a run directory)");
        var json = new Option<bool>("--json") { Description = "print JSON" };
        var n = new Option<int>("--n") { Description = "images a run directory generates", DefaultValueFactory = _ => 10_000 };
        var device = DeviceOption.Create();

        var real = new Option<string>("--real") { Required = true, Description = "the reference set" };
        var fake = new Option<string>("--fake") { Required = true, Description = "the set to score" };
        var fid = new Command("fid", "Fréchet distance of the metric classifier's features") { real, fake, n, json, device };
        fid.SetAction(p =>
        {
            var dev = Device(p.GetValue(device));
            var a = ImageSets.Load(p.GetValue(real)!, dev, p.GetValue(n)); var b = ImageSets.Load(p.GetValue(fake)!, dev, p.GetValue(n));
            double v = Fid(dev, a, b);
            stdout.WriteLine(p.GetValue(json) ? new JsonObject { ["fid"] = v, ["real"] = a.Description, ["fake"] = b.Description, ["note"] = FidNote }.ToJsonString()
                                              : $"FID {v:F4}  ({a.Description} vs {b.Description})\nnote: {FidNote}");
            return 0;
        });

        var images = new Option<string>("--images") { Required = true, Description = "the set to score" };
        var isCmd = new Command("is", "Inception Score with the metric classifier (10 splits)") { images, n, json, device };
        isCmd.SetAction(p =>
        {
            var dev = Device(p.GetValue(device));
            var a = ImageSets.Load(p.GetValue(images)!, dev, p.GetValue(n));
            var (m, s) = Is(dev, a);
            stdout.WriteLine(p.GetValue(json) ? new JsonObject { ["is"] = m, ["is_std"] = s, ["images"] = a.Description }.ToJsonString()
                                              : $"IS {m:F4} ± {s:F4}  ({a.Description}; MNIST classifier, upper bound 10)");
            return 0;
        });

        var files = new Argument<string[]>("pngs") { Arity = ArgumentArity.ZeroOrMore, Description = "two greyscale PNG files of the same size" };
        var setA = new Option<string?>("--a") { Description = "first set" };
        var setB = new Option<string?>("--b") { Description = "second set (paired image by image)" };
        var ssim = new Command("ssim", "SSIM of two PNGs of any one size, or the mean pairwise SSIM of two sets") { files, setA, setB, n, json, device };
        ssim.SetAction(p =>
        {
            var f = p.GetValue(files) ?? [];
            double v;
            if (f.Length == 2)
            {
                var (a, wa, ha) = ImageSets.ReadPng(f[0]);
                var (b, wb, hb) = ImageSets.ReadPng(f[1]);
                if (wa != wb || ha != hb) throw new CliException($"{f[0]} is {wa}×{ha} pixels but {f[1]} is {wb}×{hb}; SSIM compares images of one size");
                if (wa < 11 || ha < 11) throw new CliException($"{f[0]}: {wa}×{ha} pixels; SSIM's 11×11 Gaussian window needs at least 11×11");
                v = Ssim.Compute(a, b, ha, wa);
            }
            else if (f.Length == 0 && p.GetValue(setA) is { } sa && p.GetValue(setB) is { } sb)
            {
                var dev = Device(p.GetValue(device));
                var a = ImageSets.Load(sa, dev, p.GetValue(n)); var b = ImageSets.Load(sb, dev, p.GetValue(n));
                if (a.Count != b.Count) throw new CliException($"--a has {a.Count} images and --b {b.Count}; SSIM pairs them one to one");
                v = Enumerable.Range(0, a.Count).Sum(i => Ssim.Compute(a.Pixels.AsSpan(i * 784, 784), b.Pixels.AsSpan(i * 784, 784), 28, 28)) / a.Count;
            }
            else throw new CliException("ssim takes two PNG files, or --a SET --b SET");
            stdout.WriteLine(p.GetValue(json) ? new JsonObject { ["ssim"] = v }.ToJsonString() : $"SSIM {v:F6}");
            return 0;
        });

        var modesImages = new Option<string>("--images") { Required = true, Description = "the set to label" };
        var modes = new Command("modes", "Mode coverage: the metric classifier's class histogram, classes covered (≥ 10 % of a uniform share) and KL to uniform")
            { modesImages, n, json, device };
        modes.SetAction(p =>
        {
            var dev = Device(p.GetValue(device));
            var a = ImageSets.Load(p.GetValue(modesImages)!, dev, p.GetValue(n));
            var m = Evaluation.Modes(MetricClassifier.Load(dev, DatasetOf(a)), dev, a.Pixels, a.Count);
            stdout.WriteLine(p.GetValue(json) ? ModesJson(m).ToJsonString()
                : $"modes {m.Modes}/10  KL(histogram || uniform) {m.Kl:F4} nats  ({a.Description})\nhistogram " +
                  string.Join(" ", m.Histogram.Select((h, c) => $"{c}:{h:P1}")));
            return 0;
        });
        var prReal = new Option<string>("--real") { Required = true, Description = "the reference set" };
        var prFake = new Option<string>("--fake") { Required = true, Description = "the set to score" };
        var k = new Option<int>("--k") { Description = "nearest neighbours that make each point's ball (default 5, Naeem et al.)", DefaultValueFactory = _ => Prdc.DefaultK };
        var prdc = new Command("prdc", "Precision and recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020) in the metric classifier's feature space")
            { prReal, prFake, k, n, json, device };
        prdc.SetAction(p =>
        {
            var dev = Device(p.GetValue(device));
            var a = ImageSets.Load(p.GetValue(prReal)!, dev, p.GetValue(n)); var b = ImageSets.Load(p.GetValue(prFake)!, dev, p.GetValue(n));
            int kk = p.GetValue(k);
            if (kk < 1 || kk >= Math.Min(a.Count, b.Count)) throw new CliException($"--k: {kk} must be at least 1 and below both sets' sizes ({a.Count}, {b.Count})");
            var clf = MetricClassifier.Load(dev, DatasetOf(a, b));
            var r = Prdc.Compute(clf.Embed(dev, a.Pixels, a.Count).Features, a.Count, clf.Embed(dev, b.Pixels, b.Count).Features, b.Count, Classifier.FeatureSize, kk);
            stdout.WriteLine(p.GetValue(json)
                ? new JsonObject { ["precision"] = r.Precision, ["recall"] = r.Recall, ["density"] = r.Density, ["coverage"] = r.Coverage, ["k"] = r.K, ["real"] = a.Description, ["fake"] = b.Description }.ToJsonString()
                : $"precision {r.Precision:F4}  recall {r.Recall:F4}  density {r.Density:F4}  coverage {r.Coverage:F4}  (k = {r.K}; {a.Description} vs {b.Description})");
            return 0;
        });
        cmd.Subcommands.Add(fid); cmd.Subcommands.Add(isCmd); cmd.Subcommands.Add(prdc); cmd.Subcommands.Add(ssim); cmd.Subcommands.Add(modes);
        return cmd;
    }

    /// <summary>What scores a data set's samples: its metric classifier, named with the data set.</summary>
    public static string ScoredBy(string dataset) => $"models/{MetricClassifier.FileFor(dataset)} ({(dataset == "fashion" ? "Fashion-MNIST" : "MNIST")} metric classifier)";

    public static JsonObject ModesJson(ModeStats m) => new()
    {
        ["modes"] = m.Modes, ["kl"] = m.Kl, ["histogram"] = new JsonArray(m.Histogram.Select(h => (JsonNode)h).ToArray()),
    };

    /// <summary>
    /// `eval --run DIR`: what applies to the run's model - FID, IS and modes of N samples against the test set and
    /// the sampling speed (generative models), reconstruction SSIM and BCE on the test set (the VAE family), test
    /// accuracy (the classifier) - into DIR/eval.json and a line in DIR/report.md.
    /// </summary>
    public static Command BuildEval(TextWriter stdout)
    {
        var run = new Option<string>("--run") { Required = true, Description = "a run directory made by `train`" };
        var n = new Option<int>("--n") { Description = "generated images scored", DefaultValueFactory = _ => 10_000 };
        var noiseModel = SampleCommand.NoiseModelOption();
        var counts = new Option<string?>("--counts") { Description = "counts measured on a device for the programs of `qasm --run RUN --images SET` (qvae): reconstructions of those images from them → DIR/eval-counts-<file>.json" };
        var dialect = new Option<string?>("--dialect") { Description = "with --counts: the bit order of the device's bitstrings, qiskit (c[n-1] leftmost) | braket (qubit 0 leftmost)" };
        var images = new Option<string?>("--images") { Description = "with --counts: the image set the programs were exported for (the same SET as `qasm --images`)" };
        var device = DeviceOption.Create();
        var cmd = new Command("eval", "Score a trained run by what its model can do: FID, IS and modes of samples; reconstruction SSIM and BCE; accuracy") { run, n, noiseModel, counts, dialect, images, device };
        cmd.SetAction(p =>
        {
            var dev = Device(p.GetValue(device));
            string dir = p.GetValue(run)!;
            int count = p.GetValue(n);
            if (count < 10) throw new CliException($"--n: {count} must be ≥ 10");
            if (p.GetValue(counts) is { } countsFile)
            {
                if (p.GetValue(noiseModel) is not null) throw new CliException("--counts and --noise-model: measured counts already hold the device's noise; give one");
                return EvalCounts(stdout, dir, countsFile, p.GetValue(dialect), p.GetValue(images), dev);
            }
            if (p.GetValue(dialect) is not null || p.GetValue(images) is not null) throw new CliException("--dialect / --images: only with --counts");
            // Under a device's noise model the scores go to eval-noise-<model file>.json, beside the noiseless eval.json.
            string? nmFile = p.GetValue(noiseModel);
            var (model, o) = SampleCommand.LoadRun(dir, dev, nmFile);
            string evalFile = nmFile is null ? "eval.json" : $"eval-noise-{Path.GetFileNameWithoutExtension(nmFile)}.json";
            var test = ImageSets.Load(o.Dataset == "fashion" ? "fashion:test" : "mnist:test", dev);
            var result = new JsonObject
            {
                ["model"] = o.Model, ["can"] = new JsonArray(ModelEntry.Capabilities(model).Select(c => (JsonNode)c).ToArray()),
                ["parameters"] = model.ParameterCount,
                ["circuit_angles"] = model.NamedModules().Select(m => m.Module).OfType<QGenEngine.Quantum.QuantumLayer>().Sum(l => l.Weight.Numel),
                ["dataset"] = o.Dataset, ["scored_by"] = ScoredBy(o.Dataset),
            };
            if (CircuitSettings.NoiseModelOf(o)?.Device is { } dn) { result["noise_model"] = o.Get(CircuitSettings.NoiseModelFile); result["noise_model_name"] = dn.Name; }
            var scores = RunEvaluation.Evaluate(model, o, dev, dir, test.Pixels, test.Count, test.Labels, count);
            var line = new List<string>();
            if (scores.Samples is { } q)
            {
                var sc = q.Scores;
                double genRate = scores.SamplingImagesPerSecond;
                result["fid"] = sc.Fid; result["is"] = sc.Is; result["is_std"] = sc.IsStd;
                result["modes"] = sc.Modes.Modes; result["modes_kl"] = sc.Modes.Kl;
                result["class_histogram"] = new JsonArray(sc.Modes.Histogram.Select(h => (JsonNode)h).ToArray());
                result["samples"] = count; result["sampling_images_per_s"] = genRate; result["fid_note"] = FidNote;
                result["fid_bootstrap_sd"] = q.FidBootstrapSd; result["fid_bootstraps"] = q.Bootstraps;
                result["precision"] = q.Prdc.Precision; result["recall"] = q.Prdc.Recall; result["density"] = q.Prdc.Density; result["coverage"] = q.Prdc.Coverage;
                result["prdc_k"] = q.Prdc.K;
                result["per_class"] = new JsonArray(q.PerClass.Select(c => (JsonNode)new JsonObject
                    { ["class"] = c.Class, ["share"] = c.Share, ["count"] = c.Count, ["fid"] = c.Fid }).ToArray());
                line.Add($"FID {sc.Fid:F3} ± {q.FidBootstrapSd:F3} (bootstrap sd; {ScoredBy(o.Dataset)} features), IS {sc.Is:F3} ± {sc.IsStd:F3}, modes {sc.Modes.Modes}/10 (KL {sc.Modes.Kl:F3}), " +
                         $"precision {q.Prdc.Precision:F3} recall {q.Prdc.Recall:F3} density {q.Prdc.Density:F3} coverage {q.Prdc.Coverage:F3}, sampling {genRate:F0} images/s");
            }
            if (scores.Reconstruction is { } rq)
            {
                result["test_ssim"] = rq.Ssim; result["test_bce"] = rq.Bce;
                if (rq.SsimPerClass is { } perClass) result["test_ssim_per_class"] = new JsonArray(perClass.Select(v => (JsonNode?)v).ToArray());
                line.Add($"test SSIM {rq.Ssim:F4}, test BCE {rq.Bce:F2}");
            }
            if (scores.Accuracy is { } acc)
            {
                result["test_accuracy"] = acc;
                line.Add($"test accuracy {acc:P2}");
            }
            // Training stability: the spread (standard deviation) of every per-step scalar over the last epoch, from steps.csv.
            if (scores.LastEpoch is { } spread)
            {
                result["last_epoch_spread"] = new JsonObject(spread.Scalars.Select(s => KeyValuePair.Create(s.Name, (JsonNode?)s.Sd)));
                result["last_epoch_steps"] = spread.Steps;
                var shown = scores.Stability.Where(s => spread.Scalars.Any(x => x.Name == s)).ToList();
                if (shown.Count > 0)
                    line.Add($"last epoch's spread (std over {spread.Steps} steps): {string.Join(", ", shown.Select(s => $"{s} {spread[s]:F3}"))}");
            }
            QGenEngine.Autograd.AtomicFile.WriteText(Path.Combine(dir, evalFile), result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            string text = $"eval ({o.Model}{(nmFile is null ? "" : $", circuits under the noise model {nmFile}; in {evalFile}")}): " + string.Join("; ", line);
            File.AppendAllText(Path.Combine(dir, "report.md"), $"- {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC {text}\n");
            stdout.WriteLine(text);
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// `eval --run QVAE --counts C.json --dialect D --images SET` (issue #26): the images' reconstructions with the attention
    /// circuit's readout made from a device's counts, beside the simulator's exact ones for the same images →
    /// DIR/eval-counts-<file>.json (eval.json untouched) and a line in DIR/report.md.
    /// </summary>
    private static int EvalCounts(TextWriter stdout, string dir, string countsFile, string? dialectName, string? imageSet, IDevice dev)
    {
        if (dialectName is null) throw new CliException("--dialect: counts need their device's bit order, qiskit or braket");
        if (imageSet is null) throw new CliException("--images: the image set the programs were exported for (`qasm --run RUN --images SET`)");
        QGenEngine.Quantum.QasmDialect d;
        try { d = QGenEngine.Quantum.Qasm.ParseDialect(dialectName); }
        catch (ArgumentException e) { throw new CliException($"--dialect: {e.Message}"); }
        var (model, o) = ModelCatalog.LoadRun(dir, dev);
        if (model is not ICircuitReconstructor { InputCircuit: { } layer } cr)
            throw new CliException($"{dir}: a '{o.Model}' run has no circuit fed by images; --counts here is for a qvae's attention (a qgan's generator: `sample --counts`)");
        var set = ImageSets.Load(imageSet, dev);
        var probs = QGenEngine.Quantum.MeasuredCounts.ReadProbabilities(countsFile, set.Count, layer.Circuit.Qubits, d);
        var (bce, ssim) = Evaluation.ReconstructionScoresFromProbabilities(cr, dev, set.Pixels, probs, set.Count);
        var (simBce, simSsim) = Evaluation.ReconstructionScoresPerImage(cr, dev, set.Pixels, set.Count);
        var result = new JsonObject
        {
            ["model"] = o.Model, ["part"] = "attention", ["counts"] = Path.GetFullPath(countsFile), ["dialect"] = d.ToString().ToLowerInvariant(),
            ["images"] = imageSet, ["rows"] = set.Count,
            ["test_ssim"] = ssim.Average(), ["test_bce"] = bce.Average(),
            ["simulator_test_ssim"] = simSsim.Average(), ["simulator_test_bce"] = simBce.Average(),
            ["note"] = "test_ssim / test_bce: reconstructions with the attention readout made from the measured counts; simulator_*: the same images with the simulator's exact readout",
        };
        string file = $"eval-counts-{Path.GetFileNameWithoutExtension(countsFile)}.json";
        QGenEngine.Autograd.AtomicFile.WriteText(Path.Combine(dir, file), result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        string text = $"eval ({o.Model}, attention from the counts in {countsFile}, {set.Count} images; in {file}): test SSIM {ssim.Average():F4} (simulator {simSsim.Average():F4}), " +
                      $"test BCE {bce.Average():F2} (simulator {simBce.Average():F2})";
        File.AppendAllText(Path.Combine(dir, "report.md"), $"- {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC {text}\n");
        stdout.WriteLine(text);
        return 0;
    }

    /// <summary>
    /// `probe --run DIR`: a GAN run's discriminator on held-out test digits and fresh samples, and a fresh discriminator
    /// trained alone against the frozen generator (DiscriminatorProbe) - is a discriminator at chance an equilibrium?
    /// Writes DIR/probe.json.
    /// </summary>
    public static Command BuildProbe(TextWriter stdout)
    {
        var run = new Option<string>("--run") { Required = true, Description = "a gan, qgan, qgan-control or gan-uniform run directory" };
        var steps = new Option<int>("--steps") { Description = "steps of the fresh discriminator (default 1500)", DefaultValueFactory = _ => 1500 };
        var heldOut = new Option<int>("--n") { Description = "held-out test digits and fresh samples scored (default 2000)", DefaultValueFactory = _ => 2000 };
        var seed = new Option<ulong>("--seed") { Description = "seed of the fresh discriminator, its batches and the samples (default 1)", DefaultValueFactory = _ => 1 };
        var device = DeviceOption.Create();
        var cmd = new Command("probe", "Is a GAN's discriminator at chance because its generator is that good? Its own accuracy on held-out data, and a fresh discriminator's trained against the frozen generator")
            { run, steps, heldOut, seed, device };
        cmd.SetAction(p =>
        {
            var dev = Device(p.GetValue(device));
            string dir = p.GetValue(run)!;
            if (p.GetValue(steps) < 1) throw new CliException($"--steps: {p.GetValue(steps)} must be ≥ 1");
            if (p.GetValue(heldOut) < 10) throw new CliException($"--n: {p.GetValue(heldOut)} must be ≥ 10");
            var (model, o) = ModelCatalog.LoadRun(dir, dev);
            if (model is not Gan gan) throw new CliException($"{dir}: a {o.Model} run; the probe needs a GAN's discriminator (gan, qgan, qgan-control, gan-uniform)");
            var (ddir, verify) = QGenEngine.Models.Data.DataSets.Resolve(o.Dataset, o.DataDir);
            var train = QGenEngine.Models.Data.DataSets.Load(ddir, "train", verify);
            var test = QGenEngine.Models.Data.DataSets.Load(ddir, "t10k", verify);
            stdout.WriteLine($"{o.Model} ({dir}): a fresh discriminator against the frozen generator, {p.GetValue(steps)} steps of {o.BatchSize}, Adam {o.Lr} beta1 {o.Beta1}; " +
                             $"held out: {Math.Min(p.GetValue(heldOut), test.Count)} test digits and as many fresh samples");
            string Row(string who, DiscriminatorView v) => $"{who,-22} step {v.Step,5}  accuracy {v.Accuracy:P1}  D(real) {v.DReal:F3}  D(fake) {v.DFake:F3}";
            var r = DiscriminatorProbe.Run(gan, dev, train, test, p.GetValue(steps), o.BatchSize, o.Lr, o.Beta1, p.GetValue(seed), p.GetValue(heldOut),
                                           v => stdout.WriteLine(Row("fresh discriminator", v)));
            stdout.WriteLine(Row("the run's discriminator", r.Trained));
            JsonObject J(DiscriminatorView v) => new() { ["step"] = v.Step, ["accuracy"] = v.Accuracy, ["d_real"] = v.DReal, ["d_fake"] = v.DFake };
            var json = new JsonObject
            {
                ["model"] = o.Model, ["trained"] = J(r.Trained), ["fresh"] = new JsonArray(r.Fresh.Select(v => (JsonNode)J(v)).ToArray()),
                ["steps"] = r.Steps, ["batch_size"] = r.BatchSize, ["held_out"] = r.HeldOut, ["seed"] = p.GetValue(seed).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["epochs_trained"] = RunLogs.ReadMetrics(dir).Count,
            };
            QGenEngine.Autograd.AtomicFile.WriteText(Path.Combine(dir, "probe.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return cmd;
    }
}
