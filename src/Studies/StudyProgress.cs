using System.Text.Json.Nodes;
using QGenEngine.Models.Training;

namespace QGenEngine.Studies;

/// <summary>How far a study's runs have come and about how much training is left (`study status`).</summary>
public static class StudyProgress
{
    /// <summary>A run's finished epochs: from its directory, else from its committed summary.</summary>
    public static IReadOnlyList<JsonObject> Epochs(PlannedRun r, string? summaries)
    {
        var m = RunLogs.ReadMetrics(r.Dir);
        if (m.Count == 0 && summaries is not null) m = RunLogs.ReadMetrics(StudySummaries.DirOf(summaries, r));
        return m;
    }

    /// <summary>
    /// Seconds of training each unfinished run has left (0 for a finished one; null where nothing tells): its epochs to go
    /// times a typical epoch (<see cref="EpochTime.Typical"/>): its own, once it has two epochs (this machine, now), else
    /// that of the finished runs of its configuration (model and variation), else of its one epoch, else of any finished
    /// run of its model. Training only: the evaluation,
    /// probe and summary that follow a run are not counted.
    /// </summary>
    public static double?[] SecondsLeft(IReadOnlyList<PlannedRun> runs, IReadOnlyList<RunState> states, string? summaries)
    {
        var epochs = runs.Select(r => Epochs(r, summaries)).ToArray();
        double? Median(IEnumerable<PlannedRun> rs)
        {
            var t = rs.Where(x => StudyRunner.IsFinished(states[x.Index])).Select(x => EpochTime.Typical(epochs[x.Index])?.Seconds).OfType<double>().Order().ToArray();
            return t.Length == 0 ? null : t.Length % 2 == 1 ? t[t.Length / 2] : (t[t.Length / 2 - 1] + t[t.Length / 2]) / 2;
        }
        return runs.Select(r =>
        {
            if (StudyRunner.IsFinished(states[r.Index])) return 0;
            int left = Math.Max(0, r.Epochs - epochs[r.Index].Count);
            double? epoch = (epochs[r.Index].Count >= 2 ? EpochTime.Typical(epochs[r.Index])?.Seconds : null)
                            ?? Median(runs.Where(x => x.Model == r.Model && x.Variation == r.Variation))
                            ?? EpochTime.Typical(epochs[r.Index])?.Seconds
                            ?? Median(runs.Where(x => x.Model == r.Model));
            return left * epoch;
        }).ToArray();
    }
}
