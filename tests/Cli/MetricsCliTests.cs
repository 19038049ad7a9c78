using QGenEngine.Studies;
using QGenEngine.Models.Metrics;
using System.Text.Json.Nodes;
using QGenEngine.Kernels;
using QGenEngine.Models.Data;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Cli;

/// <summary>The metric classifier's committed weights and the metrics commands on real MNIST sets.</summary>
[TestFixture]
public class MetricsCliTests : TempDirTest
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static double Json(string stdout, string key) => JsonNode.Parse(stdout)![key]!.GetValue<double>();

    private static void RequireFashion()
    {
        if (!Directory.Exists(DataSets.FashionDir)) Assert.Ignore($"{DataSets.FashionDir} is missing: apt-get install dataset-fashion-mnist");
    }

    [Test]
    public void The_committed_Fashion_classifier_reaches_90_percent_on_its_test_set()
    {
        RequireFashion();
        var (dir, verify) = DataSets.Resolve("fashion", null);
        double acc = MetricClassifier.Load(Backends.Cpu, "fashion").Accuracy(DataSets.Load(dir, "t10k", verify));
        TestContext.Out.WriteLine($"Fashion-MNIST test accuracy {acc:P2}");
        Assert.That(acc, Is.GreaterThanOrEqualTo(0.90));
    }

    [Test]
    public void Metrics_score_a_set_with_its_own_data_sets_classifier()
    {
        RequireFashion();
        // Fashion test images under the Fashion classifier look like Fashion: ten classes, a high IS; MNIST's classifier would not say so.
        var (code, o, e) = Run("metrics", "is", "--images", "fashion:test:1000", "--json");
        Assert.That(code, Is.Zero, e);
        Assert.That(Json(o, "is"), Is.GreaterThan(6));
        var (cm, om, em) = Run("metrics", "modes", "--images", "fashion:test:1000", "--json");
        Assert.That(cm, Is.Zero, em);
        Assert.That(Json(om, "modes"), Is.EqualTo(10));
        var (cf, _, ef) = Run("metrics", "fid", "--real", "fashion:test:100", "--fake", "mnist:test:100");
        Assert.That(cf, Is.EqualTo(2));
        Assert.That(ef, Does.Contain("different data sets"));
        Assert.Throws<ArgumentException>(() => MetricClassifier.FileFor("cifar"));
    }

    [Test]
    public void The_committed_classifier_reaches_99_percent_on_the_test_set()
    {
        var dev = Backends.Cpu;
        var (dir, verify) = DataSets.Resolve("mnist", null);
        double acc = MetricClassifier.Load(dev).Accuracy(DataSets.Load(dir, "t10k", verify));
        TestContext.Out.WriteLine($"test accuracy {acc:P2}");
        Assert.That(acc, Is.GreaterThanOrEqualTo(0.99));
    }

    [Test]
    public void Fid_is_small_between_mnist_splits_and_large_against_noise()
    {
        var (code, stdout, err) = Run("metrics", "fid", "--real", "mnist:test", "--fake", "mnist:train:10000", "--json");
        Assert.That(code, Is.Zero, err);
        double near = Json(stdout, "fid");
        Assert.That(JsonNode.Parse(stdout)!["note"]!.GetValue<string>(), Does.Contain("not Inception"));
        // 1000 images of uniform noise as an IDX file
        var noise = Path.Combine(Dir, "noise-idx3-ubyte");
        var r = new Random(1);
        var bytes = new byte[16 + 1000 * 784];
        bytes[2] = 8; bytes[3] = 3; bytes[6] = 0x03; bytes[7] = 0xE8; bytes[11] = 28; bytes[15] = 28;
        for (int i = 16; i < bytes.Length; i++) bytes[i] = (byte)r.Next(256);
        File.WriteAllBytes(noise, bytes);
        (code, stdout, err) = Run("metrics", "fid", "--real", "mnist:test", "--fake", noise, "--json");
        Assert.That(code, Is.Zero, err);
        double far = Json(stdout, "fid");
        TestContext.Out.WriteLine($"FID(test, train:10000) = {near:F4}; FID(test, uniform noise) = {far:F2}");
        // The scale is the classifier's (ReLU features of magnitude ~1-10), not Inception's: "small" is relative.
        Assert.That(near, Is.LessThan(10.0));
        Assert.That(far, Is.GreaterThan(100 * near));
    }

    [Test]
    public void The_test_set_scores_an_inception_score_close_to_ten()
    {
        var (code, stdout, err) = Run("metrics", "is", "--images", "mnist:test", "--json");
        Assert.That(code, Is.Zero, err);
        TestContext.Out.WriteLine(stdout);
        Assert.That(Json(stdout, "is"), Is.InRange(9.5, 10.0));
        Assert.That(Json(stdout, "is_std"), Is.LessThan(0.2));
    }

    [Test]
    public void Ssim_of_two_pngs_and_of_two_sets()
    {
        var a = Path.Combine(Dir, "a"); Directory.CreateDirectory(a);
        var (dir, _) = DataSets.Resolve("mnist", null);
        var test = DataSets.Load(dir, "t10k", false);
        for (int i = 0; i < 10; i++) Imaging.SaveImage(Path.Combine(a, $"{i}.png"), test.Image(i));
        var (code, stdout, err) = Run("metrics", "ssim", Path.Combine(a, "0.png"), Path.Combine(a, "1.png"), "--json");
        Assert.That(code, Is.Zero, err);
        Assert.That(Json(stdout, "ssim"), Is.EqualTo(QGenEngine.Models.Metrics.Ssim.Compute(test.Image(0), test.Image(1), 28, 28)).Within(0.01), "8-bit PNGs of two digits");
        Assert.That(Run("metrics", "ssim", Path.Combine(a, "2.png"), Path.Combine(a, "2.png"), "--json").Out, Does.Contain("\"ssim\":1"));
        var (ic, iout, ierr) = Run("metrics", "is", "--images", a, "--json");
        Assert.That(ic, Is.Zero, ierr);
        Assert.That(Json(iout, "is"), Is.EqualTo(1).Within(1e-9), "ten images in ten splits: one per split, so p(y) = p(y|x) and IS = 1 by definition");
        Imaging.SaveGrid(Path.Combine(Dir, "grid.png"), test.Image(0).ToArray(), 1, 1, scale: 1);
        (code, _, err) = Run("metrics", "ssim", Path.Combine(Dir, "grid.png"), Path.Combine(a, "1.png"));
        Assert.That(code, Is.EqualTo(2), "a 32×32 PNG against a 28×28 one is refused");
        Assert.That(err, Does.Contain("32×32").And.Contain("28×28"));
        var (c2, out2, e2) = Run("metrics", "ssim", "--a", "mnist:test:50", "--b", "mnist:test:50", "--json");
        Assert.That(c2, Is.Zero, e2);
        Assert.That(Json(out2, "ssim"), Is.EqualTo(1).Within(1e-9));
        Assert.That(Run("metrics", "fid", "--real", "mnist:valid", "--fake", "mnist:test").Err, Does.Contain("unknown split 'valid'"));
        Assert.That(Run("metrics", "is", "--images", Path.Combine(Dir, "nothing-here")).Err, Does.Contain("not an image set"));
    }

    [Test]
    public void Eval_scores_a_run_into_eval_json_and_its_report()
    {
        var run = Path.Combine(Dir, "run");
        Assert.That(Run("train", "vae", "--epochs", "1", "--limit", "256", "--eval-images", "16", "--out", run).Code, Is.Zero);
        var (code, stdout, err) = Run("eval", "--run", run, "--n", "500");
        Assert.That(code, Is.Zero, err);
        Assert.That(stdout, Does.Contain("FID").And.Contain("models/classifier.safetensors (MNIST metric classifier) features"), "the classifier that scored it, named");
        var e = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval.json")))!;
        foreach (var k in new[] { "fid", "is", "is_std", "test_ssim", "test_bce", "sampling_images_per_s", "fid_bootstrap_sd", "precision", "recall", "density", "coverage" })
            Assert.That(double.IsFinite(e[k]!.GetValue<double>()), k);
        Assert.That(e["fid_bootstrap_sd"]!.GetValue<double>(), Is.GreaterThan(0), "500 resampled samples give FID a spread");
        Assert.That(e["per_class"]!.AsArray(), Has.Count.EqualTo(10));
        Assert.That(e["per_class"]!.AsArray().Sum(c => c!["count"]!.GetValue<int>()), Is.EqualTo(500), "every sample in one class");
        Assert.That(e["scored_by"]!.GetValue<string>(), Is.EqualTo("models/classifier.safetensors (MNIST metric classifier)"));
        Assert.That(e["parameters"]!.GetValue<long>(), Is.EqualTo(3_499_585));
        Assert.That(File.ReadAllText(Path.Combine(run, "report.md")), Does.Contain("eval (vae): FID"));
    }
}
