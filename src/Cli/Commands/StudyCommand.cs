using System.CommandLine;
using System.Text.Json.Nodes;
using QGenEngine.Studies;

namespace QGenEngine.Cli.Commands;

/// <summary>`qgen-engine study plan|run|run-one|status|report SPEC`: a study's runs from a YAML spec, on this machine or on Slurm, and its report.</summary>
public static class StudyCommand
{
    /// <summary>The `train` command's options by name (without --), and whether each is a switch.</summary>
    private static IReadOnlyDictionary<string, bool> TrainOptionNames() => TrainCommand.AllFlags();

    /// <summary>The program's own commands, for a study's layer to call (`eval`, `route`).</summary>
    private static int Program(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) => App.Run([.. args], stdout, stderr);

    /// <summary>A `train` argument list's full configuration (train --dry-run), or its one-line error.</summary>
    private static string Resolve(IReadOnlyList<string> args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = App.Run([.. args, "--dry-run"], o, e);
        if (code != 0) throw new StudyException(e.ToString().Trim().Replace("qgen-engine: ", "", StringComparison.Ordinal));
        return o.ToString().Trim();
    }

    /// <summary>Where study directories go without --dir: $QGEN_STUDIES (a folder that outlives a checkout), else runs/studies.</summary>
    public const string StudiesVariable = "QGEN_STUDIES";
    public static string StudiesRoot => Environment.GetEnvironmentVariable(StudiesVariable) is { Length: > 0 } d ? d : Path.Combine("runs", "studies");

    /// <summary>The spec's runs, checked: every run's options resolved as `train` would.</summary>
    public static (StudySpec Spec, string Dir, IReadOnlyList<PlannedRun> Runs) Load(string specPath, string? profile, string? dir)
    {
        var names = TrainOptionNames();
        var spec = StudySpec.Load(specPath, names.Keys.ToHashSet(), profile);
        string studyDir = dir ?? Path.Combine(StudiesRoot, spec.Name + (profile is null ? "" : "-" + profile));
        return (spec, studyDir, spec.Plan(studyDir, k => names[k], Resolve, TrainCommand.Takes));
    }

    /// <summary>`study` and its subcommands, each built by a method of its own below.</summary>
    public static Command Build(TextWriter stdout, Func<CancellationToken> cancel)
    {
        var cmd = new Command("study", "A study's runs from a YAML spec (models, options, seeds, one-at-a-time ablations, grids): plan, run, status, report");
        cmd.Subcommands.Add(Plan(stdout)); cmd.Subcommands.Add(Run(stdout, cancel)); cmd.Subcommands.Add(RunOne(stdout, cancel));
        cmd.Subcommands.Add(Status(stdout)); cmd.Subcommands.Add(Report(stdout));
        return cmd;
    }

    // ---- the options several subcommands share (a System.CommandLine option belongs to one command: each gets its own)
    private static Argument<string> Spec() => new("spec") { Description = "the study spec (YAML), e.g. studies/compare.yaml" };
    private static Option<string?> Profile() => new("--profile") { Description = "a profile of the spec (its profiles: section), e.g. quick" };
    private static Option<string?> Dir() => new("--dir") { Description = "the study directory (default $QGEN_STUDIES/<name>[-<profile>], or runs/studies/... without QGEN_STUDIES)" };
    private static Option<string?> Summaries() => new("--summaries")
    {
        Description = "the report's folder of run summaries (e.g. docs/studies/compare-full): a run summarised there counts as finished (a new machine " +
                      "need not train it again) unless a run still to train needs its checkpoint; `run` evaluates each run it finishes and writes its summary there",
    };

    private static Option<int> EvalSamples() => new("--n")
    {
        Description = "with --summaries: samples each finished run's `eval` scores before it is summarised (default 10000, as `study report`)",
        DefaultValueFactory = _ => 10_000,
    };

    private static Option<int> ProbeSteps() => new("--probe-steps")
    {
        Description = "steps of the fresh discriminator `probe` trains against each finished GAN-family run (default 1500, ~5 min of a core; 0: no probe)",
        DefaultValueFactory = _ => StudyReport.DefaultProbeSteps,
    };

    private static int ProbeStepsOf(ParseResult p, Option<int> o) =>
        p.GetValue(o) is var v and >= 0 ? v : throw new CliException($"--probe-steps: {p.GetValue(o)} must be ≥ 0 (0: no probe)");

    /// <summary>`study plan`: every run with its train command line, run directory and state (or JSON).</summary>
    private static Command Plan(TextWriter stdout)
    {
        var specArg = Spec(); var profileOpt = Profile(); var dirOpt = Dir(); var summariesOpt = Summaries();
        var json = new Option<bool>("--json") { Description = "print JSON" };
        var plan = new Command("plan", "Every run with its full train command line and run directory") { specArg, profileOpt, dirOpt, summariesOpt, json };
        plan.SetAction(p =>
        {
            var (spec, dir, runs) = Load(p.GetValue(specArg)!, p.GetValue(profileOpt), p.GetValue(dirOpt));
            var states = StudyRunner.States(runs, p.GetValue(summariesOpt));
            if (p.GetValue(json))
            {
                stdout.WriteLine(new JsonObject
                {
                    ["name"] = spec.Name, ["profile"] = spec.Profile, ["dir"] = dir,
                    ["runs"] = new JsonArray(runs.Select(r => (JsonNode)new JsonObject
                    {
                        ["index"] = r.Index, ["name"] = r.Name, ["model"] = r.Model, ["seed"] = r.Seed, ["variation"] = r.Variation, ["also"] = new JsonArray(r.Aliases.Select(a => (JsonNode)a).ToArray()), ["dir"] = r.Dir,
                        ["command"] = r.CommandLine, ["needs"] = new JsonArray(r.Needs.Select(n => (JsonNode)n).ToArray()), ["state"] = states[r.Index].ToString().ToLowerInvariant(),
                    }).ToArray()),
                }.ToJsonString());
                return 0;
            }
            stdout.WriteLine($"study {spec.Name}{(spec.Profile is null ? "" : $" (profile {spec.Profile})")}: {runs.Count} runs in {dir}");
            foreach (var r in runs) stdout.WriteLine($"{r.Index,4}  {states[r.Index].ToString().ToLowerInvariant(),-11} {r.CommandLine}");
            return 0;
        });
        return plan;
    }

    /// <summary>`study run`: what is not finished, here (--jobs at a time, each a `study run-one` child) or as Slurm job arrays.</summary>
    private static Command Run(TextWriter stdout, Func<CancellationToken> cancel)
    {
        var specArg = Spec(); var profileOpt = Profile(); var dirOpt = Dir(); var summariesOpt = Summaries(); var samplesOpt = EvalSamples(); var probeOpt = ProbeSteps();
        var jobs = new Option<int>("--jobs") { Description = "runs at a time on this machine, counting those another process trains here (the cores are split between them)", DefaultValueFactory = _ => 1 };
        var executor = new Option<string>("--executor") { Description = "local (here, --jobs at a time) | slurm (a job array per dependency level, submitted with sbatch)", DefaultValueFactory = _ => "local" };
        var partition = new Option<string?>("--partition") { Description = "slurm: the partition" };
        var time = new Option<string?>("--time") { Description = "slurm: each task's time limit (e.g. 2:00:00)" };
        var cpus = new Option<int>("--cpus-per-task") { Description = "slurm: cores per run (default 2)", DefaultValueFactory = _ => 2 };
        var maxParallel = new Option<int?>("--max-parallel") { Description = "slurm: at most K runs at once (the array's %K)" };
        var gpus = new Option<int?>("--gpus") { Description = "slurm: GPUs per run" };
        var dryRun = new Option<bool>("--dry-run") { Description = "slurm: print the sbatch script and commands, submit nothing" };
        var run = new Command("run", "Run the study: here (skips finished runs, resumes interrupted ones, keeps going past a failure) or on Slurm")
            { specArg, profileOpt, dirOpt, summariesOpt, samplesOpt, probeOpt, jobs, executor, partition, time, cpus, maxParallel, gpus, dryRun };
        run.SetAction(p =>
        {
            if (p.GetValue(jobs) < 1) throw new CliException($"--jobs: {p.GetValue(jobs)} must be ≥ 1");
            if (p.GetValue(samplesOpt) < 10) throw new CliException($"--n: {p.GetValue(samplesOpt)} must be ≥ 10");
            int probeSteps = ProbeStepsOf(p, probeOpt);
            string ex = p.GetValue(executor)!;
            if (ex is not ("local" or "slurm")) throw new CliException($"--executor: '{ex}'; expected local or slurm");
            var (spec, dir, runs) = Load(p.GetValue(specArg)!, p.GetValue(profileOpt), p.GetValue(dirOpt));
            if (ex == "slurm")
                return SlurmExecutor.Submit(spec, dir, runs, new SlurmOptions(p.GetValue(partition), p.GetValue(time), p.GetValue(cpus), p.GetValue(maxParallel), p.GetValue(gpus)),
                                            p.GetValue(dryRun), stdout);
            if (p.GetValue(dryRun)) throw new CliException("--dry-run: only with --executor slurm (`study plan` shows a local study's runs)");
            string? summaries = p.GetValue(summariesOpt) is { } sd ? Path.GetFullPath(sd) : null;
            // Each run is a `study run-one` of its own: it trains, then (with --summaries) evaluates and summarises.
            IEnumerable<string> Child(PlannedRun r) =>
                ["study", "run-one", Path.GetFullPath(spec.Path), .. spec.Profile is null ? Array.Empty<string>() : ["--profile", spec.Profile],
                 "--dir", Path.GetFullPath(dir), "--index", r.Index.ToString(System.Globalization.CultureInfo.InvariantCulture),
                 .. summaries is null ? Array.Empty<string>() : ["--summaries", summaries, "--n", p.GetValue(samplesOpt).ToString(System.Globalization.CultureInfo.InvariantCulture),
                                                                           "--probe-steps", probeSteps.ToString(System.Globalization.CultureInfo.InvariantCulture)]];
            return StudyRunner.RunLocal(runs, p.GetValue(jobs), stdout, cancel(), Child, summaries);
        });
        return run;
    }

    /// <summary>`study run-one`: one run in this process - train, then (with --summaries) evaluate and summarise; what each child and Slurm task does.</summary>
    private static Command RunOne(TextWriter stdout, Func<CancellationToken> cancel)
    {
        var specArg = Spec(); var profileOpt = Profile(); var dirOpt = Dir(); var summariesOpt = Summaries(); var samplesOpt = EvalSamples(); var probeOpt = ProbeSteps();
        var index = new Option<int>("--index") { Required = true, Description = "the run's index in `study plan` (a Slurm array task's SLURM_ARRAY_TASK_ID)" };
        var runOne = new Command("run-one", "Run one run of the study in this process (what each Slurm array task does)") { specArg, profileOpt, dirOpt, summariesOpt, samplesOpt, probeOpt, index };
        runOne.SetAction(p =>
        {
            var (spec, _, runs) = Load(p.GetValue(specArg)!, p.GetValue(profileOpt), p.GetValue(dirOpt));
            int i = p.GetValue(index);
            if (p.GetValue(samplesOpt) < 10) throw new CliException($"--n: {p.GetValue(samplesOpt)} must be ≥ 10");
            if (i < 0 || i >= runs.Count) throw new CliException($"--index: {i} is outside the study's runs 0..{runs.Count - 1}");
            var r = runs[i];
            string? summaries = p.GetValue(summariesOpt);
            var states = StudyRunner.States(runs, summaries);
            if (states[i] == RunState.Summarised) { stdout.WriteLine($"{r.Name}: finished already (summarised in {summaries})"); return 0; }
            if (states[i] != RunState.Done)
            {
                foreach (int d in r.Needs)
                    if (states[d] != RunState.Done) throw new CliException($"{r.Name} needs {runs[d].Name}, which has not finished");
                Directory.CreateDirectory(r.Dir);
                File.Delete(Path.Combine(r.Dir, StudyRunner.FailedFile));
                int code = App.Run(StudyRunner.TrainArgs(r), stdout, stdout, cancel());
                if (code != 0 && code != 130) File.WriteAllText(Path.Combine(r.Dir, StudyRunner.FailedFile), $"exit code {code}\n");
                if (code != 0) return code;
            }
            else if (summaries is null) { stdout.WriteLine($"{r.Name}: finished already"); return 0; }
            // Finished: with --summaries, evaluated (10,000 samples, as `study report` does) and summarised as it lands.
            if (summaries is not null) StudyReport.Finish(r, summaries, DeviceOption.Resolve(null), p.GetValue(samplesOpt), 10_000, ProbeStepsOf(p, probeOpt), stdout, Program, spec.NoiseModels);
            return 0;
        });
        return runOne;
    }

    /// <summary>`study status`: each run's state and progress, and about how much training is left.</summary>
    private static Command Status(TextWriter stdout)
    {
        var specArg = Spec(); var profileOpt = Profile(); var dirOpt = Dir(); var summariesOpt = Summaries();
        var status = new Command("status", "done / summarised / running / interrupted / failed / pending per run") { specArg, profileOpt, dirOpt, summariesOpt };
        status.SetAction(p =>
        {
            var (spec, dir, runs) = Load(p.GetValue(specArg)!, p.GetValue(profileOpt), p.GetValue(dirOpt));
            // Under Slurm, a run the queue still holds is "queued" (pending) or "running" whatever its directory says.
            var queue = SlurmExecutor.Which("squeue") ? SlurmExecutor.Queued(dir) : [];
            // Read-only, so without --summaries it looks where tools/study/start.sh writes them (docs/studies/<study dir's
            // name>, from the current folder) and says so: a status that shows committed runs as pending overstates what is left.
            string? summaries = p.GetValue(summariesOpt);
            string conventional = Path.Combine("docs", "studies", Path.GetFileName(Path.TrimEndingDirectorySeparator(dir)), StudySummaries.RunsFolder);
            if (summaries is null && Directory.Exists(conventional))
            {
                summaries = Path.GetDirectoryName(conventional)!;
                stdout.WriteLine($"(runs summarised in {summaries} count as finished; --summaries DIR to look elsewhere)");
            }
            var known = StudyRunner.States(runs, summaries);
            var states = runs.Select(r =>
            {
                var s = known[r.Index];
                if (StudyRunner.IsFinished(s) || !queue.TryGetValue(r.Index, out var q)) return s.ToString().ToLowerInvariant();
                return q == "running" ? "running" : $"queued ({q})";
            }).ToArray();
            stdout.WriteLine($"study {spec.Name}: " + string.Join(", ", states.GroupBy(s => s.Split(' ')[0]).Select(g => $"{g.Count()} {g.Key}")) + $" ({dir})");
            var left = StudyProgress.SecondsLeft(runs, known, summaries);
            foreach (var r in runs)
            {
                // How far an unfinished run has come: its finished epochs, and about how long its training has left.
                string progress = StudyRunner.IsFinished(known[r.Index]) || known[r.Index] == RunState.Pending ? ""
                    : $"  epoch {StudyProgress.Epochs(r, null).Count}/{r.Epochs}" + (left[r.Index] is { } s ? $", ~{Hours(s)} left" : "");
                stdout.WriteLine($"{r.Index,4}  {states[r.Index],-11} {r.Name}{progress}");
                if (states[r.Index] == "failed") stdout.WriteLine(StudyRunner.Tail(r.Dir));
            }
            var unfinished = runs.Where(r => !StudyRunner.IsFinished(known[r.Index])).ToList();
            if (unfinished.Count > 0)
            {
                double total = unfinished.Sum(r => left[r.Index] ?? 0);
                int unknown = unfinished.Count(r => left[r.Index] is null);
                stdout.WriteLine($"training left: ~{Hours(total)} of one run at a time (~{Hours(total / 2)} at --jobs 2), from each run's median epoch so far, else its configuration's" +
                                 (unknown > 0 ? $"; {unknown} run(s) with no finished epoch of their model to go by, not counted" : ""));
            }
            return 0;
        });
        return status;
    }

    private static string Hours(double seconds) => seconds >= 3600 ? $"{seconds / 3600:F1} h" : $"{Math.Ceiling(seconds / 60):F0} min";

    /// <summary>`study report`: evaluate and summarise what is finished, then REPORT.md, results.csv and the pictures from the summaries.</summary>
    private static Command Report(TextWriter stdout)
    {
        var specArg = Spec(); var profileOpt = Profile(); var dirOpt = Dir();
        var samples = new Option<int>("--n") { Description = "samples `eval` scores per generative run (default 10000)", DefaultValueFactory = _ => 10_000 };
        var routeImages = new Option<int>("--route-images") { Description = "test images `route` serves for each router run (default 10000)", DefaultValueFactory = _ => 10_000 };
        var probeOpt = ProbeSteps();
        var device = DeviceOption.Create();
        var reportOut = new Option<string?>("--out") { Description = "the report's directory: REPORT.md, results.csv, pictures and each finished run's summary (runs/RUN/); default the study directory. " +
                                                                         "A report is rebuilt from the summaries there, so it needs no checkpoint" };
        var report = new Command("report", "Evaluate what is not yet evaluated, summarise each finished run, then write REPORT.md, results.csv and the pictures from the summaries")
            { specArg, profileOpt, dirOpt, samples, routeImages, probeOpt, device, reportOut };
        report.SetAction(p =>
        {
            var (spec, dir, runs) = Load(p.GetValue(specArg)!, p.GetValue(profileOpt), p.GetValue(dirOpt));
            if (p.GetValue(samples) < 10) throw new CliException($"--n: {p.GetValue(samples)} must be ≥ 10");
            if (p.GetValue(routeImages) < 10) throw new CliException($"--route-images: {p.GetValue(routeImages)} must be ≥ 10");
            return StudyReport.Write(spec, dir, runs, DeviceOption.Resolve(p.GetValue(device)), p.GetValue(samples), stdout, Program, p.GetValue(routeImages), p.GetValue(reportOut), ProbeStepsOf(p, probeOpt));
        });
        return report;
    }
}
