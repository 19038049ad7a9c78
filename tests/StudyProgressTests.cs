using QGenEngine.Studies;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

/// <summary>`study status`'s estimate of the training left: epochs to go times a typical epoch (issue #23).</summary>
[TestFixture]
public class StudyProgressTests : TempDirTest
{
    private PlannedRun Run(int i, string model, int epochs, params (double Seconds, double? Cpu)[] done)
    {
        string dir = Path.Combine(Dir, $"{model}-{i}");
        Directory.CreateDirectory(dir);
        if (done.Length > 0)
            File.WriteAllLines(Path.Combine(dir, "metrics.jsonl"), done.Select((e, k) =>
                $"{{\"epoch\": {k + 1}, \"seconds\": {e.Seconds}, \"samples_per_s\": 100, \"device\": \"cpu\", \"threads\": 1" + (e.Cpu is { } c ? $", \"cpu_seconds\": {c}" : "") + "}"));
        return new PlannedRun(i, $"{model}-{i}", model, i + 1, "base", [], dir, [], epochs);
    }

    [Test]
    public void Each_unfinished_run_is_timed_by_its_own_epochs_then_its_configurations_then_its_models()
    {
        var runs = new[]
        {
            Run(0, "gan", 3, (100, null), (900, null), (110, null)),            // finished: median wall epoch 110 (a 900 s pause inside)
            Run(1, "gan", 3, (200, 150), (400, 160)),                           // running, two epochs: its own CPU median 155, one epoch to go
            Run(2, "gan", 3, (500, null)),                                      // one epoch: too few of its own, the configuration's 110 × 2
            Run(3, "gan", 3),                                                   // pending: 110 × 3
            Run(4, "vae", 2),                                                   // no vae has an epoch: nothing to go by
        };
        var states = new[] { RunState.Done, RunState.Running, RunState.Interrupted, RunState.Pending, RunState.Pending };
        var left = StudyProgress.SecondsLeft(runs, states, null);
        Assert.That(left, Is.EqualTo(new double?[] { 0, 155, 220, 330, null }));
    }

    [Test]
    public void A_run_whose_directory_is_gone_is_read_from_its_committed_summary()
    {
        var gone = new PlannedRun(0, "gan-0", "gan", 1, "base", [], Path.Combine(Dir, "gone"), [], 2);
        string sums = Path.Combine(Dir, "report");
        Directory.CreateDirectory(StudySummaries.DirOf(sums, gone));
        File.WriteAllLines(Path.Combine(StudySummaries.DirOf(sums, gone), "metrics.jsonl"),
            ["{\"epoch\": 1, \"seconds\": 80, \"samples_per_s\": 100}", "{\"epoch\": 2, \"seconds\": 90, \"samples_per_s\": 100}"]);
        var pending = Run(1, "gan", 2);
        Assert.That(StudyProgress.Epochs(gone, sums), Has.Count.EqualTo(2));
        Assert.That(StudyProgress.Epochs(gone, null), Is.Empty);
        Assert.That(StudyProgress.SecondsLeft([gone, pending], [RunState.Summarised, RunState.Pending], sums), Is.EqualTo(new double?[] { 0, 170 }),
                    "two epochs of the summarised run's median (80 + 90) / 2");
    }
}
