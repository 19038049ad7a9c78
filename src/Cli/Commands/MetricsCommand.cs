using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using QGenEngine.Kernels;
using QGenEngine.Models.Metrics;
using QGenEngine.Models.Training;
using QGenEngine.Tensors;

namespace QGenEngine.Cli.Commands;

/// <summary>`metrics fid|is|ssim` on any image sets, and `eval --run DIR` for a trained run.</summary>
public static class MetricsCommand
{
    public const string FidNote = "FID here uses the MNIST metric classifier's 128-d features, not Inception's: not comparable with Inception-FID figures";

    private static IDevice Device(string? d) => DeviceOption.Resolve(d);

    public static double Fid(IDevice dev, ImageSets.Set a, ImageSets.Set b)
    {
        var clf = MetricClassifier.Load(dev);
        var fa = clf.Embed(dev, a.Pixels, a.Count).Features; var fb = clf.Embed(dev, b.Pixels, b.Count).Features;
        return Frechet.Distance(Frechet.Fit(fa, a.Count, 128), Frechet.Fit(fb, b.Count, 128));
    }

    public static (double Mean, double Std) Is(IDevice dev, ImageSets.Set a)
    {
        var clf = MetricClassifier.Load(dev);
        return InceptionScore.Compute(clf.Embed(dev, a.Pixels, a.Count).Probs, a.Count, 10);
    }

    public static Command Build(TextWriter stdout)
    {
        var cmd = new Command("metrics", "FID, IS and SSIM of image sets (mnist:train[:N], mnist:test[:N], fashion:test, an IDX file, a PNG folder, a run directory)");
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

        var files = new Argument<string[]>("pngs") { Arity = ArgumentArity.ZeroOrMore, Description = "two PNG files" };
        var setA = new Option<string?>("--a") { Description = "first set" };
        var setB = new Option<string?>("--b") { Description = "second set (paired image by image)" };
        var ssim = new Command("ssim", "SSIM of two PNGs, or the mean pairwise SSIM of two sets") { files, setA, setB, n, json, device };
        ssim.SetAction(p =>
        {
            var f = p.GetValue(files) ?? [];
            double v;
            if (f.Length == 2)
            {
                var a = new float[784]; var b = new float[784];
                ImageSets.ReadPng(f[0], a); ImageSets.ReadPng(f[1], b);
                v = Ssim.Compute(a, b, 28, 28);
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
        cmd.Subcommands.Add(fid); cmd.Subcommands.Add(isCmd); cmd.Subcommands.Add(ssim);
        return cmd;
    }

    /// <summary>`eval --run DIR`: FID and IS of N samples against the test set, reconstruction SSIM/BCE, sampling speed → eval.json and a line in report.md.</summary>
    public static Command BuildEval(TextWriter stdout)
    {
        var run = new Option<string>("--run") { Required = true, Description = "a run directory made by `train`" };
        var n = new Option<int>("--n") { Description = "generated images scored", DefaultValueFactory = _ => 10_000 };
        var device = DeviceOption.Create();
        var cmd = new Command("eval", "Score a trained run: FID and IS of samples, reconstruction SSIM and BCE") { run, n, device };
        cmd.SetAction(p =>
        {
            var dev = Device(p.GetValue(device));
            string dir = p.GetValue(run)!;
            int count = p.GetValue(n);
            if (count < 10) throw new CliException($"--n: {count} must be ≥ 10");
            var (model, o) = ImageSets.LoadRun(dir, dev);
            var test = ImageSets.Load("mnist:test", dev);
            var sw = Stopwatch.StartNew();
            var samples = VaeTrainer.Sample(model, dev, count, 7);
            double genRate = count / sw.Elapsed.TotalSeconds;
            var fake = new ImageSets.Set(samples, count, $"{count} samples");
            double fid = Fid(dev, test, fake);
            var (isM, isS) = Is(dev, fake);
            var (bce, ssim) = Reconstruction(model, dev, test);
            var result = new JsonObject
            {
                ["model"] = o.Model, ["fid"] = fid, ["is"] = isM, ["is_std"] = isS, ["test_ssim"] = ssim, ["test_bce"] = bce,
                ["samples"] = count, ["sampling_images_per_s"] = genRate, ["fid_note"] = FidNote,
            };
            QGenEngine.Autograd.AtomicFile.WriteText(Path.Combine(dir, "eval.json"), result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            string line = $"eval: FID {fid:F3} (MNIST-classifier features), IS {isM:F3} ± {isS:F3}, test SSIM {ssim:F4}, test BCE {bce:F2}, sampling {genRate:F0} images/s";
            File.AppendAllText(Path.Combine(dir, "report.md"), $"- {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC {line}\n");
            stdout.WriteLine(line);
            return 0;
        });
        return cmd;
    }

    private static (double Bce, double Ssim) Reconstruction(QGenEngine.Models.Vae model, IDevice dev, ImageSets.Set test)
    {
        model.Eval();
        double bce = 0, ssim = 0;
        using var _ = QGenEngine.Autograd.Graph.NoGrad();
        var recon = new float[500 * 784];
        for (int s = 0; s < test.Count; s += 500)
        {
            int m = Math.Min(500, test.Count - s);
            using var scope = TensorScope.Begin();
            var x = Tensor.FromArray(dev, test.Pixels.AsSpan(s * 784, m * 784), m, 1, 28, 28);
            var logits = model.Decode(model.Encode(x).Mu);
            bce += QGenEngine.Autograd.Ops.BceWithLogits(logits, x, QGenEngine.Autograd.Reduction.Sum).Item();
            QGenEngine.Autograd.Ops.Sigmoid(logits).CopyTo(recon.AsSpan(0, m * 784));
            for (int i = 0; i < m; i++) ssim += Ssim.Compute(test.Pixels.AsSpan((s + i) * 784, 784), recon.AsSpan(i * 784, 784), 28, 28);
        }
        return (bce / test.Count, ssim / test.Count);
    }
}
