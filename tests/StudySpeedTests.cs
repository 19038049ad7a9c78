using System.Text.Json.Nodes;
using QGenEngine.Studies;

namespace QGenEngine.Tests;

/// <summary>
/// A run's s/epoch in a study report (issue #23): the study's runs are paused (SIGSTOP) while other work needs the
/// cores and stop at each session's end, and an epoch that spans a pause carried minutes of nothing in its wall-clock
/// time (gan-base-s2: a median epoch of 243 s, one of 1,908). The report takes the median epoch, of the process's CPU
/// time where a one-thread run recorded it.
/// </summary>
[TestFixture]
public class StudySpeedTests
{
    private static RunSummary Summary(params JsonObject[] epochs) =>
        new(new PlannedRun(0, "r", "gan", 1, "base", [], "/nowhere", [], epochs.Length), "/nowhere", epochs, new JsonObject(), null, null, 0, 0, []);

    private static JsonObject Epoch(double seconds, double? cpu = null, int threads = 1, string device = "cpu")
    {
        var e = new JsonObject { ["seconds"] = seconds, ["samples_per_s"] = 6400 / seconds, ["device"] = device };
        if (device == "cpu") e["threads"] = threads;
        if (cpu is { } c) e["cpu_seconds"] = c;
        return e;
    }

    [Test]
    public void An_epoch_that_spanned_a_pause_does_not_move_the_wall_clock_median()
    {
        var r = Summary(Epoch(200), Epoch(1900), Epoch(210), Epoch(190), Epoch(205));
        Assert.That(r.SpeedMeasure, Is.EqualTo("wall"), "no epoch recorded its CPU time");
        Assert.That(r.SecondsPerEpoch, Is.EqualTo(205), "the median of 190, 200, 205, 210, 1900 (the mean is 541)");
        Assert.That(r.ImagesPerSecond, Is.EqualTo(6400 / 205.0).Within(1e-9), "an epoch's 6,400 images over the typical epoch");
        Assert.That(Summary(Epoch(100), Epoch(300), Epoch(200), Epoch(900)).SecondsPerEpoch, Is.EqualTo(250), "an even count: the middle two's mean");
    }

    [Test]
    public void A_one_thread_run_is_timed_by_its_cpu_time_where_its_epochs_recorded_it()
    {
        // Epoch 2 was slowed by other work (wall 400 s for 170 s of CPU); epoch 3 was begun by a binary that did not count CPU time.
        var r = Summary(Epoch(180, cpu: 175), Epoch(400, cpu: 170), Epoch(1900), Epoch(185, cpu: 180));
        Assert.That(r.SpeedMeasure, Is.EqualTo("cpu"));
        Assert.That(r.SecondsPerEpoch, Is.EqualTo(175), "the median of the CPU times 170, 175, 180");
    }

    [Test]
    public void A_run_on_more_threads_or_a_gpu_keeps_the_wall_clock()
    {
        // CPU time sums over threads, and a GPU's work is not the process's CPU time: neither is an epoch's duration.
        Assert.That(Summary(Epoch(100, cpu: 190, threads: 2), Epoch(110, cpu: 200, threads: 2), Epoch(105, cpu: 195, threads: 2)).SecondsPerEpoch, Is.EqualTo(105));
        Assert.That(Summary(Epoch(10, cpu: 9, device: "cuda"), Epoch(12, cpu: 11, device: "cuda"), Epoch(11, cpu: 10, device: "cuda")).SpeedMeasure, Is.EqualTo("wall"));
    }
}
