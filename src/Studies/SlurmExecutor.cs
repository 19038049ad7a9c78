using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace QGenEngine.Studies;

/// <summary>What a Slurm submission asks for (sbatch's own options).</summary>
public sealed record SlurmOptions(string? Partition = null, string? Time = null, int CpusPerTask = 2, int? MaxParallel = null, int? Gpus = null);

/// <summary>
/// Runs a study on a Slurm cluster without a scheduler of our own: one job array per dependency level (a prior's
/// array waits for its VQ-VAEs' with --dependency=afterany; its task then checks that the run it needs finished), whose
/// task IDs are the runs' plan indices, each task running `qgen-engine study run-one SPEC --index $SLURM_ARRAY_TASK_ID`.
/// The sbatch script and the submitted job IDs live in the study directory's slurm/ folder; a rerun submits only
/// the runs that are neither finished nor still queued or running. A shared file system is assumed, as Slurm sites have.
/// </summary>
public static class SlurmExecutor
{
    public const string Folder = "slurm", ScriptFile = "study.sbatch", JobsFile = "jobs.json";

    /// <summary>The batch script every array task runs.</summary>
    public static string Script(string study, string specPath, string? profile, string studyDir, SlurmOptions o)
    {
        var (file, prefix) = StudyRunner.Self();
        var cmd = new List<string> { file };
        cmd.AddRange(prefix);
        cmd.AddRange(["study", "run-one", Path.GetFullPath(specPath)]);
        if (profile is not null) cmd.AddRange(["--profile", profile]);
        cmd.AddRange(["--dir", Path.GetFullPath(studyDir), "--index", "$SLURM_ARRAY_TASK_ID"]);
        var sb = new StringBuilder();
        sb.AppendLine("#!/bin/bash");
        sb.AppendLine($"#SBATCH --job-name=qgen-{study}");
        sb.AppendLine($"#SBATCH --output={Path.GetFullPath(Path.Combine(studyDir, Folder))}/%A_%a.out");
        sb.AppendLine($"#SBATCH --cpus-per-task={o.CpusPerTask}");
        if (o.Partition is not null) sb.AppendLine($"#SBATCH --partition={o.Partition}");
        if (o.Time is not null) sb.AppendLine($"#SBATCH --time={o.Time}");
        if (o.Gpus is { } g) sb.AppendLine($"#SBATCH --gpus={g}");
        sb.AppendLine("# Slurm sends SIGTERM on scancel and at the time limit: the training saves its checkpoint and a rerun resumes it.");
        sb.AppendLine($"export QGEN_THREADS=${{SLURM_CPUS_PER_TASK:-{o.CpusPerTask}}}");
        sb.AppendLine($"cd {Quote(Directory.GetCurrentDirectory())}");
        sb.AppendLine("exec " + string.Join(' ', cmd.Select(a => a.StartsWith('$') ? a : Quote(a))));
        return sb.ToString();
    }

    private static string Quote(string s) => s.All(c => char.IsLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or '=' or ':' or '+') ? s : "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>The runs to submit, grouped by dependency level (a run's level is one more than the deepest run it needs).</summary>
    public static List<List<PlannedRun>> Levels(IReadOnlyList<PlannedRun> runs, ISet<int> submit)
    {
        var level = new int[runs.Count];
        foreach (var r in runs) level[r.Index] = r.Needs.Count == 0 ? 0 : r.Needs.Max(d => level[d]) + 1;   // needs come earlier in the plan
        return runs.Where(r => submit.Contains(r.Index)).GroupBy(r => level[r.Index]).OrderBy(g => g.Key).Select(g => g.ToList()).ToList();
    }

    /// <summary>Array tasks of this study still queued or running, by plan index (from squeue, for the job IDs submitted before).</summary>
    public static Dictionary<int, string> Queued(string studyDir)
    {
        var jobs = ReadJobs(studyDir);
        var queued = new Dictionary<int, string>();
        if (jobs.Count == 0) return queued;
        var (code, o, _) = Exec("squeue", ["-h", "-r", "-o", "%i %T", "-j", string.Join(',', jobs)]);
        if (code != 0) return queued;   // squeue refuses ids it has forgotten: nothing of them is queued
        foreach (var line in o.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Trim().Split(' ');
            int us = parts[0].IndexOf('_');
            if (parts.Length == 2 && us > 0 && int.TryParse(parts[0][(us + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int idx))
                queued[idx] = parts[1].ToLowerInvariant();
        }
        return queued;
    }

    private static List<string> ReadJobs(string studyDir)
    {
        var path = Path.Combine(studyDir, Folder, JobsFile);
        if (!File.Exists(path)) return [];
        try { return JsonNode.Parse(File.ReadAllText(path))!["jobs"]!.AsArray().Select(j => j!["id"]!.GetValue<string>()).ToList(); }
        catch (Exception e) when (e is System.Text.Json.JsonException or NullReferenceException or InvalidOperationException) { return []; }
    }

    /// <summary>Submits what is not finished and not queued; returns the exit code. With dryRun, prints the script and the sbatch commands.</summary>
    public static int Submit(StudySpec spec, string studyDir, IReadOnlyList<PlannedRun> runs, SlurmOptions o, bool dryRun, TextWriter stdout)
    {
        if (o.CpusPerTask < 1) throw new StudyException($"--cpus-per-task: {o.CpusPerTask} must be ≥ 1");
        if (o.MaxParallel is < 1) throw new StudyException($"--max-parallel: {o.MaxParallel} must be ≥ 1");
        if (o.Gpus is < 0) throw new StudyException($"--gpus: {o.Gpus} must be ≥ 0");
        bool haveSbatch = Which("sbatch");
        if (!dryRun && !haveSbatch) throw new StudyException("--executor slurm: sbatch is not on PATH; run this on a Slurm login node (or start the local cluster: tools/slurm/start.sh)");
        var queued = haveSbatch ? Queued(studyDir) : [];
        var todo = runs.Where(r => StudyRunner.State(r) != RunState.Done && !queued.ContainsKey(r.Index)).Select(r => r.Index).ToHashSet();
        int done = runs.Count(r => StudyRunner.State(r) == RunState.Done);
        string script = Script(spec.Name, spec.Path, spec.Profile, studyDir, o);
        var levels = Levels(runs, todo);
        string folder = Path.Combine(studyDir, Folder);
        string scriptPath = Path.Combine(folder, ScriptFile);
        var commands = new List<List<string>>();
        foreach (var level in levels)
            commands.Add(["--parsable", $"--array={string.Join(',', level.Select(r => r.Index))}" + (o.MaxParallel is { } k ? $"%{k}" : "")]);
        if (dryRun)
        {
            stdout.WriteLine($"# {scriptPath}");
            stdout.Write(script);
            for (int i = 0; i < commands.Count; i++)
                stdout.WriteLine($"sbatch {(i > 0 ? $"--dependency=afterany:<job {i}> " : "")}{string.Join(' ', commands[i])} {scriptPath}");
            stdout.WriteLine($"# {todo.Count} runs to submit; {done} finished, {queued.Count} queued or running");
            return 0;
        }
        if (todo.Count == 0)
        {
            stdout.WriteLine($"study {spec.Name}: nothing to submit ({done} finished, {queued.Count} queued or running)");
            return 0;
        }
        Directory.CreateDirectory(folder);
        QGenEngine.Autograd.AtomicFile.WriteText(scriptPath, script);
        var submitted = new List<(string Id, List<int> Indices)>();
        string? previous = null;
        for (int i = 0; i < levels.Count; i++)
        {
            var args = new List<string>(commands[i]);
            if (previous is not null) args.Insert(0, $"--dependency=afterany:{previous}");
            args.Add(scriptPath);
            var (code, output, err) = Exec("sbatch", args);
            if (code != 0)
            {
                string msg = (err + " " + output).Trim().Replace('\n', ' ');
                if (submitted.Count > 0) RecordJobs(studyDir, submitted);
                throw new StudyException($"sbatch refused the job: {msg}" + (submitted.Count > 0 ? $" (arrays {string.Join(", ", submitted.Select(s => s.Id))} were submitted)" : ""));
            }
            previous = output.Trim().Split(';')[0];
            submitted.Add((previous, levels[i].Select(r => r.Index).ToList()));
        }
        RecordJobs(studyDir, submitted);
        stdout.WriteLine($"study {spec.Name}: submitted {todo.Count} runs as job array{(submitted.Count > 1 ? "s" : "")} {string.Join(", ", submitted.Select(s => s.Id))} " +
                         $"({done} finished, {queued.Count} already queued); `qgen-engine study status {spec.Path}` follows them");
        return 0;
    }

    private static void RecordJobs(string studyDir, List<(string Id, List<int> Indices)> submitted)
    {
        var path = Path.Combine(studyDir, Folder, JobsFile);
        var all = new JsonArray();
        foreach (var id in ReadJobs(studyDir)) all.Add(new JsonObject { ["id"] = id });
        foreach (var (id, idx) in submitted)
            all.Add(new JsonObject { ["id"] = id, ["indices"] = new JsonArray(idx.Select(i => (JsonNode)i).ToArray()), ["submitted"] = DateTime.UtcNow.ToString("O") });
        QGenEngine.Autograd.AtomicFile.WriteText(path, new JsonObject { ["jobs"] = all }.ToJsonString());
    }

    public static bool Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, program)));

    public static (int Code, string Out, string Err) Exec(string program, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync(); var e = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, o.Result, e.Result);
    }
}
