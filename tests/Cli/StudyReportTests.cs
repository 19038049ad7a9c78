using QGenEngine.Studies;
using System.Globalization;
using System.Text.Json.Nodes;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Cli;

/// <summary>
/// `study report` from committed summaries alone (issue #23): tests/fixtures/study-report holds a tiny study's spec and
/// each run's summary (config, metrics, eval, a sample strip, summary.json) - no run directory, no checkpoint - and the
/// REPORT.md and results.csv they gave when they were made (tools/study/make_report_fixture.sh).
/// </summary>
[TestFixture]
public class StudyReportTests : TempDirTest
{
    private static string Fixture => Path.Combine(AppContext.BaseDirectory, "fixtures", "study-report");

    private (string Spec, string Dir, string Report) CopyFixture()
    {
        string spec = Path.Combine(Dir, "tiny.yaml"), report = Path.Combine(Dir, "report");
        File.Copy(Path.Combine(Fixture, "tiny.yaml"), spec);
        foreach (var f in Directory.GetFiles(Path.Combine(Fixture, "report"), "*", SearchOption.AllDirectories))
        {
            string dst = Path.Combine(report, Path.GetRelativePath(Path.Combine(Fixture, "report"), f));
            Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
            File.Copy(f, dst);
        }
        return (spec, Path.Combine(Dir, "runs-that-are-gone"), report);
    }

    [Test]
    public void The_report_is_rebuilt_from_the_committed_summaries_without_checkpoints()
    {
        var (spec, dir, report) = CopyFixture();
        File.Delete(Path.Combine(report, "REPORT.md")); File.Delete(Path.Combine(report, "results.csv"));
        Assert.That(Directory.Exists(dir), Is.False);
        var (code, o, e) = CliRunner.Run("study", "report", spec, "--dir", dir, "--out", report);
        Assert.That(code, Is.Zero, o + e);
        Assert.That(o, Does.Contain("6 runs; 0 not finished"));
        Assert.That(o, Does.Not.Contain("evaluating"), "nothing to evaluate: there are no run directories");
        string Expected(string file) => File.ReadAllText(Path.Combine(Fixture, "report", file)).Replace("{SPEC}", spec).Replace("{DIR}", dir);
        Assert.That(File.ReadAllText(Path.Combine(report, "REPORT.md")), Is.EqualTo(Expected("REPORT.md")));
        Assert.That(File.ReadAllText(Path.Combine(report, "results.csv")), Is.EqualTo(Expected("results.csv")));
        foreach (var png in new[] { "samples.png", "curves-test-ssim.png", "curves-g-loss.png" })
            Assert.That(new FileInfo(Path.Combine(report, png)).Length, Is.GreaterThan(1000), png);
    }

    [Test]
    public void The_claims_table_measures_each_claim_from_the_committed_full_study()
    {
        // The full comparison's committed summaries (docs/studies/compare-full/runs), whatever has landed: gan and qgan seed 1 at least.
        string repo = TorchScript.Repo(), report = Path.Combine(Dir, "report");
        foreach (var f in Directory.GetFiles(Path.Combine(repo, "docs", "studies", "compare-full", "runs"), "*", SearchOption.AllDirectories))
        {
            string dst = Path.Combine(report, "runs", Path.GetRelativePath(Path.Combine(repo, "docs", "studies", "compare-full", "runs"), f));
            Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
            File.Copy(f, dst);
        }
        var (code, o, e) = CliRunner.Run("study", "report", Path.Combine(repo, "studies", "compare.yaml"), "--profile", "full", "--dir", Path.Combine(Dir, "gone"), "--out", report);
        Assert.That(code, Is.Zero, o + e);
        // Every committed summary is found from a study directory elsewhere - the prior's and the router's too, whose
        // configurations name other runs' directories.
        int committed = Directory.GetDirectories(Path.Combine(report, "runs")).Length;
        Assert.That(o, Does.Contain($"({committed} runs; {30 - committed} not finished)"));
        string md = File.ReadAllText(Path.Combine(report, "REPORT.md"));
        string Row(string claim) => md.Split('\n').Single(l => l.StartsWith($"| {claim}", StringComparison.Ordinal));
        List<string> Runs(string model) => Directory.GetDirectories(Path.Combine(report, "runs"), model + "-base-s*").ToList();
        // A run's typical epoch: the median of its CPU times where a one-thread run recorded them, else of its wall-clock times.
        static double Median(List<double> a) { a.Sort(); return a.Count % 2 == 1 ? a[a.Count / 2] : (a[a.Count / 2 - 1] + a[a.Count / 2]) / 2; }
        static double Typical(string d)
        {
            var es = File.ReadAllLines(Path.Combine(d, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
            bool cpu = es.Any(e => e["cpu_seconds"] is not null) && es.All(e => e["threads"]?.GetValue<int>() == 1);
            return Median(es.Where(e => !cpu || e["cpu_seconds"] is not null).Select(e => e[cpu ? "cpu_seconds" : "seconds"]!.GetValue<double>()).ToList());
        }
        double SecondsPerEpoch(string model) => Runs(model).Select(Typical).Average();
        double ratio = SecondsPerEpoch("qgan") / SecondsPerEpoch("gan");
        Assert.That(Row("quantum training is 3-5x slower"), Does.Contain($"qgan / gan: {ratio.ToString("F2", CultureInfo.InvariantCulture)}x s/epoch")
                                                                .And.Contain(ratio >= 3 ? "| reproduced" : "| not reproduced"));
        double Spread(string model, string k) => Runs(model).Select(d => JsonNode.Parse(File.ReadAllText(Path.Combine(d, "eval.json")))!["last_epoch_spread"]![k]!.GetValue<double>()).Average();
        Assert.That(Row("the quantum GAN's losses varied more"), Does.Contain($"d_loss {Spread("qgan", "d_loss").ToString("F3", CultureInfo.InvariantCulture)} vs {Spread("gan", "d_loss").ToString("F3", CultureInfo.InvariantCulture)}"));
        Assert.That(Row("the quantum model is better than gan (qgan)"), Does.Contain("FID "));
        Assert.That(Row("gradients vanish beyond 4 layers"), Does.Contain("studies/ablations.yaml"), "the compare study has no depth ablation");
        // What can be concluded: Holm's p is never below Welch's, and qgan − gan is split along gan → gan-uniform →
        // qgan-control → qgan, whose differences of means add up to it.
        var conclusions = md[md.IndexOf("## What can be concluded", StringComparison.Ordinal)..md.IndexOf("## Models", StringComparison.Ordinal)].Split('\n');
        var tested = conclusions.Where(l => l.StartsWith('|') && l.Split(" | ")[0].Contains(" − ", StringComparison.Ordinal)).ToList();
        Assert.That(tested.Count(l => l.Contains("| FID |", StringComparison.Ordinal)), Is.EqualTo(7), "every comparison's FID");
        foreach (var row in tested)
        {
            var cells = row.Split(" | ");
            if (cells[7] == "-") { Assert.That(cells[9], Does.StartWith("not tested yet"), row); continue; }
            Assert.That(double.Parse(cells[8], CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(double.Parse(cells[7], CultureInfo.InvariantCulture)), row);
        }
        int split = Array.FindIndex(conclusions, l => l.StartsWith("qgan − gan, FID: the difference split", StringComparison.Ordinal));
        Assert.That(split, Is.GreaterThan(0), "the qgan − gan split");
        var steps = conclusions.Skip(split + 4).TakeWhile(l => l.StartsWith('|')).Select(l => l.Split(" | ")).ToList();
        Assert.That(steps.Select(c => c[0]), Is.EqualTo(new[] { "| gan → gan-uniform", "| gan-uniform → qgan-control", "| qgan-control → qgan", "| **gan → qgan (all steps)**" }));
        double Diff(string[] c) => double.Parse(c[2], CultureInfo.InvariantCulture);
        Assert.That(steps.Take(3).Sum(Diff), Is.EqualTo(Diff(steps[3])).Within(0.15), "the steps add up to the whole (each rounded to 0.1)");
        // Under a device's noise, the qvae's samples are the noiseless ones (its circuit is in the encoder); the qgan's are not.
        int from = md.IndexOf("## On a device", StringComparison.Ordinal);
        string[] noise = md[from..md.IndexOf("\n## ", from + 1, StringComparison.Ordinal)].Split('\n');
        Assert.That(noise.Single(l => l.StartsWith("| qvae |", StringComparison.Ordinal)), Does.Contain("| none (no circuit in sampling) |"));
        Assert.That(noise, Has.Some.StartsWith("qvae: the same FID to the last digit on the device - sampling does not run the circuit"));
        Assert.That(noise.Single(l => l.StartsWith("| qgan |", StringComparison.Ordinal)), Does.Not.Contain("none"), "the qgan's generator is the circuit: noise changes its FID");
    }

    [Test]
    public void The_READMEs_headline_tables_are_the_committed_full_studys_numbers()
    {
        // README.md's results (the headline) against docs/studies/compare-full/results.csv, which `study report` writes
        // with REPORT.md: each model's n and mean ± sd over its base runs, to the decimals the README prints. A summary
        // committed and the report rebuilt without the README following fails here.
        string repo = TorchScript.Repo();
        var csv = File.ReadAllLines(Path.Combine(repo, "docs", "studies", "compare-full", "results.csv"));
        var head = csv[0].Split(',');
        var rows = csv.Skip(1).Select(l => l.Split(',')).Where(c => c[Array.IndexOf(head, "variation")] == "base").ToList();
        List<double> Values(string model, string key) =>
            rows.Where(c => c[Array.IndexOf(head, "model")] == model).Select(c => c[Array.IndexOf(head, key)])
                .Where(v => v.Length > 0).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
        var readme = File.ReadAllLines(Path.Combine(repo, "README.md"));
        int checkedCells = 0;
        foreach (var (header, keys) in new[] { ("| model | what it is | n | FID | IS |", new[] { "fid", "is" }), ("| model | what it is | n | test SSIM | FID |", new[] { "test_ssim", "fid" }) })
        {
            int at = Array.IndexOf(readme, header);
            Assert.That(at, Is.GreaterThan(0), $"README.md has the table '{header}'");
            foreach (var line in readme.Skip(at + 2).TakeWhile(l => l.StartsWith('|')))
            {
                var cells = line.Trim('|').Split('|').Select(c => c.Trim().Replace("**", "")).ToArray();
                string model = cells[0];
                Assert.That(cells[2], Is.EqualTo(Values(model, keys[0]).Count.ToString(CultureInfo.InvariantCulture)), $"{model}: n");
                for (int k = 0; k < keys.Length; k++)
                {
                    string cell = cells[3 + k];
                    var v = Values(model, keys[k]);
                    int decimals = cell.Split(' ')[0].Split('.').ElementAtOrDefault(1)?.Length ?? 0;
                    string f = "F" + decimals, mean = v.Average().ToString(f, CultureInfo.InvariantCulture);
                    string expected = cell.Contains('±') && v.Count > 1
                        ? $"{mean} ± {Math.Sqrt(v.Sum(x => (x - v.Average()) * (x - v.Average())) / (v.Count - 1)).ToString(f, CultureInfo.InvariantCulture)}" : mean;
                    Assert.That(cell, Is.EqualTo(expected), $"README.md: {model}'s {keys[k]} (results.csv: {string.Join(", ", v)})");
                    checkedCells++;
                }
            }
        }
        Assert.That(checkedCells, Is.GreaterThanOrEqualTo(14), "both tables, every model");
    }

    [Test]
    public void The_numbers_are_the_summaries_and_the_statistics_are_welchs()
    {
        var (spec, dir, report) = CopyFixture();
        var (code, o, e) = CliRunner.Run("study", "report", spec, "--dir", dir, "--out", report);
        Assert.That(code, Is.Zero, o + e);
        string md = File.ReadAllText(Path.Combine(report, "REPORT.md"));
        double Eval(string run, string key) => JsonNode.Parse(File.ReadAllText(Directory.GetDirectories(Path.Combine(report, "runs"), run + "*").Single() + "/eval.json"))![key]!.GetValue<double>();
        string F(double v, string f) => v.ToString(f, CultureInfo.InvariantCulture);
        // The qgan-control - gan FID row: the means of the two seeds' evals and Welch's test on them.
        double[] control = [Eval("qgan-control-base-s1", "fid"), Eval("qgan-control-base-s2", "fid")], gan = [Eval("gan-base-s1", "fid"), Eval("gan-base-s2", "fid")];
        var w = QGenEngine.Models.Metrics.Statistics.Welch(control, gan);
        var row = md.Split('\n').Single(l => l.StartsWith("| qgan-control − gan | FID |", StringComparison.Ordinal));
        Assert.That(row, Does.Contain($"| {F(w.Difference, "F1")} | [{F(w.Low, "F1")}, {F(w.High, "F1")}] | {F(w.P, "F3")} |"));
        Assert.That(md, Does.Contain(F(Eval("vae-base-s1", "test_ssim"), "F4")), "a reconstruction score from its eval.json");
        Assert.That(md, Does.Contain("## Fidelity and diversity").And.Contain("## Generation per class").And.Contain("## Comparisons"));
        Assert.That(md, Does.Contain("MNIST metric classifier"), "the report names the classifier that scored the runs");
        // The discriminator's last-epoch means: from the summaries' metrics.jsonl, mean over the two seeds.
        double Last(string run, string key) => JsonNode.Parse(File.ReadAllLines(Directory.GetDirectories(Path.Combine(report, "runs"), run + "*").Single() + "/metrics.jsonl").Last())![key]!.GetValue<double>();
        double gap = (Last("gan-base-s1", "d_real") - Last("gan-base-s1", "d_fake") + Last("gan-base-s2", "d_real") - Last("gan-base-s2", "d_fake")) / 2;
        var stability = md.Split('\n').SkipWhile(l => l != "## Training stability").Single(l => l.StartsWith("| gan | 2 |", StringComparison.Ordinal));
        Assert.That(stability, Does.StartWith($"| gan | 2 | {F((Last("gan-base-s1", "d_real") + Last("gan-base-s2", "d_real")) / 2, "F3")} ±"));
        Assert.That(stability.Split(" | ")[4], Does.StartWith(F(gap, "F3") + " ±"), "D(real) − D(fake)");
    }

    [Test]
    public void Runs_without_a_summary_are_listed_with_the_command_that_completes_them()
    {
        var (spec, dir, report) = CopyFixture();
        var gone = Directory.GetDirectories(Path.Combine(report, "runs"), "gan-base-s2*").Single();
        Directory.Delete(gone, recursive: true);
        var (code, o, e) = CliRunner.Run("study", "report", spec, "--dir", dir, "--out", report);
        Assert.That(code, Is.Zero, o + e);
        string md = File.ReadAllText(Path.Combine(report, "REPORT.md"));
        Assert.That(md, Does.Contain($"Not finished (1): {Path.GetFileName(gone)} (pending)"));
        Assert.That(md, Does.Contain($"tools/study/start.sh {spec}"));
        var row = md.Split('\n').Single(l => l.StartsWith("| qgan-control − gan | FID |", StringComparison.Ordinal));
        Assert.That(row, Does.Contain("n < 2 on a side"), "one gan seed left: no interval");
    }

    [Test]
    public void A_comparison_of_two_configurations_of_one_model_is_tested_on_their_runs()
    {
        // discriminator.yaml compares each GAN at --d-lr 8e-4 with itself at --d-lr 0; its committed summaries rebuild the report.
        string repo = TorchScript.Repo(), from = Path.Combine(repo, "docs", "studies", "discriminator-short", "runs"), report = Path.Combine(Dir, "report");
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string dst = Path.Combine(report, "runs", Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
            File.Copy(f, dst);
        }
        var (code, o, e) = CliRunner.Run("study", "report", Path.Combine(repo, "studies", "discriminator.yaml"), "--profile", "short", "--dir", Path.Combine(Dir, "gone"), "--out", report);
        Assert.That(code, Is.Zero, o + e);
        string md = File.ReadAllText(Path.Combine(report, "REPORT.md"));
        double[] Fids(string prefix) => Directory.GetDirectories(Path.Combine(report, "runs"), prefix + "-s*")
            .Select(d => JsonNode.Parse(File.ReadAllText(Path.Combine(d, "eval.json")))!["fid"]!.GetValue<double>()).ToArray();
        var w = QGenEngine.Models.Metrics.Statistics.Welch(Fids("qgan-d-lr-0.0008"), Fids("qgan-d-lr-0"));
        Assert.That(Fids("qgan-d-lr-0.0008"), Has.Length.EqualTo(3));
        var row = md.Split('\n').Single(l => l.StartsWith("| qgan d-lr=0.0008 − qgan d-lr=0 | the discriminator at 4x", StringComparison.Ordinal) && l.Contains("| FID |", StringComparison.Ordinal));
        string F(double v, string f) => v.ToString(f, CultureInfo.InvariantCulture);
        Assert.That(row, Does.Contain($"| {F(w.Difference, "F1")} | [{F(w.Low, "F1")}, {F(w.High, "F1")}] | {F(w.P, "F3")} |"));
        Assert.That(md, Does.Contain("Holm) for the 3 tests made here together"), "one FID test per GAN");
        Assert.That(md, Does.Not.Contain("## The report's claims"), "the study measures none of the original report's claims: no table of placeholders");
    }

    [Test]
    public void Status_counts_the_summaries_where_start_sh_writes_them()
    {
        // From a folder whose docs/studies/tiny/runs holds the fixture's six summaries, `study status` without
        // --summaries finds them (and says where), so it shows nothing left to train; a folder without them shows six pending.
        var (spec, _, report) = CopyFixture();
        Directory.CreateDirectory(Path.Combine(Dir, "docs", "studies"));
        Directory.Move(report, Path.Combine(Dir, "docs", "studies", "tiny"));
        string was = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = Dir;
            var (code, o, e) = CliRunner.Run("study", "status", spec, "--dir", Path.Combine(Dir, "elsewhere", "tiny"));
            Assert.That(code, Is.Zero, o + e);
            Assert.That(o, Does.Contain($"(runs summarised in {Path.Combine("docs", "studies", "tiny")} count as finished").And.Contain("study tiny: 6 summarised"));
            Assert.That(o, Does.Not.Contain("training left"));
            Environment.CurrentDirectory = Path.Combine(Dir, "docs");
            (code, o, e) = CliRunner.Run("study", "status", spec, "--dir", Path.Combine(Dir, "elsewhere", "tiny"));
            Assert.That(code, Is.Zero, o + e);
            Assert.That(o, Does.Contain("study tiny: 6 pending").And.Not.Contain("count as finished"));
        }
        finally { Environment.CurrentDirectory = was; }
    }

    [Test]
    public void A_resumed_run_names_both_binaries()
    {
        var (spec, dir, report) = CopyFixture();
        var run = Directory.GetDirectories(Path.Combine(report, "runs"), "vae-base-s1*").Single();
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!.AsObject();
        summary["commits"] = new JsonArray("aaaaaaaaaaaa", "bbbbbbbbbbbb");
        File.WriteAllText(Path.Combine(run, "summary.json"), summary.ToJsonString());
        var (code, o, e) = CliRunner.Run("study", "report", spec, "--dir", dir, "--out", report);
        Assert.That(code, Is.Zero, o + e);
        string md = File.ReadAllText(Path.Combine(report, "REPORT.md"));
        Assert.That(md, Does.Contain("`aaaaaaaaaaaa` then `bbbbbbbbbbbb` (resumed by another binary)"));
        Assert.That(md, Does.Contain("1 run(s) were resumed by a binary of another commit"));
    }

    [Test]
    public void A_probe_in_a_summary_is_reported()
    {
        var (spec, dir, report) = CopyFixture();
        var run = Directory.GetDirectories(Path.Combine(report, "runs"), "gan-base-s1*").Single();
        File.WriteAllText(Path.Combine(run, "probe.json"), """
            {"model": "gan", "trained": {"step": 0, "accuracy": 0.512, "d_real": 0.53, "d_fake": 0.528},
             "fresh": [{"step": 0, "accuracy": 0.5, "d_real": 0.5, "d_fake": 0.5}, {"step": 600, "accuracy": 0.917, "d_real": 0.9, "d_fake": 0.2}],
             "steps": 600, "batch_size": 64, "held_out": 1000}
            """);
        var (code, o, e) = CliRunner.Run("study", "report", spec, "--dir", dir, "--out", report);
        Assert.That(code, Is.Zero, o + e);
        string md = File.ReadAllText(Path.Combine(report, "REPORT.md"));
        Assert.That(md, Does.Contain("## The discriminator: equilibrium or stalled?"));
        Assert.That(md, Does.Contain("| gan | 1 | 51.2 % | 0.530 | 0.528 | 91.7 % | 600 |"));
        Assert.That(md, Does.Contain("Reading: no probed generator is at an equilibrium").And.Contain("(gan 91.7 %) better than the run's own discriminator does (51.2 %)"));
    }

    /// <summary>A landscape small enough for a test that still has a 4-layer and a deeper point, and a width of 10.</summary>
    private static JsonObject MakeLandscape(string folder)
    {
        var (code, o, e) = CliRunner.Run("landscape", "--qubits", "2,10", "--layers", "1,4,5", "--draws", "20", "--out", folder);
        Assert.That(code, Is.Zero, o + e);
        return JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "landscape.json")))!.AsObject();
    }

    private static double FirstVariance(JsonObject l, string cost, int n, int layers) =>
        l["points"]!.AsArray().Single(p => p!["cost"]!.GetValue<string>() == cost && p["qubits"]!.GetValue<int>() == n && p["layers"]!.GetValue<int>() == layers)!["first_variance"]!.GetValue<double>();

    [Test]
    public void A_landscape_beside_the_report_is_reported_with_its_claims()
    {
        var (spec, dir, report) = CopyFixture();
        var l = MakeLandscape(report);
        var (code, o, e) = CliRunner.Run("study", "report", spec, "--dir", dir, "--out", report);
        Assert.That(code, Is.Zero, o + e);
        string md = File.ReadAllText(Path.Combine(report, "REPORT.md"));
        Assert.That(md, Does.Contain("## Gradients at random angles"));
        string S(double v) => v.ToString("0.0E+0", CultureInfo.InvariantCulture);
        Assert.That(md, Does.Contain($"| 10 | {S(FirstVariance(l, "local", 10, 1))} ±"), "the local grid's 10-qubit row");
        string Row(string claim) => md.Split('\n').Single(x => x.StartsWith($"| {claim} |", StringComparison.Ordinal));
        double v4 = FirstVariance(l, "global", 10, 4), v5 = FirstVariance(l, "global", 10, 5);
        Assert.That(Row("gradients vanish beyond 4 layers (at random angles)"),
                    Does.Contain($"global cost, 10 qubits: Var[∂C/∂θ₁] {S(FirstVariance(l, "global", 10, 1))} at 1 layer, {S(v4)} at 4, {S(v5)} at 5 (×{(v5 / v4).ToString("G2", CultureInfo.InvariantCulture)} past 4)"));
        double perQubit = Math.Pow(2, -QGenEngine.Quantum.GradientLandscape.FitLog2([(2, FirstVariance(l, "global", 2, 4)), (10, v4)]).Slope);
        Assert.That(Row("10+ qubits are prohibitive (gradients at random angles)"),
                    Does.Contain($"global cost, 4 layers, 2-10 qubits: Var[∂C/∂θ₁] falls {perQubit.ToString("F2", CultureInfo.InvariantCulture)}x per qubit"), "the depth nearest 3");
    }

    [Test]
    public void With_no_run_finished_a_landscape_still_makes_a_report_that_lists_every_run_and_the_command()
    {
        var (spec, dir, report) = CopyFixture();
        Directory.Delete(Path.Combine(report, "runs"), recursive: true);
        var (code, o, e) = CliRunner.Run("study", "report", spec, "--dir", dir, "--out", report);
        Assert.That(code, Is.EqualTo(2), "nothing to report: " + o + e);
        Assert.That(e, Does.Contain("no run of the study has finished yet"));
        MakeLandscape(report);
        (code, o, e) = CliRunner.Run("study", "report", spec, "--dir", dir, "--out", report);
        Assert.That(code, Is.Zero, o + e);
        string md = File.ReadAllText(Path.Combine(report, "REPORT.md"));
        Assert.That(md, Does.Contain("0 of 6 runs finished"));
        Assert.That(md, Does.Contain("## Gradients at random angles").And.Contain("(gradients at random angles) |"));
        Assert.That(md, Does.Contain("Not finished (6): ").And.Contain($"tools/study/start.sh {spec}"));
    }

    [Test]
    public void A_speed_json_times_the_speed_claim_in_one_process_and_is_reported_as_a_table()
    {
        var (spec, dir, report) = CopyFixture();
        // What `bench study-speed --json` writes: a record per model, then the ratios and the machine (batch 0), which the report recomputes or describes.
        File.WriteAllText(Path.Combine(report, StudyReport.SpeedFile), """
            [ {"suite":"study-speed","name":"vae","device":"cpu","batch":64,"median_ms":150.0,"s_per_epoch":140.55,"threads":1},
              {"suite":"study-speed","name":"vae-attn","device":"cpu","batch":32,"median_ms":80.0,"threads":1},
              {"suite":"study-speed","name":"qvae","device":"cpu","batch":32,"median_ms":96.0,"s_per_epoch":180.0,"threads":1},
              {"suite":"study-speed","name":"gan","device":"cpu","batch":64,"median_ms":200.0,"threads":1},
              {"suite":"study-speed","name":"qgan","device":"cpu","batch":64,"median_ms":700.0,"threads":1},
              {"suite":"study-speed","name":"qvae / vae","device":"cpu","batch":0,"median_ms":0,"time_per_image_ratio":9.99},
              {"suite":"study-speed","name":"machine","device":"cpu","batch":0,"median_ms":0,"cores":2,"avx2":true,"avx512f":false,"build":"abc123"} ]
            """);
        var (code, o, e) = CliRunner.Run("study", "report", spec, "--dir", dir, "--out", report);
        Assert.That(code, Is.Zero, o + e);
        string md = File.ReadAllText(Path.Combine(report, "REPORT.md"));
        Assert.That(md, Does.Contain("## Speed on one machine").And.Contain("(2 cores, AVX2, binary `abc123`)"));
        Assert.That(md, Does.Contain("| qvae | 32 | 96.0 | 333 | 180 |"), "32 images in 96 ms; bench's s/epoch");
        Assert.That(md, Does.Contain("| vae | 64 | 150.0 | 427 | 141 |"), "bench's s/epoch as it wrote it (937 steps of 64, the last partial batch dropped), rounded");
        Assert.That(md, Does.Contain("| gan | 64 | 200.0 | 320 | - |"), "a record without s_per_epoch: none made up");
        Assert.That(md, Does.Not.Contain("| machine |"));
        // Per image: qvae 3 ms, vae-attn 2.5, vae 2.34375, qgan 10.9375, gan 3.125.
        string row = md.Split('\n').Single(x => x.StartsWith("| quantum training is 3-5x slower |", StringComparison.Ordinal));
        Assert.That(row, Does.Contain("qvae / vae-attn 1.20x, qvae / vae 1.28x, qgan / gan 3.50x").And.Contain("| reproduced |"),
                    "ratios per image, from the steps (not the file's own ratio rows)");

        File.WriteAllText(Path.Combine(report, StudyReport.SpeedFile), "[{\"suite\": \"study-speed\"");
        (code, o, e) = CliRunner.Run("study", "report", spec, "--dir", dir, "--out", report);
        Assert.That(code, Is.Not.Zero);
        Assert.That(e.Trim().Split('\n'), Has.Length.EqualTo(1), e);
        Assert.That(e, Does.Contain(StudyReport.SpeedFile).And.Contain("bench study-speed --json"));
    }
}
