using System.Diagnostics;
using QGenEngine.Tensors;

namespace QGenEngine.Autograd;

/// <summary>
/// Where a step's time goes, per op: while on, every op the graph records (<see cref="Graph.Record"/>) is charged the
/// time since the previous event as its forward, every backward closure its own run time, and <see cref="Scope"/>s
/// (the optimiser, zeroing, clipping) theirs; time between backward closures is the graph's own. Entries are keyed
/// by op and output shape, so a layer shows as itself ("ConvTranspose2d (64,32,28,28)"). Host-side wall time: exact
/// on the CPU backends, whose kernels finish before they return; on a GPU it measures launches unless the caller
/// synchronises. Off (the default) it costs one static read per op.
/// </summary>
public static class Profiler
{
    public sealed record Entry(string Op, string Shape, string Phase)
    {
        public double Ms { get; internal set; }
        public long Calls { get; internal set; }
    }

    private static bool _on;
    private static long _last;
    private static readonly Dictionary<(string Op, int[]? Shape, string Phase), Entry> _entries = new(new KeyComparer());

    public static bool Enabled => _on;

    /// <summary>Clears the table and starts charging time.</summary>
    public static void Start()
    {
        _entries.Clear();
        _on = true;
        _last = Stopwatch.GetTimestamp();
    }

    /// <summary>Stops charging and returns the entries, largest first (time since the last event goes to "untracked").</summary>
    public static List<Entry> Stop()
    {
        if (_on) Charge("untracked", null, "other", Stopwatch.GetTimestamp());
        _on = false;
        return _entries.Values.OrderByDescending(e => e.Ms).ToList();
    }

    internal static void Forward(string op, int[] shape)
    {
        if (_on) Charge(op, shape, "forward", Stopwatch.GetTimestamp());
    }

    internal static void BackwardBegin()
    {
        if (_on) Charge("autograd", null, "backward", Stopwatch.GetTimestamp());
    }

    internal static void BackwardEnd(string op, int[] shape)
    {
        if (_on) Charge(op, shape, "backward", Stopwatch.GetTimestamp());
    }

    /// <summary>Charges what ran since the last event to "untracked", and the scope's own time to <paramref name="name"/> when disposed.</summary>
    public static ScopeHandle Scope(string name)
    {
        if (!_on) return default;
        Charge("untracked", null, "other", Stopwatch.GetTimestamp());
        return new ScopeHandle(name);
    }

    public readonly struct ScopeHandle(string name) : IDisposable
    {
        public void Dispose()
        {
            if (_on && name is not null) Charge(name, null, "other", Stopwatch.GetTimestamp());
        }
    }

    private static void Charge(string op, int[]? shape, string phase, long now)
    {
        if (!_entries.TryGetValue((op, shape, phase), out var e))
            _entries[(op, shape is null ? null : (int[])shape.Clone(), phase)] = e = new Entry(op, shape is null ? "" : Shape.Format(shape), phase);
        e.Ms += (now - _last) * 1e3 / Stopwatch.Frequency;
        e.Calls++;
        _last = now;
    }

    private sealed class KeyComparer : IEqualityComparer<(string Op, int[]? Shape, string Phase)>
    {
        public bool Equals((string Op, int[]? Shape, string Phase) a, (string Op, int[]? Shape, string Phase) b) =>
            a.Op == b.Op && a.Phase == b.Phase && (a.Shape is null ? b.Shape is null : b.Shape is not null && a.Shape.AsSpan().SequenceEqual(b.Shape));

        public int GetHashCode((string Op, int[]? Shape, string Phase) k)
        {
            var h = new HashCode();
            h.Add(k.Op); h.Add(k.Phase);
            if (k.Shape is not null) foreach (int d in k.Shape) h.Add(d);
            return h.ToHashCode();
        }
    }
}
