using System.Text.Json.Nodes;
using QGenEngine.Kernels;
using QGenEngine.Models;
using QGenEngine.Models.Data;
using QGenEngine.Models.Metrics;
using QGenEngine.Models.Training;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Cli;

/// <summary>`train router` on two tiny VAE-family runs, `route` end to end, the measured policies against their definitions, and the errors.</summary>
[TestFixture]
public class RouterCliTests : TempDirTest
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private string _shared = "", _vae = "", _qvae = "", _router = "", _gan = "";

    [OneTimeSetUp]
    public void TrainOnce()
    {
        _shared = Path.Combine(Path.GetTempPath(), "qgen-router-" + Guid.NewGuid().ToString("N"));
        _vae = Path.Combine(_shared, "vae"); _qvae = Path.Combine(_shared, "qvae"); _router = Path.Combine(_shared, "router"); _gan = Path.Combine(_shared, "gan");
        foreach (var (m, dir) in new[] { ("vae", _vae), ("qvae", _qvae) })
        {
            var (c, o, e) = Run("train", m, "--epochs", "1", "--limit", "256", "--eval-images", "20", "--fid-every", "0", "--out", dir);
            Assert.That(c, Is.Zero, e + o);
        }
        var (c2, o2, e2) = Run("train", "router", "--classical-run", _vae, "--quantum-run", _qvae, "--epochs", "2", "--limit", "512", "--batch-size", "16", "--lr", "0.01",
                               "--eval-images", "500", "--out", _router);
        Assert.That(c2, Is.Zero, e2 + o2);
        var (c3, o3, e3) = Run("train", "gan", "--epochs", "1", "--limit", "128", "--fid-every", "0", "--out", _gan);
        Assert.That(c3, Is.Zero, e3 + o3);
    }

    [OneTimeTearDown]
    public void RemoveShared() { try { Directory.Delete(_shared, true); } catch (IOException) { } }

    [Test]
    public void Train_router_caches_the_classical_losses_and_ranks_difficulty()
    {
        var train = Npy.Read(Path.Combine(_router, Router.TrainCache));
        Assert.That(train.Shape, Is.EqualTo(new[] { 512 }));
        // The cache is the classical model's own per-image BCE.
        var (vae, _) = ModelCatalog.LoadRun(_vae, Backends.Cpu);
        var mnist = DataSets.Load(DataSets.Resolve("mnist", null).Dir, "train", false);
        var (_, bce) = Evaluation.Reconstruct((IReconstructive)vae, Backends.Cpu, mnist.Pixels, 8);
        Assert.That(train.Data.Take(8).Select(v => (double)v), Is.EqualTo(bce).Within(1e-3));
        var m = RunLogs.ReadMetrics(_router);
        Assert.That(m, Has.Count.EqualTo(2));
        Assert.That(m[^1]["test_spearman"]!.GetValue<double>(), Is.GreaterThan(0.3), "the estimator ranks the classical model's losses");
        var cfg = ModelCatalog.ReadOptions(_router);
        Assert.That(cfg.Get(Router.ClassicalRun), Is.EqualTo(Path.GetFullPath(_vae)));
        Assert.That(cfg.Get(Router.QuantumRun), Is.EqualTo(Path.GetFullPath(_qvae)));
    }

    [Test]
    public void Route_measures_five_policies_whose_endpoints_are_the_models_own_scores()
    {
        var dev = Backends.Cpu;
        var (rm, _) = ModelCatalog.LoadRun(_router, dev);
        var (cm, _) = ModelCatalog.LoadRun(_vae, dev);
        var (qm, _) = ModelCatalog.LoadRun(_qvae, dev);
        var test = DataSets.Load(DataSets.Resolve("mnist", null).Dir, "t10k", false);
        int n = 300;
        RouteEvaluation Eval() => RouteEvaluation.Run((Router)rm, (IReconstructive)cm, (IReconstructive)qm, dev, test.Pixels, n, test.Labels,
                                                      () => OnlineRouter.ForShare(0.3), 50, seed: 3, batch: 64);
        var r = Eval();
        // Endpoints: what eval reports for each model on the same images.
        var (cb, cs) = Evaluation.ReconstructionScores((IReconstructive)cm, dev, test.Pixels, n);
        var (qb, qs) = Evaluation.ReconstructionScores((IReconstructive)qm, dev, test.Pixels, n);
        Assert.That(r.Classical.Ssim, Is.EqualTo(cs).Within(1e-9)); Assert.That(r.Classical.Bce, Is.EqualTo(cb).Within(1e-6 * cb));
        Assert.That(r.Quantum.Ssim, Is.EqualTo(qs).Within(1e-9)); Assert.That(r.Quantum.Bce, Is.EqualTo(qb).Within(1e-6 * qb));
        Assert.That(r.Classical.Share, Is.Zero); Assert.That(r.Quantum.Share, Is.EqualTo(1));
        // The router holds its share; random and oracle route as many inputs.
        Assert.That(r.Router.Share, Is.EqualTo(0.3).Within(0.02));
        Assert.That(r.Random.QuantumCount, Is.EqualTo(r.Router.QuantumCount)); Assert.That(r.Oracle.QuantumCount, Is.EqualTo(r.Router.QuantumCount));
        // Random routing's quality lies between the endpoints; the oracle is never worse than the router or random.
        Assert.That(r.Random.Ssim, Is.InRange(Math.Min(cs, qs) - 1e-12, Math.Max(cs, qs) + 1e-12));
        Assert.That(r.Oracle.Ssim, Is.GreaterThanOrEqualTo(r.Router.Ssim - 1e-12));
        Assert.That(r.Oracle.Ssim, Is.GreaterThanOrEqualTo(r.Random.Ssim - 1e-12));
        // Hardware model: each quantum-routed input pays 50 ms for its one circuit.
        Assert.That(r.CircuitsPerImage, Is.EqualTo(1));
        Assert.That(r.Router.HardwareSeconds!.Value - r.Router.Seconds, Is.EqualTo(r.Router.QuantumCount * 0.05).Within(1e-9));
        Assert.That(r.ClassShare, Has.Length.EqualTo(10));
        // Seeded: the same choices and quality again (the wall time differs).
        var again = Eval();
        foreach (var (a, b) in r.Policies.Zip(again.Policies))
        {
            Assert.That(b.QuantumCount, Is.EqualTo(a.QuantumCount), a.Name);
            Assert.That(b.Ssim, Is.EqualTo(a.Ssim), a.Name);
        }
    }

    [Test]
    public void Route_writes_a_table_the_json_and_the_curve()
    {
        string outDir = Path.Combine(Dir, "route");
        var (code, o, e) = Run("route", "--router", _router, "--images", "mnist:test:200", "--share", "0.4", "--shots", "1000", "--gate-us", "0.05", "--out", outDir);
        Assert.That(code, Is.Zero, e + o);
        Assert.That(o, Does.Contain("router").And.Contain("oracle").And.Contain("random").And.Contain("Spearman").And.Contain("85 %"));
        var j = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "route.json")))!;
        foreach (var k in new[] { "classical", "quantum", "random", "oracle" })
        {
            Assert.That(j[k]!["share"], Is.Not.Null, k); Assert.That(j[k]!["quality"]!["ssim"], Is.Not.Null, k); Assert.That(j[k]!["cost"]!["seconds"], Is.Not.Null, k);
        }
        Assert.That(j["share"]!.GetValue<double>(), Is.EqualTo(0.4).Within(0.03));
        Assert.That(j["curve"]!.AsArray(), Has.Count.EqualTo(21));
        // 1000 shots of (depth 29 layers × 0.05 µs + 1 µs readout) per circuit.
        int depth = QGenEngine.Quantum.Circuit.Template(8, 3).Depth;
        Assert.That(j["hardware_model"]!["ms_per_circuit"]!.GetValue<double>(), Is.EqualTo(1000 * (depth * 0.05 + 1) / 1000).Within(1e-12));
        Assert.That(File.Exists(Path.Combine(outDir, "route.png")));
        var (c2, o2, e2) = Run("route", "--router", _router, "--images", "mnist:test:100", "--quality", "0.5", "--json", "--out", outDir);
        Assert.That(c2, Is.Zero, e2 + o2);
        Assert.That(JsonNode.Parse(o2)!["target"]!["quality"]!.GetValue<double>(), Is.EqualTo(0.5));
    }

    [TestCase("--share", "1.5", "--share: 1.5 is outside [0, 1]")]
    [TestCase("--share", "-0.1", "--share: -0.1 is outside [0, 1]")]
    [TestCase("--quality", "2", "--quality: 2 is outside (0, 1]")]
    [TestCase("--quantum-cost-ms", "-1", "--quantum-cost-ms: -1 must be")]
    [TestCase("--images", "fashion:test:10", "fashion images, but the models were trained on mnist")]
    public void Bad_route_options_give_one_line(string opt, string value, string expected)
    {
        var (code, o, e) = Run("route", "--router", _router, opt, value);
        UserError.Assert(code, o, e, expected);
    }

    [Test]
    public void Runs_that_are_not_VAE_family_or_not_routers_are_refused()
    {
        var (c1, _, e1) = Run("train", "router", "--classical-run", _gan, "--quantum-run", _qvae, "--out", Path.Combine(Dir, "r1"));
        Assert.That(c1, Is.EqualTo(2)); Assert.That(e1, Does.Contain("a 'gan' run; the router chooses between VAE-family models"));
        var (c2, _, e2) = Run("train", "router", "--quantum-run", _qvae, "--out", Path.Combine(Dir, "r2"));
        Assert.That(c2, Is.EqualTo(2)); Assert.That(e2, Does.Contain("train router needs --classical-run RUN"));
        var (c3, _, e3) = Run("train", "router", "--classical-run", _vae, "--quantum-run", Path.Combine(Dir, "nowhere"), "--out", Path.Combine(Dir, "r3"));
        Assert.That(c3, Is.EqualTo(2)); Assert.That(e3, Does.Contain("--quantum").And.Contain("no config.json"));
        var (c4, _, e4) = Run("train", "router", "--classical-run", _vae, "--quantum-run", _qvae, "--estimator", "forest", "--out", Path.Combine(Dir, "r4"));
        Assert.That(c4, Is.EqualTo(2)); Assert.That(e4, Does.Contain("--estimator: 'forest'; expected cnn or linear"));
        var (c5, _, e5) = Run("route", "--router", _vae);
        Assert.That(c5, Is.EqualTo(2)); Assert.That(e5, Does.Contain("a 'vae' run; --router expects a run of `qgen-engine train router`"));
        var (c6, _, e6) = Run("train", "router", "--classical-run", _vae, "--quantum-run", _qvae, "--dataset", "fashion", "--out", Path.Combine(Dir, "r6"));
        Assert.That(c6, Is.EqualTo(2)); Assert.That(e6, Does.Contain("the router would train on fashion"));
    }

    [Test]
    public void The_linear_estimator_trains_on_image_statistics()
    {
        string dir = Path.Combine(Dir, "linear");
        var (code, o, e) = Run("train", "router", "--classical-run", _vae, "--quantum-run", _qvae, "--estimator", "linear", "--epochs", "2", "--limit", "512", "--batch-size", "16", "--lr", "0.01",
                               "--eval-images", "500", "--out", dir);
        Assert.That(code, Is.Zero, e + o);
        Assert.That(RunLogs.ReadMetrics(dir)[^1]["test_spearman"]!.GetValue<double>(), Is.GreaterThan(0.3));
        var (rm, _) = ModelCatalog.LoadRun(dir, Backends.Cpu);
        Assert.That(((Router)rm).Kind, Is.EqualTo(EstimatorKind.Linear));
        Assert.That(rm.StateDict().Select(s => s.Name), Is.EquivalentTo(new[] { "estimator.weight", "estimator.bias", "feature_mean", "feature_std", "target_mean", "target_std" }));
    }
}
