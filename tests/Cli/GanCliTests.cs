using System.Text.Json.Nodes;
using QGenEngine.Cli;
using QGenEngine.Models.Data;
using QGenEngine.Models.Metrics;
using QGenEngine.Tests.Support;
using SkiaSharp;

namespace QGenEngine.Tests.Cli;

/// <summary>`train gan` end to end, sampling as users need it (latent files, .npy), `metrics modes`, `ssim` on any size, errors.</summary>
[TestFixture]
public class GanCliTests : TempDirTest
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "npy", name);

    private string _shared = "", _run = "", _trainOut = "";

    /// <summary>One tiny GAN run shared by the tests of this class (FID on 100 samples, so the epoch record has it).</summary>
    [OneTimeSetUp]
    public void TrainOnce()
    {
        _shared = Path.Combine(Path.GetTempPath(), "qgen-gan-" + Guid.NewGuid().ToString("N"));
        _run = Path.Combine(_shared, "gan");
        var (code, stdout, err) = Run("train", "gan", "--epochs", "1", "--limit", "128", "--fid-samples", "100", "--out", _run);
        Assert.That(code, Is.Zero, err + stdout);
        _trainOut = stdout;
    }

    [OneTimeTearDown]
    public void RemoveShared() { try { Directory.Delete(_shared, true); } catch (IOException) { } }

    private string GanRun() => _run;

    [Test]
    public void Train_gan_prints_its_parts_and_scalars()
    {
        Assert.That(_trainOut, Does.Contain("generator 810,433").And.Contain("discriminator 109,281"));
        Assert.That(_trainOut, Does.Contain("d loss").And.Contain("g loss").And.Contain("fid").And.Contain("modes"));
    }

    [Test]
    public void Train_gan_writes_its_run_directory()
    {
        var run = GanRun();
        foreach (var f in new[] { "config.json", "checkpoint.safetensors", "metrics.jsonl", "steps.csv", "samples.png", "samples-epoch-01.png", "loss.png" })
            Assert.That(File.Exists(Path.Combine(run, f)), f);
        Assert.That(File.Exists(Path.Combine(run, "reconstructions.png")), Is.False, "a GAN reconstructs nothing");
        var m = JsonNode.Parse(File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))[0])!;
        foreach (var k in new[] { "d_loss", "g_loss", "d_real", "d_fake", "fid", "is", "modes", "modes_kl" })
            Assert.That(double.IsFinite(m[k]!.GetValue<double>()), k);
        Assert.That(JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!["beta1"]!.GetValue<float>(), Is.EqualTo(0.5f));
        Assert.That(File.ReadAllBytes(Path.Combine(run, "samples.png")), Is.EqualTo(File.ReadAllBytes(Path.Combine(run, "samples-epoch-01.png"))));
    }

    [Test]
    public void Sample_takes_latent_files_and_writes_npy_that_round_trips()
    {
        var run = GanRun();
        string a = Path.Combine(Dir, "a.npy"), b = Path.Combine(Dir, "b.npy");
        var (code, stdout, err) = Run("sample", "--run", run, "--latents", Fixture("latents_3x100_f4.npy"), "--format", "npy", "--out", a);
        Assert.That(code, Is.Zero, err);
        Assert.That(stdout, Does.Contain("wrote 3 samples of gan"));
        var (img, shape) = Npy.Read(a);
        Assert.That(shape, Is.EqualTo(new[] { 3, 1, 28, 28 }));
        Assert.That(img.All(v => v is >= 0 and <= 1), "images in [0, 1]");
        Assert.That(Run("sample", "--run", run, "--latents", Fixture("latents_3x100_f4.npy"), "--format", "npy", "--out", b).Code, Is.Zero);
        Assert.That(File.ReadAllBytes(b), Is.EqualTo(File.ReadAllBytes(a)), "the same latents give the same images");
        // Seeded draws: reproducible, and different seeds differ.
        string s1 = Path.Combine(Dir, "s1.npy"), s2 = Path.Combine(Dir, "s2.npy"), s3 = Path.Combine(Dir, "s3.npy");
        Run("sample", "--run", run, "--n", "5", "--seed", "4", "--format", "npy", "--out", s1);
        Run("sample", "--run", run, "--n", "5", "--seed", "4", "--format", "npy", "--out", s2);
        Run("sample", "--run", run, "--n", "5", "--seed", "5", "--format", "npy", "--out", s3);
        Assert.That(File.ReadAllBytes(s2), Is.EqualTo(File.ReadAllBytes(s1)));
        Assert.That(File.ReadAllBytes(s3), Is.Not.EqualTo(File.ReadAllBytes(s1)));
        var png = Path.Combine(Dir, "g.png");
        Assert.That(Run("sample", "--run", run, "--n", "9", "--out", png).Code, Is.Zero);
        using var bmp = SKBitmap.Decode(png);
        Assert.That(bmp.Width, Is.EqualTo(3 * 86 + 2), "a 3x3 grid");
    }

    [Test]
    public void Plot_redraws_the_pictures_from_the_logs()
    {
        var run = GanRun();
        File.Delete(Path.Combine(run, "loss.png")); File.Delete(Path.Combine(run, "quality.png"));
        var (code, stdout, err) = Run("plot", "--run", run);
        Assert.That(code, Is.Zero, err);
        Assert.That(stdout, Does.Contain("quality.png"));
        foreach (var f in new[] { "loss.png", "quality.png" })
            using (var bmp = SKBitmap.Decode(Path.Combine(run, f))) Assert.That(bmp, Is.Not.Null, f);
        var empty = Path.Combine(Dir, "empty"); Directory.CreateDirectory(empty);
        File.Copy(Path.Combine(run, "config.json"), Path.Combine(empty, "config.json"));
        var (c2, _, e2) = Run("plot", "--run", empty);
        Assert.That(c2, Is.EqualTo(2));
        Assert.That(e2, Does.Contain("to plot yet"));
    }

    [TestCase("latents_3x100_f8.npy", "dtype '<f8'")]
    [TestCase("vector_5_f4.npy", "expects (N, 100)")]
    [TestCase("fortran_2x3_f4.npy", "Fortran")]
    public void A_latent_file_of_the_wrong_shape_or_dtype_is_one_line(string file, string message)
    {
        var (code, _, err) = Run("sample", "--run", GanRun(), "--latents", Fixture(file));
        UserError.Assert(code, "", err, file, message);
    }

    /// <summary>eval's stability figure: the sample standard deviation of each per-step scalar over the last epoch, recomputed here from steps.csv.</summary>
    [Test]
    public void Eval_reports_the_spread_of_the_losses_over_the_last_epoch()
    {
        var (code, stdout, err) = Run("eval", "--run", GanRun(), "--n", "20");
        Assert.That(code, Is.Zero, err);
        Assert.That(stdout, Does.Contain("last epoch's spread"));
        var lines = File.ReadAllLines(Path.Combine(GanRun(), "steps.csv"));
        int col = Array.IndexOf(lines[0].Split(','), "d_loss");
        var d = lines.Skip(1).Select(l => double.Parse(l.Split(',')[col], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        double mean = d.Average(), sd = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / (d.Length - 1));   // the run has one epoch
        var j = JsonNode.Parse(File.ReadAllText(Path.Combine(GanRun(), "eval.json")))!;
        Assert.That(j["last_epoch_steps"]!.GetValue<int>(), Is.EqualTo(d.Length));
        Assert.That(j["last_epoch_spread"]!["d_loss"]!.GetValue<double>(), Is.EqualTo(sd).Within(1e-9));
    }

    [Test]
    public void Bad_gan_input_is_one_line_and_exit_code_2()
    {
        foreach (var (args, message) in new (string[], string)[]
        {
            (["train", "gan", "--beta1", "1"], "--beta1: 1 is outside [0, 1)"),
            (["train", "gan", "--beta1", "-0.1"], "--beta1"),
            (["train", "gan", "--fid-samples", "3"], "--fid-samples"),
            (["sample", "--run", GanRun(), "--format", "jpeg"], "--format: 'jpeg'"),
            (["sample", "--run", GanRun(), "--latents", Path.Combine(Dir, "none.npy")], "none.npy"),
            (["train", "qgan", "--quantum", "decoder"], "--quantum: 'decoder'; expected generator, discriminator or both"),
            (["train", "qgan", "--noise", "depolarizing=2"], "depolarizing"),
            (["train", "qgan", "--noise", "thermal=0.1", "--grad", "shift"], "thermal"),
            (["train", "qgan", "--noise", "depolarizing=0.01"], "--grad shift"),
            (["train", "qgan", "--readout", "shots:100"], "--grad shift"),
            (["train", "qvae", "--readout", "shots:100"], "--grad shift"),
            (["train", "qgan", "--grad", "backprop"], "--grad: 'backprop'; expected adjoint or shift"),
            (["train", "qgan", "--qubits", "13"], "--qubits: 13 is outside [1, 12]"),
            (["train", "qgan", "--layers", "51"], "--layers: 51"),
            (["train", "qgan", "--readout", "expval"], "probs or shots:N"),
        })
        {
            var (code, _, err) = Run(args);
            UserError.Assert(code, string.Join(' ', args), err, message);
        }
    }

    [Test]
    public void Resume_refuses_a_checkpoint_of_another_model_and_sample_a_model_that_cannot_generate()
    {
        var run = Path.Combine(Dir, "c");
        Assert.That(Run("train", "classifier", "--epochs", "1", "--limit", "128", "--eval-images", "100", "--out", run).Code, Is.Zero);
        var (code, _, err) = Run("sample", "--run", run);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("cannot generate"));
        var (ecode, eout, eerr) = Run("eval", "--run", run);
        Assert.That(ecode, Is.Zero, eerr);
        Assert.That(eout, Does.Contain("test accuracy"));
        // A gan checkpoint dropped into the classifier's run directory.
        File.Copy(Path.Combine(GanRun(), "checkpoint.safetensors"), Path.Combine(run, "checkpoint.safetensors"), overwrite: true);
        var (rcode, _, rerr) = Run("train", "classifier", "--out", run, "--resume", "--epochs", "2");
        Assert.That(rcode, Is.EqualTo(2));
        Assert.That(rerr, Does.Contain("holds a 'gan' model, not 'classifier'"));
    }

    [Test]
    public void Eval_of_a_gan_reports_fid_is_and_modes()
    {
        var (code, stdout, err) = Run("eval", "--run", GanRun(), "--n", "200");
        Assert.That(code, Is.Zero, err);
        Assert.That(stdout, Does.Contain("FID").And.Contain("modes"));
        var j = JsonNode.Parse(File.ReadAllText(Path.Combine(GanRun(), "eval.json")))!;
        Assert.That(j["class_histogram"]!.AsArray(), Has.Count.EqualTo(10));
        Assert.That(j["test_ssim"], Is.Null, "a GAN has no reconstruction score");
    }

    private string WriteIdx(string name, float[] pixels, int n)
    {
        var path = Path.Combine(Dir, name);
        var bytes = new byte[16 + n * 784];
        bytes[2] = 8; bytes[3] = 3;
        bytes[4] = (byte)(n >> 24); bytes[5] = (byte)(n >> 16); bytes[6] = (byte)(n >> 8); bytes[7] = (byte)n;
        bytes[11] = 28; bytes[15] = 28;
        for (int i = 0; i < n * 784; i++) bytes[16 + i] = (byte)MathF.Round(pixels[i] * 255);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Test]
    public void Modes_of_the_test_set_cover_every_class_and_one_digit_covers_one()
    {
        var (code, stdout, err) = Run("metrics", "modes", "--images", "mnist:test", "--json");
        Assert.That(code, Is.Zero, err);
        var j = JsonNode.Parse(stdout)!;
        Assert.That(j["modes"]!.GetValue<int>(), Is.EqualTo(10));
        Assert.That(j["kl"]!.GetValue<double>(), Is.LessThan(0.01), "MNIST's classes are nearly balanced");
        Assert.That(j["histogram"]!.AsArray().Sum(h => h!.GetValue<double>()), Is.EqualTo(1).Within(1e-9));
        var (dir, verify) = DataSets.Resolve("mnist", null);
        var test = DataSets.Load(dir, "t10k", verify);
        var sevens = Enumerable.Range(0, test.Count).Where(i => test.Labels[i] == 7).Take(300).ToArray();
        var px = sevens.SelectMany(i => test.Image(i).ToArray()).ToArray();
        var (c2, o2, e2) = Run("metrics", "modes", "--images", WriteIdx("sevens-idx3-ubyte", px, sevens.Length), "--json");
        Assert.That(c2, Is.Zero, e2);
        var k = JsonNode.Parse(o2)!;
        Assert.That(k["modes"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(k["histogram"]![7]!.GetValue<double>(), Is.GreaterThan(0.97));
        Assert.That(k["kl"]!.GetValue<double>(), Is.GreaterThan(2.0), "near ln 10 = 2.30");
    }

    private string Png(string name, int w, int h, Func<int, int, byte> f)
    {
        using var bmp = new SKBitmap(w, h, SKColorType.Gray8, SKAlphaType.Opaque);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) bmp.SetPixel(x, y, new SKColor(f(x, y), f(x, y), f(x, y)));
        var path = Path.Combine(Dir, name);
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    [Test]
    public void Ssim_takes_any_same_sized_greyscale_pair()
    {
        string a = Png("a.png", 40, 30, (x, y) => (byte)(x * 6)), b = Png("b.png", 40, 30, (x, y) => (byte)(x * 6 + (y % 3) * 10)), c = Png("c.png", 28, 28, (x, y) => 0);
        var (code, stdout, err) = Run("metrics", "ssim", a, b, "--json");
        Assert.That(code, Is.Zero, err);
        var (pa, _, _) = ImageSets.ReadPng(a); var (pb, _, _) = ImageSets.ReadPng(b);
        Assert.That(JsonNode.Parse(stdout)!["ssim"]!.GetValue<double>(), Is.EqualTo(Ssim.Compute(pa, pb, 30, 40)).Within(1e-12));
        Assert.That(JsonNode.Parse(Run("metrics", "ssim", a, a, "--json").Out)!["ssim"]!.GetValue<double>(), Is.EqualTo(1).Within(1e-9));
        var (c2, _, e2) = Run("metrics", "ssim", a, c);
        Assert.That(c2, Is.EqualTo(2));
        Assert.That(e2, Does.Contain("40×30").And.Contain("28×28"));
    }

    /// <summary>
    /// PyTorch (Debian's python3-torch) loads the GAN checkpoint with strict=True into nn.Sequential modules
    /// built from MODELS.md and generates the same images from the same latents. Skipped where Python or
    /// PyTorch is absent; tools/golden/torch_gan_check.py is the same check by hand.
    /// </summary>
    [Test]
    public void Pytorch_loads_the_gan_strictly_and_generates_the_same_images()
    {
        var run = GanRun();
        var ours = Path.Combine(Dir, "ours.npy");
        Assert.That(Run("sample", "--run", run, "--latents", Fixture("latents_3x100_f4.npy"), "--format", "npy", "--out", ours).Code, Is.Zero);
        var (code, o, e) = TorchScript.Run("torch_gan_check.py", run, Fixture("latents_3x100_f4.npy"), ours);
        Assert.That(code, Is.Zero, o + e);
        var j = JsonNode.Parse(o)!;
        Assert.That(j["max_abs_diff"]!.GetValue<double>(), Is.LessThan(1e-5), o);
    }
}
