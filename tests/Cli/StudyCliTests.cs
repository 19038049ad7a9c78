using System.Text.Json.Nodes;
using QGenEngine.Models.Training;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Cli;

/// <summary>`study plan|run|status` on tiny specs: the plan, skipping and resuming, failures that do not stop the others, and spec errors.</summary>
[TestFixture]
public class StudyCliTests : TempDirTest
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private string Spec(string yaml)
    {
        string path = Path.Combine(Dir, "spec.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private const string Tiny = """
        name: tiny
        model: vae
        options: {epochs: 1, limit: 64, batch-size: 32, eval-images: 10}
        seeds: [1, 2]
        vary: {latent: [16, 32]}
        """;

    [Test]
    public void The_issues_example_plans_four_runs_with_full_command_lines()
    {
        var (code, o, e) = Run("study", "plan", Spec(Tiny), "--dir", Path.Combine(Dir, "s"), "--json");
        Assert.That(code, Is.Zero, e);
        var runs = JsonNode.Parse(o)!["runs"]!.AsArray();
        Assert.That(runs, Has.Count.EqualTo(4));
        Assert.That(runs.Select(r => r!["command"]!.GetValue<string>()), Has.All.StartWith("qgen-engine train vae --batch-size 32 --epochs 1 --eval-images 10 --latent "));
        Assert.That(runs.Select(r => r!["dir"]!.GetValue<string>()).Distinct().Count(), Is.EqualTo(4));
        Assert.That(runs.Select(r => r!["seed"]!.GetValue<int>()), Is.EqualTo(new[] { 1, 2, 1, 2 }));
        Assert.That(runs.Select(r => r!["state"]!.GetValue<string>()), Has.All.EqualTo("pending"));
    }

    [Test]
    public void Configurations_that_coincide_are_one_run_and_a_grid_is_a_product()
    {
        // latent 32 is the default: "vary latent: [32]" and "lr: [0.001]" (also the default) are the same configuration.
        var (code, o, e) = Run("study", "plan", Spec("""
            name: g
            model: vae
            options: {epochs: 1}
            vary: {latent: [16, 32], lr: [0.001]}
            grid: {batch-size: [32, 64]}
            """), "--dir", Path.Combine(Dir, "g"), "--json");
        Assert.That(code, Is.Zero, e);
        // vary gives latent=16, latent=32, lr=0.001 (= latent=32); each crossed with two batch sizes: 2 x 2 distinct.
        var runs = JsonNode.Parse(o)!["runs"]!.AsArray();
        Assert.That(runs, Has.Count.EqualTo(4));
        var base32 = runs.First(r => r!["variation"]!.GetValue<string>() == "latent=32,batch-size=32")!;
        Assert.That(base32["also"]!.AsArray().Select(a => a!.GetValue<string>()), Is.EqualTo(new[] { "lr=0.001,batch-size=32" }), "the base value of lr is that run");
    }

    [Test]
    public void A_run_is_named_by_what_differs_from_its_models_defaults()
    {
        // Spelling a default out changes nothing: the same run directory (so an option added to train later, with a
        // default, leaves existing studies' runs where they are).
        string Dir1(string yaml)
        {
            var (code, o, e) = Run("study", "plan", Spec(yaml), "--dir", Path.Combine(Dir, "d"), "--json");
            Assert.That(code, Is.Zero, e);
            return JsonNode.Parse(o)!["runs"]![0]!["dir"]!.GetValue<string>();
        }
        string plain = Dir1("name: d\nmodel: vae\n");
        Assert.That(Dir1("name: d\nmodel: vae\noptions: {epochs: 20, lr: 0.001, batch-size: 64}\n"), Is.EqualTo(plain));
        Assert.That(Dir1("name: d\nmodel: vae\noptions: {epochs: 19}\n"), Is.Not.EqualTo(plain));
    }

    [Test]
    public void Run_skips_finished_runs_resumes_interrupted_ones_and_keeps_going_past_a_failure()
    {
        string dir = Path.Combine(Dir, "s");
        string spec = Spec("""
            name: mixed
            models: [vae, {model: vae, options: {data: /nonexistent-idx-dir}}]
            options: {epochs: 2, limit: 64, batch-size: 32, eval-images: 10}
            """);
        var (pc, po, pe) = Run("study", "plan", spec, "--dir", dir, "--json");
        Assert.That(pc, Is.Zero, pe);
        var runs = JsonNode.Parse(po)!["runs"]!.AsArray();
        string good = runs[0]!["dir"]!.GetValue<string>(), bad = runs[1]!["dir"]!.GetValue<string>();
        // Interrupt the good run after one epoch: train it with --epochs 1 into its directory.
        var args = runs[0]!["command"]!.GetValue<string>().Split(' ').Skip(1).ToList();
        args[args.IndexOf("--epochs") + 1] = "1";
        var (tc, to, te) = Run([.. args]);
        Assert.That(tc, Is.Zero, te + to);
        string firstEpoch = File.ReadAllLines(Path.Combine(good, Trainer.MetricsFile))[0];

        var (code, o, e) = Run("study", "run", spec, "--dir", dir);
        Assert.That(code, Is.EqualTo(1), "a run failed");
        Assert.That(o, Does.Contain("FAILED").And.Contain("nonexistent-idx-dir"), "the failure with its log's last lines");
        Assert.That(o, Does.Contain("1 of 2 runs finished"));
        var metrics = File.ReadAllLines(Path.Combine(good, Trainer.MetricsFile));
        Assert.That(metrics, Has.Length.EqualTo(2), "resumed to its second epoch");
        Assert.That(metrics[0], Is.EqualTo(firstEpoch), "the first epoch was not redone");
        Assert.That(File.ReadAllText(Path.Combine(good, "train.log")), Does.Contain("--resume"));
        Assert.That(File.Exists(Path.Combine(bad, "study-failed")));

        // A rerun skips the finished run, tries the failed one again, and status lists both.
        var (c2, o2, _) = Run("study", "run", spec, "--dir", dir);
        Assert.That(c2, Is.EqualTo(1));
        Assert.That(o2, Does.Contain("1 finished already"));
        Assert.That(File.ReadAllLines(Path.Combine(good, Trainer.MetricsFile)), Has.Length.EqualTo(2));
        var (c3, o3, _) = Run("study", "status", spec, "--dir", dir);
        Assert.That(c3, Is.Zero);
        Assert.That(o3, Does.Contain("1 failed").And.Contain("1 done"));

        // The report evaluates the finished run and keeps the failed one's place.
        var (c4, o4, e4) = Run("study", "report", spec, "--dir", dir, "--n", "50");
        Assert.That(c4, Is.Zero, e4 + o4);
        Assert.That(File.Exists(Path.Combine(good, "eval.json")));
        string md = File.ReadAllText(Path.Combine(dir, "REPORT.md"));
        Assert.That(md, Does.Contain("## Models").And.Contain("## Quality").And.Contain("## Reconstruction SSIM per class").And.Contain("Not finished (1)"));
        var eval = JsonNode.Parse(File.ReadAllText(Path.Combine(good, "eval.json")))!;
        Assert.That(md, Does.Contain(eval["test_ssim"]!.GetValue<double>().ToString("F4", System.Globalization.CultureInfo.InvariantCulture)), "numbers from the run's eval");
        var csv = File.ReadAllLines(Path.Combine(dir, "results.csv"));
        Assert.That(csv, Has.Length.EqualTo(2));
        Assert.That(csv[1], Does.StartWith(Path.GetFileName(good) + ",vae,base,1,2,3499585,0,"));
        Assert.That(eval["test_ssim_per_class"]!.AsArray(), Has.Count.EqualTo(10));
    }

    [Test]
    public void Ctrl_C_stops_the_study_cleanly_and_a_rerun_continues()
    {
        string dir = Path.Combine(Dir, "s");
        string spec = Spec("""
            name: stop
            model: vae
            options: {epochs: 3, limit: 512, batch-size: 32, eval-images: 10, fid-every: 0}
            seeds: [1, 2]
            """);
        var plan = QGenEngine.Cli.Commands.StudyCommand.Load(spec, null, dir).Runs;
        using var cts = new CancellationTokenSource();
        var o = new StringWriter();
        var task = Task.Run(() => QGenEngine.Cli.App.Run(["study", "run", spec, "--dir", dir], o, o, cts.Token));
        // Interrupt once the first run has finished an epoch (it has a checkpoint to resume from).
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!File.Exists(Path.Combine(plan[0].Dir, Trainer.CheckpointFile)) && sw.Elapsed.TotalSeconds < 120) Thread.Sleep(100);
        cts.Cancel();
        Assert.That(task.Wait(TimeSpan.FromSeconds(120)), "the study stopped");
        Assert.That(task.Result, Is.EqualTo(130), o.ToString());
        Assert.That(o.ToString(), Does.Contain("stopped - run the same command again to continue"));
        Assert.That(QGenEngine.Studies.StudyRunner.Finished(plan[1]), Is.False, "the second run never started");
        var (code, o2, e2) = Run("study", "run", spec, "--dir", dir);
        Assert.That(code, Is.Zero, o2 + e2);
        Assert.That(plan.All(QGenEngine.Studies.StudyRunner.Finished));
        Assert.That(File.ReadAllText(Path.Combine(plan[0].Dir, "train.log")), Does.Contain("--resume"), "the interrupted run resumed from its checkpoint");
    }

    [Test]
    public void Runs_are_summarised_as_they_land_and_a_new_machine_trains_only_what_the_summaries_lack()
    {
        string dir = Path.Combine(Dir, "s"), sums = Path.Combine(Dir, "docs");
        string spec = Spec("""
            name: landed
            models: [vqvae, {model: prior, options: {vqvae: "@vqvae"}}, vae]
            options: {epochs: 1, limit: 64, batch-size: 32, eval-images: 10, fid-every: 0}
            """);
        var plan = QGenEngine.Cli.Commands.StudyCommand.Load(spec, null, dir).Runs;
        // Trained without --summaries; then the vae is lost, and the study runs again with them: the two finished runs
        // are only evaluated and summarised, the vae is trained and summarised as it lands.
        var (c0, o0, e0) = Run("study", "run", spec, "--dir", dir);
        Assert.That(c0, Is.Zero, o0 + e0);
        Directory.Delete(plan[2].Dir, recursive: true);
        var metrics0 = File.ReadAllText(Path.Combine(plan[0].Dir, Trainer.MetricsFile));
        var (code, o, e) = Run("study", "run", spec, "--dir", dir, "--summaries", sums, "--n", "20");
        Assert.That(code, Is.Zero, o + e);
        Assert.That(o, Does.Contain("summarising " + plan[0].Name).And.Contain("summarising " + plan[1].Name).And.Contain("started  " + plan[2].Name));
        Assert.That(File.ReadAllText(Path.Combine(plan[0].Dir, Trainer.MetricsFile)), Is.EqualTo(metrics0), "a finished run is not trained again");
        foreach (var r in plan)
        {
            string s = Path.Combine(sums, "runs", r.Name);
            Assert.That(File.Exists(Path.Combine(s, "summary.json")) && File.Exists(Path.Combine(s, "eval.json")), $"{r.Name} summarised as it finished");
            Assert.That(JsonNode.Parse(File.ReadAllText(Path.Combine(s, "eval.json")))!["samples"]?.GetValue<int>() ?? 20, Is.EqualTo(20));
        }
        Assert.That(File.ReadAllText(Path.Combine(plan[2].Dir, "train.log")), Does.Contain("summarised " + plan[2].Name));

        // A new machine: the study directory is gone, the summaries were committed. Nothing is trained again ...
        Directory.Delete(dir, recursive: true);
        var (c2, o2, e2) = Run("study", "status", spec, "--dir", dir, "--summaries", sums);
        Assert.That(c2, Is.Zero, e2);
        Assert.That(o2, Does.Contain("3 summarised"));
        var (c3, o3, e3) = Run("study", "run", spec, "--dir", dir, "--summaries", sums, "--n", "20");
        Assert.That(c3, Is.Zero, o3 + e3);
        Assert.That(o3, Does.Contain("3 finished already (3 of them summarised"));
        Assert.That(Directory.Exists(plan[0].Dir), Is.False, "no run was trained again");
        // ... unless a run still to train needs a summarised run's checkpoint: the prior needs its VQ-VAE's.
        Directory.Delete(Path.Combine(sums, "runs", plan.Single(r => r.Model == "prior").Name), recursive: true);
        var (_, o4, _) = Run("study", "plan", spec, "--dir", dir, "--summaries", sums, "--json");
        var states = JsonNode.Parse(o4)!["runs"]!.AsArray().ToDictionary(r => r!["model"]!.GetValue<string>(), r => r!["state"]!.GetValue<string>());
        Assert.That(states, Is.EqualTo(new Dictionary<string, string> { ["vqvae"] = "pending", ["prior"] = "pending", ["vae"] = "summarised" }));
        // Without --summaries a study knows only its directory.
        var (_, o5, _) = Run("study", "status", spec, "--dir", dir);
        Assert.That(o5, Does.Contain("3 pending"));
    }

    [Test]
    public void A_run_another_process_trains_is_left_to_it_and_what_needs_it_waits()
    {
        string dir = Path.Combine(Dir, "s");
        string spec = Spec("""
            name: shared
            models: [vqvae, {model: prior, options: {vqvae: "@vqvae"}}, vae]
            options: {epochs: 1, limit: 64, batch-size: 32, eval-images: 10, fid-every: 0}
            """);
        var plan = QGenEngine.Cli.Commands.StudyCommand.Load(spec, null, dir).Runs;
        var vq = plan.Single(r => r.Model == "vqvae");
        Directory.CreateDirectory(vq.Dir);
        // Another process holds the VQ-VAE's run lock (as a `train` does while it trains).
        var holder = new FileStream(Path.Combine(vq.Dir, Trainer.LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var o = new StringWriter();
        var task = Task.Run(() => QGenEngine.Cli.App.Run(["study", "run", spec, "--dir", dir, "--jobs", "2"], o, o, CancellationToken.None));
        var vae = plan.Single(r => r.Model == "vae");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!QGenEngine.Studies.StudyRunner.Finished(vae) && sw.Elapsed.TotalSeconds < 120) Thread.Sleep(100);
        Assert.That(QGenEngine.Studies.StudyRunner.Finished(vae), "the run nobody else trains was trained");
        Thread.Sleep(1000);
        Assert.That(task.IsCompleted, Is.False, "the study waits for the VQ-VAE the prior needs");
        Assert.That(o.ToString(), Does.Contain(vq.Name + ": being trained by another process"));
        Assert.That(Directory.Exists(plan.Single(r => r.Model == "prior").Dir), Is.False, "the prior did not start before its VQ-VAE finished");
        // The other process goes away without finishing: the study says so and trains the VQ-VAE itself, then the prior.
        holder.Dispose();
        Assert.That(task.Wait(TimeSpan.FromSeconds(180)), "the study ended");
        Assert.That(task.Result, Is.Zero, o.ToString());
        Assert.That(o.ToString(), Does.Contain("left     " + vq.Name));
        Assert.That(plan.All(QGenEngine.Studies.StudyRunner.Finished), o.ToString());
    }

    [Test]
    public void A_spec_with_noise_models_evaluates_its_circuits_under_each_and_reports_both()
    {
        string dir = Path.Combine(Dir, "s"), sums = Path.Combine(Dir, "docs");
        string device = Path.Combine(AppContext.BaseDirectory, "fixtures", "device-noise", "ibm_properties.json");
        string spec = Spec($$"""
            name: noisy
            models: [qgan, gan]
            options: {qubits: 4, layers: 1, epochs: 1, limit: 64, batch-size: 32, eval-images: 10, fid-every: 0}
            noise_models: ["{{device}}"]
            """);
        var (code, o, e) = Run("study", "run", spec, "--dir", dir, "--summaries", sums, "--n", "20", "--probe-steps", "4");
        Assert.That(code, Is.Zero, o + e);
        var plan = QGenEngine.Cli.Commands.StudyCommand.Load(spec, null, dir).Runs;
        var qgan = plan.Single(r => r.Model == "qgan");
        var gan = plan.Single(r => r.Model == "gan");
        foreach (var r in new[] { qgan, gan })   // each GAN's discriminator probed as it landed, at the steps asked for, and summarised
            Assert.That(JsonNode.Parse(File.ReadAllText(Path.Combine(sums, "runs", r.Name, "probe.json")))!["steps"]!.GetValue<int>(), Is.EqualTo(4), r.Name);
        var noisy = Path.Combine(sums, "runs", qgan.Name, "eval-noise-ibm_properties.json");
        Assert.That(File.Exists(noisy), "the qgan's circuit was evaluated under the calibration and the result summarised");
        Assert.That(File.Exists(Path.Combine(gan.Dir, "eval-noise-ibm_properties.json")), Is.False, "the gan has no circuit");
        var (c2, o2, e2) = Run("study", "report", spec, "--dir", dir, "--out", sums, "--n", "20", "--probe-steps", "4");
        Assert.That(c2, Is.Zero, o2 + e2);
        Assert.That(o2, Does.Not.Contain("probing"), "probed already: not again");
        string md = File.ReadAllText(Path.Combine(sums, "REPORT.md"));
        Assert.That(md, Does.Contain("## On a device (noise models)").And.Contain("(fake_ibm_5q)"));
        Assert.That(md, Does.Contain("## The discriminator: equilibrium or stalled?"));
        double fid = JsonNode.Parse(File.ReadAllText(noisy))!["fid"]!.GetValue<double>();
        var row = md.Split('\n').Single(l => l.StartsWith("| qgan | 1 |", StringComparison.Ordinal) && l.Contains(fid.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(row.Split('|'), Has.Length.EqualTo(9), "one row per configuration: " + row);
    }

    /// <summary>`study run` then `study report` (both must succeed); the report's text.</summary>
    private string RunAndReport(string spec, string dir, params string[] reportOptions)
    {
        var (c1, o1, e1) = Run("study", "run", spec, "--dir", dir);
        Assert.That(c1, Is.Zero, o1 + e1);
        var (c2, o2, e2) = Run(["study", "report", spec, "--dir", dir, .. reportOptions]);
        Assert.That(c2, Is.Zero, o2 + e2);
        return File.ReadAllText(Path.Combine(dir, "REPORT.md"));
    }

    [Test]
    public void A_study_with_a_router_reports_the_routing_table()
    {
        string dir = Path.Combine(Dir, "s");
        string spec = Spec("""
            name: routed
            models: [vae, qvae, {model: router, options: {classical-run: "@vae", quantum-run: "@qvae"}}]
            options: {epochs: 1, limit: 128, batch-size: 32, eval-images: 10, fid-every: 0}
            """);
        string md = RunAndReport(spec, dir, "--n", "20", "--route-images", "200");
        Assert.That(md, Does.Contain("## Router").And.Contain("| oracle |").And.Contain("| all-quantum |"));
        var router = QGenEngine.Cli.Commands.StudyCommand.Load(spec, null, dir).Runs.Single(r => r.Model == "router");
        var route = JsonNode.Parse(File.ReadAllText(Path.Combine(router.Dir, "route.json")))!;
        Assert.That(route["images"]!.GetValue<int>(), Is.EqualTo(200));
        Assert.That(md, Does.Contain(route["quality"]!["ssim"]!.GetValue<double>().ToString("F4", System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void A_negative_probe_step_count_is_refused()
    {
        string spec = Spec("name: p\nmodel: gan\n");
        var (code, o, e) = Run("study", "report", spec, "--dir", Path.Combine(Dir, "s"), "--probe-steps", "-3");
        UserError.Assert(code, o, e, "--probe-steps", "-3");
    }

    [Test]
    public void A_gan_study_reports_the_training_stability_from_eval()
    {
        string dir = Path.Combine(Dir, "s");
        string spec = Spec("""
            name: stable
            model: gan
            options: {epochs: 1, limit: 128, batch-size: 32, eval-images: 10, fid-every: 0}
            """);
        string md = RunAndReport(spec, dir, "--n", "20", "--probe-steps", "0");
        Assert.That(md, Does.Contain("## Training stability"));
        Assert.That(md, Does.Not.Contain("## The discriminator"), "--probe-steps 0: no probe");
        var run = QGenEngine.Cli.Commands.StudyCommand.Load(spec, null, dir).Runs.Single();
        var eval = JsonNode.Parse(File.ReadAllText(Path.Combine(run.Dir, "eval.json")))!;
        string F3(double v) => v.ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
        var row = md.Split('\n').SkipWhile(l => l != "## Training stability").First(l => l.StartsWith("| gan | 1 |", StringComparison.Ordinal));
        var last = JsonNode.Parse(File.ReadAllLines(Path.Combine(run.Dir, "metrics.jsonl")).Last())!;
        Assert.That(row, Does.StartWith($"| gan | 1 | {F3(last["d_real"]!.GetValue<double>())} | {F3(last["d_fake"]!.GetValue<double>())} |"), "the last epoch's mean D(real), D(fake)");
        Assert.That(row, Does.Contain(F3(eval["last_epoch_spread"]!["d_loss"]!.GetValue<double>())).And.Contain(F3(eval["last_epoch_spread"]!["g_loss"]!.GetValue<double>())),
            "the spreads from the run's eval.json");
        Assert.That(row, Does.Contain(F3(eval["modes_kl"]!.GetValue<double>())));
    }

    [Test]
    public void Runs_start_seed_by_seed_so_a_stopped_study_holds_one_of_everything()
    {
        var runs = QGenEngine.Cli.Commands.StudyCommand.Load(Spec("""
            name: order
            models: [vae, gan, {model: vqvae}, {model: prior, options: {vqvae: "@vqvae"}}]
            seeds: [3, 1, 2]
            """), null, Path.Combine(Dir, "o")).Runs;
        var order = QGenEngine.Studies.StudyRunner.SeedMajor(runs).Select(i => (runs[i].Model, runs[i].Seed)).ToList();
        Assert.That(order.Take(4), Is.EqualTo(new[] { ("vae", 3), ("gan", 3), ("vqvae", 3), ("prior", 3) }), "the spec's first seed, every model, in the spec's order");
        Assert.That(order.Skip(4).Take(4).Select(x => x.Seed), Has.All.EqualTo(1));
        Assert.That(order.Skip(8).Select(x => x.Seed), Has.All.EqualTo(2));
        // Every run's dependencies come before it in this order.
        foreach (var r in runs)
            foreach (int d in r.Needs) Assert.That(order.IndexOf((runs[d].Model, runs[d].Seed)), Is.LessThan(order.IndexOf((r.Model, r.Seed))));
    }

    [Test]
    public void Study_directories_go_under_QGEN_STUDIES_when_it_is_set()
    {
        string spec = Spec("name: where\nmodel: vae\n");
        string old = Environment.GetEnvironmentVariable(QGenEngine.Cli.Commands.StudyCommand.StudiesVariable) ?? "";
        try
        {
            Environment.SetEnvironmentVariable(QGenEngine.Cli.Commands.StudyCommand.StudiesVariable, Path.Combine(Dir, "elsewhere"));
            Assert.That(QGenEngine.Cli.Commands.StudyCommand.Load(spec, null, null).Dir, Is.EqualTo(Path.Combine(Dir, "elsewhere", "where")));
            Environment.SetEnvironmentVariable(QGenEngine.Cli.Commands.StudyCommand.StudiesVariable, null);
            Assert.That(QGenEngine.Cli.Commands.StudyCommand.Load(spec, null, null).Dir, Is.EqualTo(Path.Combine("runs", "studies", "where")));
        }
        finally { Environment.SetEnvironmentVariable(QGenEngine.Cli.Commands.StudyCommand.StudiesVariable, old.Length > 0 ? old : null); }
    }

    [Test]
    public void A_prior_runs_on_its_own_seeds_vqvae()
    {
        var (code, o, e) = Run("study", "plan", Spec("""
            name: p
            models: [vqvae, {model: prior, options: {vqvae: "@vqvae"}}]
            options: {epochs: 1}
            seeds: [1, 2]
            """), "--dir", Path.Combine(Dir, "p"), "--json");
        Assert.That(code, Is.Zero, e);
        var runs = JsonNode.Parse(o)!["runs"]!.AsArray();
        Assert.That(runs, Has.Count.EqualTo(4));
        var prior1 = runs.Single(r => r!["model"]!.GetValue<string>() == "prior" && r["seed"]!.GetValue<int>() == 1)!;
        var vq1 = runs.Single(r => r!["model"]!.GetValue<string>() == "vqvae" && r["seed"]!.GetValue<int>() == 1)!;
        Assert.That(prior1["command"]!.GetValue<string>(), Does.Contain("--vqvae " + vq1["dir"]!.GetValue<string>()));
        Assert.That(prior1["needs"]!.AsArray().Select(n => n!.GetValue<int>()), Is.EqualTo(new[] { vq1["index"]!.GetValue<int>() }));
    }

    [Test]
    public void A_runs_name_does_not_depend_on_where_the_study_lives()
    {
        // A prior's configuration names its vqvae's run directory; its identity counts that run by name, so the same
        // spec planned in two places gives the same run names (a clean clone finds the committed summaries).
        string spec = Spec("""
            name: p
            models: [vqvae, {model: prior, options: {vqvae: "@vqvae"}}, {model: prior, options: {vqvae: "@vqvae", lr: 0.002}}]
            options: {epochs: 1}
            seeds: [1, 2]
            """);
        List<string> Names(string dir)
        {
            var (code, o, e) = Run("study", "plan", spec, "--dir", dir, "--json");
            Assert.That(code, Is.Zero, e);
            return JsonNode.Parse(o)!["runs"]!.AsArray().Select(r => Path.GetFileName(r!["dir"]!.GetValue<string>())).ToList();
        }
        var here = Names(Path.Combine(Dir, "here"));
        Assert.That(Names(Path.Combine(Dir, "elsewhere", "deeper")), Is.EqualTo(here));
        Assert.That(here, Has.Count.EqualTo(6).And.Exactly(4).StartsWith("prior-"));
        Assert.That(here.Distinct().Count(), Is.EqualTo(6), "each seed's prior, and each lr, is its own run: the identity still holds the vqvae run it names");
    }

    [TestCase("name: x\nmodel: vae\nvarry: {latent: [1]}\n", "spec.yaml:3: unknown key 'varry'")]
    [TestCase("name: x\nmodel: vae\noptions:\n  epochs: 1\n  lattent: 3\n", "spec.yaml:5: 'lattent' is not an option of `train`")]
    [TestCase("name: x\nmodel: vae\noptions: {epochs: 0}\n", "--epochs: 0 must be ≥ 1")]
    [TestCase("name: x\nmodel: vae\noptions: {lr: fast}\n", "fast")]
    [TestCase("name: x\nmodel: vae\nvary: {latent: []}\n", "spec.yaml:3: 'vary.latent' is empty")]
    [TestCase("name: x\nmodel: vea\n", "unknown model 'vea'")]
    [TestCase("name: x\nmodel: vae\noptions: {out: here}\n", "'out' is the study's to set")]
    [TestCase("name: x\nmodel: vae\nseeds: []\n", "'seeds' is empty")]
    [TestCase("name: x\nmodel: qgan\nnoise_models: [missing.json]\n", "spec.yaml:3: noise model")]
    [TestCase("name: x\nmodel: qgan\nnoise_models: ibm.json\n", "'noise_models' must be a list")]
    [TestCase("name: x\nmodel: vae\ncomparisons: [[vae, qvae]]\n", "spec.yaml:3: comparison names 'qvae', which the study does not train")]
    [TestCase("name: x\nmodel: vae\ncomparisons: [vae]\n", "spec.yaml:3: a comparison is a pair of models")]
    [TestCase("name: x\nmodels: [vae, qvae]\ncomparisons: [[qvae, vae, the circuit, more]]\n", "spec.yaml:3: a comparison is a pair of models")]
    [TestCase("name: x\nmodels: [vae, qvae]\ncomparisons: [[vae, vae]]\n", "spec.yaml:3: compares 'vae' with itself")]
    [TestCase("name: x\nmodel: gan\nvary: {d-lr: [0, 0.0008]}\ncomparisons: [[gan d-lr=0.0004, gan d-lr=0]]\n",
              "spec.yaml: comparison names 'gan d-lr=0.0004', which is no configuration of the study; expected one of gan d-lr=0, gan d-lr=0.0008")]
    [TestCase("name: x\nmodel: gan\nvary: {d-lr: [0, 0.0008]}\ncomparisons: [[gan, gan d-lr=0]]\n", "comparison names 'gan', which is no configuration")]
    [TestCase("name: x\nmodels: [{model: prior, options: {vqvae: \"@vqvae\"}}]\n", "list 'vqvae' first")]
    [TestCase("name: [x\n", "not valid YAML")]
    public void Bad_specs_give_one_line_naming_the_file_and_line(string yaml, string expected)
    {
        var (code, o, e) = Run("study", "plan", Spec(yaml), "--dir", Path.Combine(Dir, "x"));
        UserError.Assert(code, o, e, expected);
        Assert.That(Directory.Exists(Path.Combine(Dir, "x")), Is.False, "nothing created");
    }

    [TestCase("compare.yaml", null, 30)]
    [TestCase("compare.yaml", "full", 30)]
    [TestCase("compare.yaml", "quick", 10)]
    [TestCase("compare.yaml", "fashion-quick", 10)]
    [TestCase("ablations.yaml", null, 60)]
    [TestCase("ablations.yaml", "quick", 20)]
    [TestCase("discriminator.yaml", "short", 18)]
    public void The_shipped_studies_plan(string file, string? profile, int runs)
    {
        string[] args = ["study", "plan", Path.Combine(TorchScript.Repo(), "studies", file), "--json", .. profile is null ? Array.Empty<string>() : ["--profile", profile]];
        var (code, o, e) = Run(args);
        Assert.That(code, Is.Zero, e);
        Assert.That(JsonNode.Parse(o)!["runs"]!.AsArray(), Has.Count.EqualTo(runs));
    }

    [Test]
    public void Profiles_override_the_base()
    {
        var (code, o, e) = Run("study", "plan", Spec(Tiny + "\nprofiles: {quick: {options: {epochs: 2}, seeds: [7]}}\n"), "--profile", "quick", "--json");
        Assert.That(code, Is.Zero, e);
        var j = JsonNode.Parse(o)!;
        Assert.That(j["dir"]!.GetValue<string>(), Is.EqualTo(Path.Combine("runs", "studies", "tiny-quick")));
        Assert.That(j["runs"]!.AsArray().Select(r => r!["command"]!.GetValue<string>()), Has.All.Contain("--epochs 2").And.All.Contain("--seed 7"));
        var (c2, _, e2) = Run("study", "plan", Spec(Tiny), "--profile", "slow");
        Assert.That(c2, Is.EqualTo(2)); Assert.That(e2, Does.Contain("no profile 'slow'"));
    }
}
