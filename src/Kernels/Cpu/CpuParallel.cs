namespace QGenEngine.Kernels.Cpu;

/// <summary>
/// A tiny fork-join pool: persistent workers that spin briefly, then sleep, between jobs. Unlike
/// Parallel.For it allocates nothing per call (the body is a static lambda over a struct state), which
/// keeps training steps allocation-free. Chunks are claimed dynamically, but every kernel writes each
/// output from exactly one chunk in a fixed order, so results do not depend on the thread count.
/// Nested calls run serially.
/// </summary>
public static class CpuParallel
{
    private abstract class JobBase { public abstract void Run(int chunk); }

    private sealed class Job<TState> : JobBase
    {
        public static readonly Job<TState> Instance = new();
        public TState State = default!;
        public Action<TState, int> Body = null!;
        public override void Run(int chunk) => Body(State, chunk);
    }

    private static readonly object Gate = new();
    private static ManualResetEventSlim[] _go = [];
    private static JobBase? _job;
    private static int _next, _count, _pending;
    private static Exception? _error;
    [ThreadStatic] private static bool _inside;
    /// <summary>The environment variable that sets <see cref="Threads"/> for a process (a study running several trainings at once splits the cores).</summary>
    public const string ThreadsVariable = "QGEN_THREADS";
    private static int _threads = int.TryParse(Environment.GetEnvironmentVariable(ThreadsVariable), out int t) && t > 0 ? t : Environment.ProcessorCount;

    /// <summary>True on a thread running a chunk of a parallel loop (where a nested loop runs serially).</summary>
    public static bool InParallelLoop => _inside;

    /// <summary>Threads used by kernels, the caller included (default: $QGEN_THREADS, else the processor count).</summary>
    public static int Threads
    {
        get => _threads;
        set => _threads = Math.Max(1, value);
    }

    private static void EnsureWorkers(int workers)
    {
        if (_go.Length >= workers) return;
        var go = new ManualResetEventSlim[workers];
        Array.Copy(_go, go, _go.Length);
        for (int i = _go.Length; i < workers; i++)
        {
            var ev = go[i] = new ManualResetEventSlim(false, 2047);
            var t = new Thread(() => WorkerLoop(ev)) { IsBackground = true, Name = $"qgen-cpu-{i + 1}" };
            t.Start();
        }
        _go = go;
    }

    /// <summary>How long an idle worker polls for the next kernel before it blocks.</summary>
    public const int SpinMicroseconds = 200;

    private static void WorkerLoop(ManualResetEventSlim go)
    {
        _inside = true;
        while (true)
        {
            // Kernels come in quick succession (a training step is hundreds of them): stay awake a little before
            // blocking, because waking a blocked thread costs tens of microseconds on a VM - longer than many kernels.
            long until = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency / 1000 * SpinMicroseconds / 1000;
            while (!go.IsSet && System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.SpinWait(20);
            go.Wait();
            go.Reset();
            RunChunks();
            Interlocked.Decrement(ref _pending);
        }
    }

    private static void RunChunks()
    {
        var job = _job!;
        int i;
        while ((i = Interlocked.Increment(ref _next) - 1) < _count)
        {
            try { job.Run(i); }
            catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
        }
    }

    /// <summary>Runs body(state, i) for i in [0, count) on up to <see cref="Threads"/> threads.</summary>
    public static void For<TState>(int count, TState state, Action<TState, int> body)
    {
        int workers = Math.Min(_threads, count) - 1;
        if (workers <= 0 || _inside || !Monitor.TryEnter(Gate))
        {
            for (int i = 0; i < count; i++) body(state, i);
            return;
        }
        try
        {
            _inside = true;
            EnsureWorkers(workers);
            var job = Job<TState>.Instance;
            job.State = state; job.Body = body;
            _job = job; _error = null; _count = count; _next = 0;
            Volatile.Write(ref _pending, workers);
            for (int w = 0; w < workers; w++) _go[w].Set();
            RunChunks();
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(-1);
            job.State = default!;
            if (_error is { } e) throw new AggregateException("a parallel kernel failed", e);
        }
        finally
        {
            _inside = false;
            Monitor.Exit(Gate);
        }
    }

    /// <summary>Splits [0, n) into about <paramref name="grain"/>-sized chunks (at least one per thread when n allows).</summary>
    public static int Chunks(long n, int grain) => (int)Math.Clamp((n + grain - 1) / grain, 1, 4096);

    public static (int Start, int End) Range(long n, int chunks, int chunk)
    {
        long s = n * chunk / chunks, e = n * (chunk + 1) / chunks;
        return ((int)s, (int)e);
    }
}
