using System.Diagnostics;
using System.Text.Json.Nodes;
using QGenEngine.Studies;
using QGenEngine.Models.Training;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Cli;

/// <summary>
/// The study's Slurm executor against a real Slurm (tools/slurm/start.sh starts a single-node one; .ci/run does where it
/// can): submit the tiny study as a job array, cancel one task mid-run with scancel, rerun, and check that finished runs
/// were not redone and the results are complete. Skips with the reason where there is no Slurm to talk to.
/// </summary>
[TestFixture, NonParallelizable]
public class SlurmStudyTests : TempDirTest
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static void RequireSlurm()
    {
        if (!SlurmExecutor.Which("sbatch")) Assert.Ignore("sbatch is not on PATH (start a local cluster with tools/slurm/start.sh, as root)");
        var (code, o, e) = SlurmExecutor.Exec("sinfo", ["-h", "-o", "%T"]);
        if (code != 0 || !o.Split('\n').Any(s => s.Trim() is "idle" or "mixed" or "allocated"))
            Assert.Ignore($"Slurm does not answer with a usable node (sinfo: {(o + e).Trim()})");
    }

    private static Dictionary<int, string> Queue(string dir) => SlurmExecutor.Queued(dir);

    private static void WaitUntil(Func<bool> done, int seconds, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!done())
        {
            if (sw.Elapsed.TotalSeconds > seconds) Assert.Fail($"timed out after {seconds} s waiting for {what}");
            Thread.Sleep(500);
        }
    }

    [Test]
    public void A_study_on_Slurm_survives_a_cancelled_task_and_a_rerun_redoes_nothing_finished()
    {
        RequireSlurm();
        string spec = Path.Combine(Dir, "tiny.yaml"), dir = Path.Combine(Dir, "study");
        File.WriteAllText(spec, """
            name: tiny
            model: vae
            options: {epochs: 3, limit: 512, batch-size: 32, eval-images: 50, fid-every: 0}
            seeds: [1, 2]
            vary: {latent: [16, 32]}
            """);
        var (pc, po, pe) = Run("study", "plan", spec, "--dir", dir, "--json");
        Assert.That(pc, Is.Zero, pe);
        var runs = JsonNode.Parse(po)!["runs"]!.AsArray().Select(r => r!["dir"]!.GetValue<string>()).ToArray();
        Assert.That(runs, Has.Length.EqualTo(4));

        var (c1, o1, e1) = Run("study", "run", spec, "--dir", dir, "--executor", "slurm", "--max-parallel", "1", "--cpus-per-task", "1");
        Assert.That(c1, Is.Zero, e1 + o1);
        Assert.That(File.Exists(Path.Combine(dir, "slurm", "study.sbatch")));
        string job = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "slurm", "jobs.json")))!["jobs"]![0]!["id"]!.GetValue<string>();

        // Cancel task 1 once it is training (its run directory holds a config), before it finishes.
        WaitUntil(() => Queue(dir).GetValueOrDefault(1) == "running" && File.Exists(Path.Combine(runs[1], Trainer.ConfigFile)), 240, "task 1 to start training");
        var (sc, so, se) = SlurmExecutor.Exec("scancel", [$"{job}_1"]);
        Assert.That(sc, Is.Zero, so + se);
        WaitUntil(() => Queue(dir).Count == 0, 300, "the array to finish");
        Assert.That(StudyRunner.Finished(Plan(spec, dir)[1]), Is.False, "the cancelled run did not finish");
        var finished = new[] { 0, 2, 3 }.ToDictionary(i => i, i => File.ReadAllText(Path.Combine(runs[i], Trainer.MetricsFile)));
        Assert.That(finished.Values.Select(m => m.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length), Has.All.EqualTo(3));

        // status names it; a rerun submits only it, and it resumes from its checkpoint if it saved one.
        var (stc, sto, _) = Run("study", "status", spec, "--dir", dir);
        Assert.That(stc, Is.Zero);
        Assert.That(sto, Does.Contain("3 done"));
        var (c2, o2, e2) = Run("study", "run", spec, "--dir", dir, "--executor", "slurm", "--cpus-per-task", "1");
        Assert.That(c2, Is.Zero, e2 + o2);
        Assert.That(o2, Does.Contain("submitted 1 runs").And.Contain("3 finished"));
        WaitUntil(() => Queue(dir).Count == 0, 300, "the rerun to finish");
        var plan = Plan(spec, dir);
        Assert.That(plan.All(StudyRunner.Finished), "every run finished");
        foreach (var (i, m) in finished) Assert.That(File.ReadAllText(Path.Combine(runs[i], Trainer.MetricsFile)), Is.EqualTo(m), $"run {i} was not redone");
        var (c3, o3, _) = Run("study", "run", spec, "--dir", dir, "--executor", "slurm");
        Assert.That(c3, Is.Zero);
        Assert.That(o3, Does.Contain("nothing to submit"));
    }

    private static IReadOnlyList<PlannedRun> Plan(string spec, string dir) => QGenEngine.Cli.Commands.StudyCommand.Load(spec, null, dir).Runs;

    [Test]
    public void Sbatch_refusals_are_one_line_with_Slurms_message()
    {
        RequireSlurm();
        string spec = Path.Combine(Dir, "tiny.yaml");
        File.WriteAllText(spec, "name: tiny\nmodel: vae\noptions: {epochs: 1, limit: 64}\n");
        var (code, o, e) = Run("study", "run", spec, "--dir", Path.Combine(Dir, "s"), "--executor", "slurm", "--partition", "no-such-partition");
        UserError.Assert(code, o, e, "artition");
        Assert.That(e.Trim(), Does.StartWith("qgen-engine: sbatch refused the job:"));
    }

    [Test]
    public void The_dry_run_prints_the_array_script_without_a_cluster()
    {
        string spec = Path.Combine(Dir, "p.yaml");
        File.WriteAllText(spec, "name: p\nmodels: [vqvae, {model: prior, options: {vqvae: \"@vqvae\"}}]\noptions: {epochs: 1}\nseeds: [1, 2]\n");
        var (code, o, e) = Run("study", "run", spec, "--dir", Path.Combine(Dir, "s"), "--executor", "slurm", "--dry-run", "--partition", "gpu", "--time", "1:00:00",
                               "--gpus", "1", "--max-parallel", "3");
        Assert.That(code, Is.Zero, e + o);
        Assert.That(o, Does.Contain("#SBATCH --partition=gpu").And.Contain("#SBATCH --time=1:00:00").And.Contain("#SBATCH --gpus=1")
                           .And.Contain("study run-one").And.Contain("--index $SLURM_ARRAY_TASK_ID"));
        // The VQ-VAEs (plan indices 0, 1) in one array; the priors (2, 3) in a second that waits for it.
        Assert.That(o, Does.Contain("sbatch --parsable --array=0,1%3"));
        Assert.That(o, Does.Contain("sbatch --dependency=afterany:<job 1> --parsable --array=2,3%3"));
        Assert.That(Directory.Exists(Path.Combine(Dir, "s")), Is.False, "a dry run writes nothing");
    }
}
