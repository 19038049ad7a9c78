using System.Diagnostics;
using QGenEngine.Autograd;
using QGenEngine.Studies;
using QGenEngine.Kernels.Reference;
using QGenEngine.Models;
using QGenEngine.Models.Training;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Cli;

/// <summary>
/// Crashes and signals (issue #25): `train` killed with SIGKILL at many moments leaves a checkpoint that loads, logs that
/// never run past it, and a lock the next run takes over with a word; resumed to the end, the run equals one never
/// interrupted. Commands with nothing to save end on SIGTERM at once.
/// </summary>
[TestFixture]
public class CrashTests : TempDirTest
{
    private static Process Start(params string[] args) => CliRunner.Start(null, args);

    private static readonly string[] Train = ["train", "vae", "--epochs", "4", "--limit", "128", "--batch-size", "32", "--fid-every", "0", "--eval-images", "10", "--no-augment", "--seed", "3"];

    /// <summary>The run directory's invariants after any stop: a loadable checkpoint (if any) and logs that stop at or before it.</summary>
    private static void AssertConsistent(string dir, string when)
    {
        var ckpt = Path.Combine(dir, Trainer.CheckpointFile);
        if (!File.Exists(ckpt))
        {
            Assert.That(RunLogs.ReadMetrics(dir), Is.Empty, $"{when}: no checkpoint, so no epoch logged");
            return;
        }
        var (_, meta) = SafeTensors.Read(ckpt);
        Assert.DoesNotThrow(() => ModelCatalog.LoadRun(dir, ReferenceDevice.Instance), $"{when}: the checkpoint loads");
        int epoch = int.Parse(meta["train.epoch"]), step = int.Parse(meta["train.step"]);
        var metrics = RunLogs.ReadMetrics(dir);   // throws on a torn line
        Assert.That(metrics.Select(m => m["epoch"]!.GetValue<int>()), Has.All.LessThanOrEqualTo(epoch), $"{when}: no metrics line past the checkpoint (epoch {epoch})");
        var steps = Path.Combine(dir, Trainer.StepsFile);
        if (File.Exists(steps))
        {
            var lines = File.ReadAllLines(steps).Skip(1).ToList();
            Assert.That(lines.Select(l => long.Parse(l[..l.IndexOf(',')])), Has.All.LessThanOrEqualTo((long)epoch * 4 + step), $"{when}: no step row past the checkpoint");
            Assert.That(lines.Select(l => l.Split(',').Length).Distinct().Count(), Is.LessThanOrEqualTo(1), $"{when}: no torn row");
        }
    }

    [Test]
    public void Train_killed_at_any_moment_resumes_to_the_uninterrupted_result()
    {
        string reference = Path.Combine(Dir, "reference"), killed = Path.Combine(Dir, "killed");
        var (code, _, e) = CliRunner.Run([.. Train, "--out", reference]);
        Assert.That(code, Is.Zero, e);

        var rng = new Random(11);
        int kills = 0, resumedWithNote = 0;
        for (int attempt = 0; attempt < 12 && !StudyRunner.Finished(new PlannedRun(0, "k", "vae", 3, "base", [], killed, [], 4)); attempt++)
        {
            bool resume = File.Exists(Path.Combine(killed, Trainer.CheckpointFile));
            using var p = Start([.. Train, "--out", killed, .. resume ? new[] { "--resume" } : []]);
            var output = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            // A moment anywhere in the process's life: start-up, training, validation, the save itself.
            if (!p.WaitForExit(200 + rng.Next(2500)))
            {
                p.Kill();   // SIGKILL: no handler runs
                p.WaitForExit();
                kills++;
            }
            if (output.Result.Contains("was left by a process that is gone")) resumedWithNote++;
            AssertConsistent(killed, $"after attempt {attempt} ({kills} kills)");
        }
        // Whatever is left, finished by a last resume.
        if (!StudyRunner.Finished(new PlannedRun(0, "k", "vae", 3, "base", [], killed, [], 4)))
        {
            var (c, o, err) = CliRunner.Run([.. Train, "--out", killed, .. File.Exists(Path.Combine(killed, Trainer.CheckpointFile)) ? new[] { "--resume" } : []]);
            Assert.That(c, Is.Zero, o + err);
        }
        TestContext.Out.WriteLine($"{kills} kills with SIGKILL; {resumedWithNote} resumes said they took over the lock");
        Assert.That(kills, Is.GreaterThanOrEqualTo(3), "the test killed the training several times");
        Assert.That(resumedWithNote, Is.GreaterThan(0), "a resume after a kill names the lock it takes over");
        AssertConsistent(killed, "at the end");
        var want = RunLogs.ReadMetrics(reference);
        var got = RunLogs.ReadMetrics(killed);
        Assert.That(got.Select(m => m["epoch"]!.GetValue<int>()), Is.EqualTo(new[] { 1, 2, 3, 4 }), "every epoch logged once");
        foreach (var key in new[] { "loss", "bce", "kl", "test_ssim", "test_bce" })
            Assert.That(got.Select(m => m[key]!.GetValue<double>()), Is.EqualTo(want.Select(m => m[key]!.GetValue<double>())), $"{key}: as if never interrupted");
        Assert.That(File.ReadAllLines(Path.Combine(killed, Trainer.StepsFile)), Is.EqualTo(File.ReadAllLines(Path.Combine(reference, Trainer.StepsFile))), "steps.csv: every step once, the same values");
    }

    [Test]
    public void A_resume_restores_log_lines_the_checkpoint_holds_but_the_logs_lack()
    {
        // A stop between the checkpoint and the logs: simulated by cutting the logs back by one epoch.
        string dir = Path.Combine(Dir, "run");
        var (code, _, e) = CliRunner.Run(["train", "vae", "--epochs", "2", "--limit", "64", "--batch-size", "32", "--fid-every", "0", "--eval-images", "10", "--out", dir]);
        Assert.That(code, Is.Zero, e);
        string metrics = Path.Combine(dir, Trainer.MetricsFile), steps = Path.Combine(dir, Trainer.StepsFile);
        var full = File.ReadAllLines(metrics); var fullSteps = File.ReadAllLines(steps);
        File.WriteAllLines(metrics, full.Take(1));
        File.WriteAllLines(steps, fullSteps.Take(3));   // header and epoch 1's two steps
        var (c2, o2, e2) = CliRunner.Run(["train", "vae", "--epochs", "2", "--limit", "64", "--batch-size", "32", "--fid-every", "0", "--eval-images", "10", "--out", dir, "--resume"]);
        Assert.That(c2, Is.Zero, e2);
        Assert.That(o2, Does.Contain("restored from it"));
        Assert.That(File.ReadAllLines(metrics), Is.EqualTo(full));
        Assert.That(File.ReadAllLines(steps), Is.EqualTo(fullSteps));
    }

    [Test]
    public void A_command_with_nothing_to_save_ends_on_SIGTERM_at_once()
    {
        // `metrics is` over the 60,000 training digits takes seconds; SIGTERM used to be swallowed until SIGKILL.
        using var p = Start("metrics", "is", "--images", "mnist:train");
        _ = p.StandardOutput.ReadToEndAsync(); _ = p.StandardError.ReadToEndAsync();
        Thread.Sleep(1500);
        Assert.That(p.HasExited, Is.False, "still working when the signal comes");
        var sw = Stopwatch.StartNew();
        Assert.That(Kill(p.Id, 15), Is.Zero);
        Assert.That(p.WaitForExit(5000), "ended within 5 s of SIGTERM");
        Assert.That(p.ExitCode, Is.EqualTo(143), "the exit status of a program ended by SIGTERM");
        TestContext.Out.WriteLine($"ended {sw.ElapsedMilliseconds} ms after SIGTERM");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int sig);
}
