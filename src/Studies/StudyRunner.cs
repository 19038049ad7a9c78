using System.Diagnostics;
using System.Runtime.InteropServices;
using QGenEngine.Kernels.Cpu;
using QGenEngine.Models.Training;

namespace QGenEngine.Studies;

/// <summary>Where a run stands. Summarised: not in the study directory (a new machine, a fresh checkout), but its complete
/// summary is in the report's folder (`--summaries`), and no run still to train needs its checkpoint: it counts as finished.</summary>
public enum RunState { Pending, Running, Interrupted, Failed, Done, Summarised }

/// <summary>
/// Runs a study's runs on this machine, N at a time, each as its own `qgen-engine train` process (the cores split
/// between them through QGEN_THREADS; its output in the run directory's train.log). Finished runs are skipped,
/// interrupted ones resumed; a failed run is recorded (study-failed in its directory) and the others go on; Ctrl-C
/// passes the stop to the trainings (as SIGTERM), which save their checkpoints, and a rerun continues.
/// </summary>
public static class StudyRunner
{
    public const string LogFile = "train.log", FailedFile = "study-failed";

    /// <summary>Where a run stands, from its directory alone (so `status` works from any process, and under Slurm).</summary>
    public static RunState State(PlannedRun r)
    {
        if (Finished(r)) return RunState.Done;
        if (Locked(r.Dir)) return RunState.Running;
        if (File.Exists(Path.Combine(r.Dir, FailedFile))) return RunState.Failed;
        return File.Exists(Path.Combine(r.Dir, Trainer.CheckpointFile)) ? RunState.Interrupted : RunState.Pending;
    }

    /// <summary>
    /// Every run's state, where <paramref name="summaries"/> (the report's folder of committed run summaries, e.g.
    /// docs/studies/compare-full) counts a summarised run as finished unless a run still to train needs its checkpoint
    /// (a prior its VQ-VAE's, a router its VAEs'): that one is trained again.
    /// </summary>
    public static RunState[] States(IReadOnlyList<PlannedRun> runs, string? summaries)
    {
        var state = runs.Select(State).ToArray();
        if (summaries is null) return state;
        var summarised = runs.Select(r => state[r.Index] is RunState.Pending or RunState.Failed && StudySummaries.Read(r, summaries) is not null).ToArray();
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (var r in runs)
                if (state[r.Index] != RunState.Done && !summarised[r.Index])
                    foreach (int d in r.Needs)
                        if (summarised[d]) { summarised[d] = false; changed = true; }
        }
        for (int i = 0; i < runs.Count; i++) if (summarised[i]) state[i] = RunState.Summarised;
        return state;
    }

    public static bool IsFinished(RunState s) => s is RunState.Done or RunState.Summarised;

    /// <summary>A run is finished when its metrics.jsonl holds a record for every epoch the plan asks for.</summary>
    public static bool Finished(PlannedRun r)
    {
        try
        {
            return File.Exists(Path.Combine(r.Dir, Trainer.MetricsFile)) && RunLogs.ReadMetrics(r.Dir).Count >= r.Epochs;
        }
        catch (Exception e) when (e is FormatException or IOException or System.Text.Json.JsonException) { return false; }
    }

    public static bool Locked(string dir)
    {
        var lockFile = Path.Combine(dir, Trainer.LockFile);
        if (!File.Exists(lockFile)) return false;
        try { using var _ = new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None); return false; }
        catch (IOException) { return true; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>The last lines of a run's log (what a failure report shows).</summary>
    public static string Tail(string dir, int lines = 5)
    {
        var log = Path.Combine(dir, LogFile);
        if (!File.Exists(log)) return "(no log)";
        var all = File.ReadAllLines(log).Where(l => l.Trim().Length > 0).ToArray();
        return string.Join("\n", all.TakeLast(lines).Select(l => "    " + l));
    }

    /// <summary>The `train` arguments that start or continue a run.</summary>
    public static string[] TrainArgs(PlannedRun r) =>
        File.Exists(Path.Combine(r.Dir, Trainer.CheckpointFile)) ? [.. r.Args, "--resume"] : [.. r.Args];

    /// <summary>
    /// The program whose commands a study's child processes run (`study run-one`, `train`): the CLI's assembly, which
    /// the CLI sets (the composition root); by default the process's entry assembly.
    /// </summary>
    public static System.Reflection.Assembly Program { get; set; } = System.Reflection.Assembly.GetEntryAssembly()!;

    /// <summary>How <see cref="Program"/> is started again: the apphost, or `dotnet qgen-engine.dll`.</summary>
    public static (string File, string[] Prefix) Self()
    {
        string dll = Program.Location;
        string? process = Environment.ProcessPath;
        bool entry = System.Reflection.Assembly.GetEntryAssembly() == Program;
        if (entry && process is not null && Path.GetFileNameWithoutExtension(process) != "dotnet") return (process, []);   // the apphost
        // `dotnet qgen-engine.dll` (also when the command tree runs inside another program, as in the tests)
        string dotnet = entry && process is not null ? process : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet";
        return (dotnet, [dll]);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
    private const int SigTerm = 15;   // not SIGINT: a process started in the background ignores SIGINT, and so do its children

    /// <summary>
    /// The order runs start in: every configuration's first seed, then every second seed, ... (the spec's order within
    /// a seed), so that a study stopped part-way holds one run of everything before it holds three of anything.
    /// </summary>
    public static IEnumerable<int> SeedMajor(IReadOnlyList<PlannedRun> runs)
    {
        var seeds = runs.Select(r => r.Seed).Distinct().ToList();   // in the spec's order of seeds
        return Enumerable.Range(0, runs.Count).OrderBy(i => seeds.IndexOf(runs[i].Seed)).ThenBy(i => i);
    }

    /// <summary>
    /// Runs what is not finished, <paramref name="jobs"/> at a time, each as the child process
    /// <paramref name="childArgs"/>(run) gives (`study run-one ... --index I`: train, then evaluate and summarise);
    /// returns the exit code (0 when every run finished). A run that another process is training (another `study run`,
    /// a Slurm task, a `train` by hand: it holds the run's lock) is left to it, takes one of the <paramref name="jobs"/>
    /// slots while it trains, and what needs it waits for it; once it finishes it is summarised like the others.
    /// </summary>
    public static int RunLocal(IReadOnlyList<PlannedRun> runs, int jobs, TextWriter stdout, CancellationToken cancel,
                               Func<PlannedRun, IEnumerable<string>>? childArgs = null, string? summaries = null)
    {
        childArgs ??= TrainArgs;
        int threads = Math.Max(1, CpuParallel.Threads / jobs);
        var state = States(runs, summaries);
        int already = state.Count(IsFinished), summarised = state.Count(s => s == RunState.Summarised);
        var elsewhere = Enumerable.Range(0, runs.Count).Where(i => state[i] == RunState.Running).ToHashSet();
        // Finished here but not summarised there (trained before --summaries was given): its child only evaluates and summarises.
        var unsummarised = summaries is null ? [] : Enumerable.Range(0, runs.Count).Where(i => state[i] == RunState.Done && StudySummaries.Read(runs[i], summaries) is null).ToHashSet();
        stdout.WriteLine($"study: {runs.Count} runs, {already} finished already{(summarised > 0 ? $" ({summarised} of them summarised in {summaries}, not trained again)" : "")}; " +
                         $"{jobs} at a time, {threads} thread(s) each");
        foreach (int i in elsewhere) stdout.WriteLine($"{runs[i].Name}: being trained by another process; left to it (what needs it waits for it)");
        var running = new Dictionary<int, (Process P, Stopwatch Clock)>();
        var failed = new List<int>();
        var sw = Stopwatch.StartNew();
        var lastCheck = Stopwatch.StartNew();
        bool stopping = false;
        using var reg = cancel.Register(() =>
        {
            stopping = true;
            lock (running) foreach (var (p, _) in running.Values) try { if (!p.HasExited) kill(p.Id, SigTerm); } catch (InvalidOperationException) { }
        });
        string Counts() => $"[{state.Count(IsFinished)}/{runs.Count} done, {running.Count} running{(elsewhere.Count > 0 ? $", {elsewhere.Count} elsewhere" : "")}, {failed.Count} failed, {sw.Elapsed:hh\\:mm\\:ss}]";
        bool Waits(int i) => (!IsFinished(state[i]) || unsummarised.Contains(i)) && !failed.Contains(i) && !elsewhere.Contains(i) && !running.ContainsKey(i);

        while (true)
        {
            // Start what can start: not finished, not failed this time, not trained elsewhere, everything it needs finished.
            while (!stopping && running.Count + elsewhere.Count < jobs)   // a run another process trains here takes a slot too
            {
                int next = SeedMajor(runs).FirstOrDefault(i => Waits(i) && runs[i].Needs.All(d => IsFinished(state[d])), -1);
                if (next < 0) break;
                var r = runs[next];
                if (Locked(r.Dir))   // taken since we looked (another study run started it)
                {
                    elsewhere.Add(next); state[next] = RunState.Running;
                    stdout.WriteLine($"{Counts()} skipped  {r.Name}: another process has started it");
                    continue;
                }
                Directory.CreateDirectory(r.Dir);
                File.Delete(Path.Combine(r.Dir, FailedFile));
                var (file, prefix) = Self();
                var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var a in prefix.Concat(childArgs(r))) psi.ArgumentList.Add(a);
                psi.Environment[CpuParallel.ThreadsVariable] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var log = new StreamWriter(Path.Combine(r.Dir, LogFile), append: true) { AutoFlush = true };
                log.WriteLine($"# {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC: {r.CommandLine}{(state[next] == RunState.Interrupted ? " --resume" : "")}");
                var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
                p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
                p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
                p.Exited += (_, _) => { p.WaitForExit(); lock (log) log.Dispose(); };
                p.Start(); p.BeginOutputReadLine(); p.BeginErrorReadLine();
                lock (running) running[next] = (p, Stopwatch.StartNew());
                bool summarising = state[next] == RunState.Done;
                state[next] = RunState.Running;
                stdout.WriteLine($"{Counts()} {(summarising ? "summarising" : "started ")} {r.Name}");
            }
            // Runs trained elsewhere: looked at every few seconds; once one finishes, what needs it can start.
            if (elsewhere.Count > 0 && lastCheck.Elapsed.TotalSeconds >= 5)
            {
                lastCheck.Restart();
                foreach (int i in elsewhere.ToList())
                {
                    var s = State(runs[i]);
                    if (s == RunState.Running) continue;
                    elsewhere.Remove(i); state[i] = s;
                    if (s == RunState.Done && summaries is not null && StudySummaries.Read(runs[i], summaries) is null) unsummarised.Add(i);
                    stdout.WriteLine($"{Counts()} {(s == RunState.Done ? "finished" : "left    ")} {runs[i].Name} (by another process{(s == RunState.Done ? "" : $"; now {s.ToString().ToLowerInvariant()}")})");
                }
                continue;
            }
            bool waitingForElsewhere = !stopping && elsewhere.Count > 0 && Enumerable.Range(0, runs.Count).Any(Waits);
            if (running.Count == 0 && !waitingForElsewhere) break;
            Thread.Sleep(200);
            foreach (var (i, (p, clock)) in running.ToList())
            {
                if (!p.HasExited) continue;
                p.WaitForExit();
                lock (running) running.Remove(i);
                unsummarised.Remove(i);
                var r = runs[i];
                if (p.ExitCode == 0 && Finished(r)) { state[i] = RunState.Done; stdout.WriteLine($"{Counts()} finished {r.Name} in {clock.Elapsed:hh\\:mm\\:ss}"); }
                else if (p.ExitCode == 130 || stopping) { state[i] = RunState.Interrupted; stdout.WriteLine($"{Counts()} stopped  {r.Name} (checkpoint saved; a rerun resumes it)"); }
                else if (Locked(r.Dir)) { elsewhere.Add(i); state[i] = RunState.Running; stdout.WriteLine($"{Counts()} skipped  {r.Name}: another process has started it"); }
                else
                {
                    state[i] = RunState.Failed; failed.Add(i);
                    File.WriteAllText(Path.Combine(r.Dir, FailedFile), $"exit code {p.ExitCode}\n");
                    stdout.WriteLine($"{Counts()} FAILED   {r.Name} (exit code {p.ExitCode}); its log ends:\n{Tail(r.Dir)}");
                }
                p.Dispose();
            }
        }
        var blocked = Enumerable.Range(0, runs.Count).Where(i => !IsFinished(state[i]) && !failed.Contains(i) && !elsewhere.Contains(i)).ToList();
        stdout.WriteLine($"study: {state.Count(IsFinished)} of {runs.Count} runs finished in {sw.Elapsed:hh\\:mm\\:ss}" +
                         (failed.Count > 0 ? $"; {failed.Count} failed: {string.Join(", ", failed.Select(i => runs[i].Name))} (logs: <run>/{LogFile})" : "") +
                         (elsewhere.Count > 0 ? $"; {elsewhere.Count} still being trained by another process: {string.Join(", ", elsewhere.Select(i => runs[i].Name))}" : "") +
                         (blocked.Count > 0 && !stopping ? $"; {blocked.Count} not run because a run they need failed" : "") +
                         (stopping ? "; stopped - run the same command again to continue" : ""));
        return stopping ? 130 : failed.Count > 0 || blocked.Count > 0 ? 1 : 0;
    }
}
