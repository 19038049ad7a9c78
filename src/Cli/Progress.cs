using System.Diagnostics;
using QGenEngine.Models.Training;

namespace QGenEngine.Cli;

/// <summary>A live progress line on a terminal (redrawn in place, ~8 times a second); a line per 10 % when output is redirected.</summary>
public sealed class ProgressBar(TextWriter o, bool interactive)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastMs = -1000;
    private int _lastTenth = -1;

    public void Step(StepProgress p)
    {
        int tenth = p.Step * 10 / p.Steps;
        bool last = p.Step == p.Steps;
        if (interactive)
        {
            if (!last && _clock.ElapsedMilliseconds - _lastMs < 120) return;
            _lastMs = _clock.ElapsedMilliseconds;
            int width = 24, filled = p.Step * width / p.Steps;
            o.Write($"\repoch {p.Epoch}/{p.Epochs} [{new string('#', filled)}{new string('.', width - filled)}] {p.Step}/{p.Steps} {Scalars(p)}  {p.SamplesPerSecond,6:F0} img/s  ETA {Fmt(p.Eta)}   ");
            if (last) o.Write("\r" + new string(' ', 140) + "\r");
        }
        else if (tenth != _lastTenth && tenth > 0)
        {
            _lastTenth = tenth;
            o.WriteLine($"  epoch {p.Epoch}/{p.Epochs} step {p.Step}/{p.Steps} {Scalars(p)}  {p.SamplesPerSecond:F0} img/s  ETA {Fmt(p.Eta)}");
        }
        if (last) _lastTenth = -1;
    }

    /// <summary>The model's named scalars, as the model named them (loss, bce, kl | d_loss, g_loss, d_real, d_fake | ...).</summary>
    private static string Scalars(StepProgress p) =>
        string.Concat(p.Names.Select((n, i) => $" {n} {p.Values[i].ToString(Math.Abs(p.Values[i]) >= 10 ? "F2" : "F3", System.Globalization.CultureInfo.InvariantCulture)}"));

    public static string Fmt(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : $"{t.Minutes}m{t.Seconds:D2}s";
}
