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
            o.Write($"\repoch {p.Epoch}/{p.Epochs} [{new string('#', filled)}{new string('.', width - filled)}] {p.Step}/{p.Steps}  loss {p.Loss,8:F2} (bce {p.Bce:F2}, kl {p.Kl:F2})  {p.SamplesPerSecond,6:F0} img/s  ETA {Fmt(p.Eta)}   ");
            if (last) o.Write("\r" + new string(' ', 120) + "\r");
        }
        else if (tenth != _lastTenth && tenth > 0)
        {
            _lastTenth = tenth;
            o.WriteLine($"  epoch {p.Epoch}/{p.Epochs} step {p.Step}/{p.Steps}  loss {p.Loss:F2} (bce {p.Bce:F2}, kl {p.Kl:F2})  {p.SamplesPerSecond:F0} img/s  ETA {Fmt(p.Eta)}");
        }
        if (last) _lastTenth = -1;
    }

    public static string Fmt(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : $"{t.Minutes}m{t.Seconds:D2}s";
}
