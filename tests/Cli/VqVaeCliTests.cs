using System.Text.Json.Nodes;
using QGenEngine.Autograd;
using QGenEngine.Kernels;
using QGenEngine.Models;
using QGenEngine.Models.Data;
using QGenEngine.Models.Training;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Cli;

/// <summary>`train vqvae`, `train prior --vqvae`, sampling and eval end to end; the errors of a prior pointed at the wrong thing.</summary>
[TestFixture]
public class VqVaeCliTests : TempDirTest
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private string _shared = "", _vq = "", _prior = "", _vqOut = "", _priorOut = "";

    /// <summary>One tiny VQ-VAE and one tiny prior on it, shared by the tests of this class.</summary>
    [OneTimeSetUp]
    public void TrainOnce()
    {
        _shared = Path.Combine(Path.GetTempPath(), "qgen-vq-" + Guid.NewGuid().ToString("N"));
        _vq = Path.Combine(_shared, "vq"); _prior = Path.Combine(_shared, "prior");
        var (c1, o1, e1) = Run("train", "vqvae", "--epochs", "1", "--limit", "256", "--eval-images", "50", "--out", _vq);
        Assert.That(c1, Is.Zero, e1 + o1);
        var (c2, o2, e2) = Run("train", "prior", "--vqvae", _vq, "--epochs", "1", "--limit", "256", "--eval-images", "200", "--fid-samples", "20", "--out", _prior);
        Assert.That(c2, Is.Zero, e2 + o2);
        _vqOut = o1; _priorOut = o2;
    }

    [OneTimeTearDown]
    public void RemoveShared() { try { Directory.Delete(_shared, true); } catch (IOException) { } }

    [Test]
    public void Train_vqvae_reports_the_codebooks_health_each_epoch()
    {
        Assert.That(_vqOut, Does.Contain("k-means: codebook initialised").And.Contain(" perplexity ").And.Contain("codes used").And.Contain("test ssim"));
        var m = RunLogs.ReadMetrics(_vq).Single();
        Assert.That(m["code_counts"]!.AsArray(), Has.Count.EqualTo(512));
        double total = m["code_counts"]!.AsArray().Sum(c => c!.GetValue<long>());
        Assert.That(total, Is.EqualTo(4 * 64 * 49), "every vector of the epoch's 4 batches counted once");
        Assert.That(m["codes_used"]!.GetValue<int>() + m["dead_codes"]!.GetValue<int>(), Is.EqualTo(512));
        Assert.That(m["perplexity"]!.GetValue<double>(), Is.GreaterThan(1).And.LessThanOrEqualTo(m["codes_used"]!.GetValue<int>()));
        Assert.That(File.Exists(Path.Combine(_vq, "codebook.png")) && File.Exists(Path.Combine(_vq, "reconstructions.png")));
        Assert.That(File.Exists(Path.Combine(_vq, "samples.png")), Is.False, "a VQ-VAE alone draws no samples");
    }

    [Test]
    public void A_collapsing_codebook_is_called_out()
    {
        var (code, o, e) = Run("train", "vqvae", "--epochs", "1", "--limit", "128", "--ema", "false", "--kmeans-init", "false", "--restart-dead", "0",
                               "--eval-images", "10", "--out", Path.Combine(Dir, "plain"));
        Assert.That(code, Is.Zero, e + o);
        var m = RunLogs.ReadMetrics(Path.Combine(Dir, "plain")).Single();
        Assert.That(m["codes_used"]!.GetValue<int>(), Is.LessThan(0.1 * 512), "the plain VQ-VAE uses few of its 512 codes");
        Assert.That(o, Does.Contain("warning: the codebook is collapsing"));
    }

    [Test]
    public void Sampling_a_vqvae_says_how_to_train_its_prior()
    {
        var (code, _, err) = Run("sample", "--run", _vq);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain($"qgen-engine train prior --vqvae {_vq}"));
    }

    [Test]
    public void The_prior_caches_codes_trains_and_samples_recognisable_grids()
    {
        Assert.That(_priorOut, Does.Contain("encoded 256 images").And.Contain("test bits per code"));
        var (codes, shape) = Npy.Read(Path.Combine(_prior, CodePrior.TrainCache));
        Assert.That(shape, Is.EqualTo(new[] { 256, 7, 7 }));
        var (vq, _) = ModelCatalog.LoadRun(_vq, Backends.Cpu);
        var first = ((VqVae)vq).CodeGrid(Tensor.FromArray(Backends.Cpu, DataSets.Load(DataSets.Resolve("mnist", null).Dir, "train", false).Pixels.AsSpan(0, 2 * 784), 2, 1, 28, 28));
        Assert.That(codes[..98], Is.EqualTo(first.ToArray()), "the cache holds the VQ-VAE's codes of the training images");
        var m = RunLogs.ReadMetrics(_prior).Single();
        Assert.That(m["test_bits_per_code"]!.GetValue<double>(), Is.GreaterThan(0).And.LessThan(9), "below log2(512) = 9 bits after one epoch");
        Assert.That(m["fid"], Is.Not.Null);

        string a = Path.Combine(Dir, "a.npy"), b = Path.Combine(Dir, "b.npy");
        Assert.That(Run("sample", "--run", _prior, "--n", "6", "--seed", "4", "--format", "npy", "--out", a).Code, Is.Zero);
        Assert.That(Run("sample", "--run", _prior, "--n", "6", "--seed", "4", "--format", "npy", "--out", b).Code, Is.Zero);
        Assert.That(Npy.Read(b).Data, Is.EqualTo(Npy.Read(a).Data), "seeded sampling repeats");
        Assert.That(Npy.Read(a).Shape, Is.EqualTo(new[] { 6, 1, 28, 28 }));
    }

    [Test]
    public void Code_grids_decode_through_sample_latents_and_bad_codes_are_refused()
    {
        var grids = new float[2 * 49];
        for (int i = 0; i < grids.Length; i++) grids[i] = i % 512;
        string ok = Path.Combine(Dir, "codes.npy"), bad = Path.Combine(Dir, "bad.npy"), outFile = Path.Combine(Dir, "img.npy");
        Npy.Write(ok, grids, 2, 49);
        Assert.That(Run("sample", "--run", _prior, "--latents", ok, "--format", "npy", "--out", outFile).Code, Is.Zero);
        var (prior, _) = ModelCatalog.LoadRun(_prior, Backends.Cpu);
        var want = ((IGenerative)prior).Generate(Tensor.FromArray(Backends.Cpu, grids, 2, 49)).ToArray();
        Assert.That(Npy.Read(outFile).Data, Is.EqualTo(want));
        grids[7] = 512.5f;
        Npy.Write(bad, grids, 2, 49);
        var (code, _, err) = Run("sample", "--run", _prior, "--latents", bad, "--out", outFile);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.Trim(), Does.Contain(bad + ": code grid").And.Contain("512.5").And.Contain("[0, 512)").And.Not.Contain("   at "));
    }

    [Test]
    public void Eval_of_a_prior_scores_its_samples_and_its_vqvaes_reconstructions()
    {
        var (code, o, e) = Run("eval", "--run", _prior, "--n", "20");
        Assert.That(code, Is.Zero, e);
        var j = JsonNode.Parse(File.ReadAllText(Path.Combine(_prior, "eval.json")))!;
        Assert.That(j["fid"], Is.Not.Null);
        Assert.That(Run("eval", "--run", _vq).Code, Is.Zero);
        var v = JsonNode.Parse(File.ReadAllText(Path.Combine(_vq, "eval.json")))!;
        Assert.That(j["test_ssim"]!.GetValue<double>(), Is.EqualTo(v["test_ssim"]!.GetValue<double>()), "the prior carries its VQ-VAE's weights");
        Assert.That(j["test_bce"]!.GetValue<double>(), Is.EqualTo(v["test_bce"]!.GetValue<double>()));
        Assert.That(o, Does.Contain("FID").And.Contain("test SSIM"));
    }

    [Test]
    public void A_prior_pointed_at_the_wrong_run_or_a_damaged_cache_gets_one_line()
    {
        string notVq = Path.Combine(Dir, "notvq");
        Directory.CreateDirectory(notVq);
        File.WriteAllText(Path.Combine(notVq, Trainer.ConfigFile), ModelCatalog.Get("vae").Defaults.ToJson().ToJsonString());
        foreach (var (args, want) in new (string[], string)[]
        {
            (["--vqvae", notVq], "a 'vae' run; --vqvae expects a vqvae run"),
            (["--vqvae", Path.Combine(Dir, "missing")], "not found; --vqvae expects"),
            ([], "train prior needs --vqvae RUN"),
            (["--vqvae", _vq, "--codebook-size", "256"], "--codebook-size: 256 does not match the VQ-VAE's 512 codes"),
        })
        {
            var (code, _, err) = Run(["train", "prior", "--epochs", "1", "--limit", "64", "--out", Path.Combine(Dir, "p" + want.Length), .. args]);
            Assert.That(code, Is.EqualTo(2), want);
            Assert.That(err, Does.Contain(want));
            Assert.That(err.Trim().Split('\n'), Has.Length.EqualTo(1), err);
        }
        string damaged = Path.Combine(Dir, "damaged");
        Directory.CreateDirectory(damaged);
        var codes = new float[64 * 49];
        codes[5] = 600;
        Npy.Write(Path.Combine(damaged, CodePrior.TrainCache), codes, 64, 7, 7);
        var (c2, _, e2) = Run("train", "prior", "--vqvae", _vq, "--epochs", "1", "--limit", "64", "--out", damaged);
        Assert.That(c2, Is.EqualTo(2));
        Assert.That(e2, Does.Contain(CodePrior.TrainCache).And.Contain("600").And.Contain("delete it to encode again"));
        File.WriteAllBytes(Path.Combine(damaged, CodePrior.TrainCache), [1, 2, 3]);
        var (c3, _, e3) = Run("train", "prior", "--vqvae", _vq, "--epochs", "1", "--limit", "64", "--out", damaged);
        Assert.That(c3, Is.EqualTo(2));
        Assert.That(e3, Does.Contain(CodePrior.TrainCache));
    }

    /// <summary>
    /// PyTorch loads the VQ-VAE checkpoint with strict=True into the modules of tools/golden/torch_vqvae.py and gives the
    /// engine's codes, reconstructions and loss on 8 test images (skipped without PyTorch).
    /// </summary>
    [Test]
    public void Pytorch_loads_the_vqvae_strictly_and_agrees_on_codes_reconstructions_and_loss()
    {
        var (model, _) = ModelCatalog.LoadRun(_vq, Backends.Cpu);
        var vq = (VqVae)model;
        var test = DataSets.Load(DataSets.Resolve("mnist", null).Dir, "t10k", false);
        var x = test.Pixels.AsSpan(0, 8 * 784).ToArray();
        var xt = Tensor.FromArray(Backends.Cpu, x, 8, 1, 28, 28);
        var codes = vq.CodeGrid(xt).ToArray();
        var recon = vq.Reconstruct(xt).Images.ToArray();
        double loss = ModelMode.Eval(vq, () => (double)vq.Loss(xt).Loss.Item());
        string xs = Path.Combine(Dir, "x.npy"), cs = Path.Combine(Dir, "codes.npy"), rs = Path.Combine(Dir, "recon.npy");
        Npy.Write(xs, x, 8, 1, 28, 28); Npy.Write(cs, codes, 8, 49); Npy.Write(rs, recon, 8, 1, 28, 28);
        var (code, o, e) = TorchScript.Run("torch_vqvae_check.py", _vq, xs, cs, rs, loss.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(code, Is.Zero, o + e);
        Assert.That(JsonNode.Parse(o)!["same_codes"]!.GetValue<double>(), Is.EqualTo(1.0));
    }

    /// <summary>
    /// PyTorch loads the prior checkpoint (PixelCNN with its masks, and the VQ-VAE inside) with strict=True into
    /// tools/golden/torch_prior.py's modules and gives the engine's bits per code on cached test codes and its decoded images.
    /// </summary>
    [Test]
    public void Pytorch_loads_the_prior_strictly_and_agrees_on_bits_per_code_and_decoding()
    {
        var (model, _) = ModelCatalog.LoadRun(_prior, Backends.Cpu);
        var prior = (CodePrior)model;
        var codes = Npy.Read(Path.Combine(_prior, CodePrior.TestCache)).Data.AsSpan(0, 6 * 49).ToArray();
        double bits = prior.BitsPerCode(codes, 6);
        var images = prior.Generate(Tensor.FromArray(Backends.Cpu, codes, 6, 49)).ToArray();
        string cs = Path.Combine(Dir, "codes.npy"), im = Path.Combine(Dir, "images.npy");
        Npy.Write(cs, codes, 6, 49); Npy.Write(im, images, 6, 1, 28, 28);
        var (code, o, e) = TorchScript.Run("torch_prior_check.py", _prior, cs, bits.ToString("R", System.Globalization.CultureInfo.InvariantCulture), im);
        Assert.That(code, Is.Zero, o + e);
    }
}
