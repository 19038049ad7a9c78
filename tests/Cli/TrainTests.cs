using System.Text.Json.Nodes;
using QGenEngine.Autograd;
using QGenEngine.Kernels;
using QGenEngine.Models;
using SkiaSharp;

using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Cli;

/// <summary>The main job end to end: `train qvae` on the embedded MNIST, its run directory, resume, sample, errors.</summary>
[TestFixture]
public class TrainTests : TempDirTest
{

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [TestCase("qvae", "--qubits", "6", "--encoding amplitude: h's 256 units are the amplitudes of 8 qubits, not 6")]
    [TestCase("vae", "--latent", "8", "train vae: --encoding is not one of its options (it is qvae's)")]
    [TestCase("qvae", "--encoding", "basis", "--encoding: 'basis'; expected angle or amplitude")]
    public void Bad_encodings_give_one_line(string model, string opt, string value, string expected)
    {
        string[] args = value == "basis" ? ["train", model, opt, value, "--dry-run"] : ["train", model, "--encoding", "amplitude", opt, value, "--dry-run"];
        var (code, o, e) = Run(args);
        Assert.That(code, Is.EqualTo(2), o + e);
        Assert.That(e.Trim(), Does.Contain(expected));
        Assert.That(e.Trim().Split('\n'), Has.Length.EqualTo(1));
    }

    [Test]
    public void Qvae_trains_with_amplitude_encoding()
    {
        string dir = Path.Combine(Dir, "amp");
        var (code, o, e) = Run("train", "qvae", "--encoding", "amplitude", "--epochs", "1", "--limit", "64", "--eval-images", "10", "--fid-every", "0", "--out", dir);
        Assert.That(code, Is.Zero, o + e);
        Assert.That(QGenEngine.Models.ModelCatalog.ReadOptions(dir).Get(QGenEngine.Models.VaeSettings.Encoding), Is.EqualTo("amplitude"));
        Assert.That(o, Does.Contain("(48 circuit angles)"));
        var (m, _) = QGenEngine.Models.ModelCatalog.LoadRun(dir, QGenEngine.Kernels.Backends.Cpu);
        Assert.That(m.NamedParameters().Select(p => p.Name), Does.Not.Contain("attn.proj.weight"));
    }

    private static (int W, int H) Png(string path)
    {
        Assert.That(File.Exists(path), path);
        var head = File.ReadAllBytes(path)[..8];
        Assert.That(head, Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), $"{path} is a PNG");
        using var bmp = SKBitmap.Decode(path);
        Assert.That(bmp, Is.Not.Null, $"{path} decodes");
        return (bmp.Width, bmp.Height);
    }

    [Test]
    public void Train_qvae_for_one_epoch_writes_every_artifact()
    {
        var run = Path.Combine(Dir, "run");
        var (code, stdout, err) = Run("train", "qvae", "--epochs", "1", "--limit", "256", "--eval-images", "64", "--out", run);
        Assert.That(code, Is.Zero, err + stdout);
        Assert.That(stdout, Does.Contain("epoch 1/1").And.Contain("test ssim"));
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!;
        Assert.That(cfg["model"]!.GetValue<string>(), Is.EqualTo("qvae"));
        Assert.That(cfg["batch_size"]!.GetValue<int>(), Is.EqualTo(32), "MODELS.md: qvae trains at batch 32");
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.That(lines, Has.Length.EqualTo(1));
        var m = JsonNode.Parse(lines[0])!;
        foreach (var k in new[] { "epoch", "loss", "bce", "kl", "test_bce", "test_ssim", "seconds", "samples_per_s", "cpu_seconds" })
            Assert.That(double.IsFinite(m[k]!.GetValue<double>()), $"metrics.jsonl '{k}'");
        Assert.That(m["cpu_seconds"]!.GetValue<double>(), Is.GreaterThan(0), "the process's CPU time over the epoch's training");
        Assert.That(m["test_ssim"]!.GetValue<double>(), Is.InRange(-1.0, 1.0));
        Assert.That(Png(Path.Combine(run, "samples.png")), Is.EqualTo((8 * 86 + 2, 8 * 86 + 2)), "an 8x8 grid");
        Assert.That(Png(Path.Combine(run, "reconstructions.png")).W, Is.EqualTo(8 * 86 + 2));
        Png(Path.Combine(run, "interpolation.png"));
        Png(Path.Combine(run, "loss.png"));
        var model = new Vae(Backends.Cpu, 99, new VaeConfig(Attention: AttentionKind.Quantum));
        var meta = Checkpoint.Load(Path.Combine(run, "checkpoint.safetensors"), model);
        Assert.That(meta["train.epoch"], Is.EqualTo("1"));
        Assert.That(Directory.GetFiles(run).Where(f => f.EndsWith(".tmp", StringComparison.Ordinal)), Is.Empty, "no temporary files left");
        var (scode, sout, serr) = Run("sample", "--run", run, "--n", "16", "--out", Path.Combine(Dir, "s.png"));
        Assert.That(scode, Is.Zero, serr);
        Assert.That(sout, Does.Contain("wrote 16 samples"));
        Png(Path.Combine(Dir, "s.png"));
    }

    private static Dictionary<string, float[]> State(string run)
    {
        var (t, _) = SafeTensors.Read(Path.Combine(run, "checkpoint.safetensors"));
        return t.ToDictionary(kv => kv.Key, kv => kv.Value.Data);
    }

    [Test]
    public void Extending_a_finished_run_by_an_epoch_equals_two_straight_epochs()
    {
        // The VAE's constant learning rate makes "1 epoch, then --resume --epochs 2" the same schedule as
        // "--epochs 2". (A cosine schedule's horizon is the run's epoch count, so extending a finished qvae
        // run anneals differently; its resume is checked at an epoch boundary below.)
        string a = Path.Combine(Dir, "a"), b = Path.Combine(Dir, "b");
        string[] common = ["--limit", "128", "--eval-images", "16", "--seed", "5"];
        Assert.That(Run(["train", "vae", "--epochs", "2", "--out", a, .. common]).Code, Is.Zero);
        Assert.That(Run(["train", "vae", "--epochs", "1", "--out", b, .. common]).Code, Is.Zero);
        var (code, stdout, err) = Run("train", "vae", "--epochs", "2", "--out", b, "--resume");
        Assert.That(code, Is.Zero, err);
        Assert.That(stdout, Does.Contain("resuming after epoch 1"));
        var sa = State(a); var sb = State(b);
        Assert.That(sb.Keys, Is.EquivalentTo(sa.Keys));
        foreach (var k in sa.Keys) Assert.That(sb[k], Is.EqualTo(sa[k]), k);
        Assert.That(File.ReadAllLines(Path.Combine(b, "metrics.jsonl")), Has.Length.EqualTo(2));
    }

    [TestCase(new[] { "train", "vqgan" }, "unknown model 'vqgan'")]
    [TestCase(new[] { "train", "qvae", "--epochs", "0" }, "--epochs: 0")]
    [TestCase(new[] { "train", "qvae", "--lr", "-1" }, "--lr")]
    [TestCase(new[] { "train", "qvae", "--batch-size", "many" }, "many")]
    [TestCase(new[] { "train", "qvae", "--qubits", "5" }, "--qubits 8 or --readout expval")]
    [TestCase(new[] { "train", "qvae", "--entangler", "ring" }, "unknown entangler 'ring'")]
    [TestCase(new[] { "train", "qvae", "--device", "tpu" }, "unknown device 'tpu'")]
    [TestCase(new[] { "train", "qvae", "--dataset", "cifar" }, "unknown dataset 'cifar'")]
    [TestCase(new[] { "train", "qvae", "--out", "/proc/qgen-cannot-write-here" }, "/proc/qgen-cannot-write-here")]
    [TestCase(new[] { "sample", "--run", "/nonexistent/run" }, "/nonexistent/run/config.json")]
    [TestCase(new[] { "train", "qvae", "--resume" }, "--resume needs --out")]
    public void Bad_train_and_sample_input_is_one_line_and_exit_code_2(string[] args, string message)
    {
        var (code, _, err) = Run(args);
        UserError.Assert(code, "", err, message);
    }

    [Test]
    public void An_existing_run_is_not_overwritten_without_resume()
    {
        var run = Path.Combine(Dir, "run");
        Assert.That(Run("train", "vae", "--epochs", "1", "--limit", "64", "--eval-images", "8", "--out", run).Code, Is.Zero);
        var before = File.ReadAllBytes(Path.Combine(run, "checkpoint.safetensors"));
        var (code, _, err) = Run("train", "vae", "--epochs", "1", "--limit", "64", "--out", run);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("--resume"));
        Assert.That(File.ReadAllBytes(Path.Combine(run, "checkpoint.safetensors")), Is.EqualTo(before), "nothing already written is lost");
        Assert.That(Run("train", "qvae", "--out", run, "--resume").Err, Does.Contain("trains 'vae', not 'qvae'"));
    }
}
