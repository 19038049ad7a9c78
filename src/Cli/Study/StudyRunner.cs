using System.Diagnostics;
using System.Runtime.InteropServices;
using QGenEngine.Kernels.Cpu;
using QGenEngine.Models.Training;

namespace QGenEngine.Cli.Study;

public enum RunState { Pending, Running, Interrupted, Failed, Done }

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

    /// <summary>A run is finished when its metrics.jsonl holds a record for every epoch the plan asks for.</summary>
    public static bool Finished(PlannedRun r)
    {
        try
        {
            return File.Exists(Path.Combine(r.Dir, Trainer.MetricsFile)) && Trainer.ReadMetrics(r.Dir).Count >= r.Epochs;
        }
        catch (Exception e) when (e is FormatException or IOException or System.Text.Json.JsonException) { return false; }
    }

    private static bool Locked(string dir)
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

    /// <summary>How this program is started again: the apphost, or `dotnet qgen-engine.dll`.</summary>
    public static (string File, string[] Prefix) Self()
    {
        string dll = typeof(StudyRunner).Assembly.Location;
        string? process = Environment.ProcessPath;
        bool entry = System.Reflection.Assembly.GetEntryAssembly() == typeof(StudyRunner).Assembly;
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

    /// <summary>Runs what is not finished, <paramref name="jobs"/> at a time; returns the exit code (0 when every run finished).</summary>
    public static int RunLocal(IReadOnlyList<PlannedRun> runs, int jobs, TextWriter stdout, CancellationToken cancel)
    {
        int threads = Math.Max(1, CpuParallel.Threads / jobs);
        var state = runs.Select(State).ToArray();
        int already = state.Count(s => s == RunState.Done);
        if (state.Any(s => s == RunState.Running))
            throw new CliException($"{string.Join(", ", runs.Where((_, i) => state[i] == RunState.Running).Select(r => r.Name))}: being trained by another process; wait for it or stop it first");
        stdout.WriteLine($"study: {runs.Count} runs, {already} finished already; {jobs} at a time, {threads} thread(s) each");
        var running = new Dictionary<int, (Process P, Stopwatch Clock)>();
        var failed = new List<int>();
        var sw = Stopwatch.StartNew();
        bool stopping = false;
        using var reg = cancel.Register(() =>
        {
            stopping = true;
            lock (running) foreach (var (p, _) in running.Values) try { if (!p.HasExited) kill(p.Id, SigTerm); } catch (InvalidOperationException) { }
        });
        string Counts() => $"[{state.Count(s => s == RunState.Done)}/{runs.Count} done, {running.Count} running, {failed.Count} failed, {sw.Elapsed:hh\\:mm\\:ss}]";

        while (true)
        {
            // Start what can start: not finished, not failed this time, everything it needs finished.
            while (!stopping && running.Count < jobs)
            {
                int next = SeedMajor(runs).FirstOrDefault(i => state[i] is RunState.Pending or RunState.Interrupted or RunState.Failed
                                                                             && !failed.Contains(i) && !running.ContainsKey(i)
                                                                             && runs[i].Needs.All(d => state[d] == RunState.Done), -1);
                if (next < 0) break;
                var r = runs[next];
                Directory.CreateDirectory(r.Dir);
                File.Delete(Path.Combine(r.Dir, FailedFile));
                var (file, prefix) = Self();
                var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var a in prefix.Concat(TrainArgs(r))) psi.ArgumentList.Add(a);
                psi.Environment[CpuParallel.ThreadsVariable] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var log = new StreamWriter(Path.Combine(r.Dir, LogFile), append: true) { AutoFlush = true };
                log.WriteLine($"# {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC: {r.CommandLine}{(state[next] == RunState.Interrupted ? " --resume" : "")}");
                var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
                p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
                p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
                p.Exited += (_, _) => { p.WaitForExit(); lock (log) log.Dispose(); };
                p.Start(); p.BeginOutputReadLine(); p.BeginErrorReadLine();
                lock (running) running[next] = (p, Stopwatch.StartNew());
                state[next] = RunState.Running;
                stdout.WriteLine($"{Counts()} started  {r.Name}");
            }
            if (running.Count == 0) break;
            Thread.Sleep(200);
            foreach (var (i, (p, clock)) in running.ToList())
            {
                if (!p.HasExited) continue;
                p.WaitForExit();
                lock (running) running.Remove(i);
                var r = runs[i];
                if (p.ExitCode == 0 && Finished(r)) { state[i] = RunState.Done; stdout.WriteLine($"{Counts()} finished {r.Name} in {clock.Elapsed:hh\\:mm\\:ss}"); }
                else if (p.ExitCode == 130 || stopping) { state[i] = RunState.Interrupted; stdout.WriteLine($"{Counts()} stopped  {r.Name} (checkpoint saved; a rerun resumes it)"); }
                else
                {
                    state[i] = RunState.Failed; failed.Add(i);
                    File.WriteAllText(Path.Combine(r.Dir, FailedFile), $"exit code {p.ExitCode}\n");
                    stdout.WriteLine($"{Counts()} FAILED   {r.Name} (exit code {p.ExitCode}); its log ends:\n{Tail(r.Dir)}");
                }
                p.Dispose();
            }
        }
        var blocked = Enumerable.Range(0, runs.Count).Where(i => state[i] != RunState.Done && !failed.Contains(i)).ToList();
        stdout.WriteLine($"study: {state.Count(s => s == RunState.Done)} of {runs.Count} runs finished in {sw.Elapsed:hh\\:mm\\:ss}" +
                         (failed.Count > 0 ? $"; {failed.Count} failed: {string.Join(", ", failed.Select(i => runs[i].Name))} (logs: <run>/{LogFile})" : "") +
                         (blocked.Count > 0 && !stopping ? $"; {blocked.Count} not run because a run they need failed" : "") +
                         (stopping ? "; stopped - run the same command again to continue" : ""));
        return stopping ? 130 : failed.Count > 0 || blocked.Count > 0 ? 1 : 0;
    }
}
