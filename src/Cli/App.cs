using System.CommandLine;
using QGenEngine.Cli.Commands;

namespace QGenEngine.Cli;

/// <summary>A user error: printed as one line, exit code 2, never a stack trace.</summary>
public sealed class CliException(string message) : Exception(message);

/// <summary>The `qgen-engine` command tree. Commands only parse, call and print; the maths lives in the libraries.</summary>
public static class App
{
    private static string Plain(string m) => System.Text.RegularExpressions.Regex.Replace(m, @"as expected type '([^']+)'", t =>
        t.Groups[1].Value.Contains("Int32") ? "as an integer" : t.Groups[1].Value.Contains("UInt64") ? "as a non-negative integer"
        : t.Groups[1].Value.Contains("Single") ? "as a number" : t.Value);

    /// <summary>
    /// Whether the running command stops cleanly on cancellation (it asked for the token: training, studies); Program's
    /// Ctrl-C and SIGTERM handlers let any other command end at once, as a signal ends a program.
    /// </summary>
    public static volatile bool StopsCleanly;

    /// <summary>The exceptions that are a user's (bad input, a missing or damaged file): one line, exit code 2. Anything else is our bug.</summary>
    public static bool IsUserError(Exception e) =>
        e is CliException or QGenEngine.Studies.StudyException or ArgumentException or IOException or UnauthorizedAccessException or FormatException
          or QGenEngine.Models.Data.DataException or QGenEngine.Autograd.CheckpointException or System.Text.Json.JsonException;

    /// <summary>A user error's message as printed: one line (a parser's excerpt of the file may hold line breaks), at most 600 characters.</summary>
    public static string UserMessage(Exception e)
    {
        // Below the CLI a message names a setting as ⟨key⟩; here it is the flag a user types.
        string m = QGenEngine.Models.Training.Setting.AsFlags(System.Text.RegularExpressions.Regex.Replace(e.Message, @"[\r\n\t]+", " "));
        m = new string(m.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return m.Length <= 600 ? m : m[..600] + "…";
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancel = default)
    {
        QGenEngine.Studies.StudyRunner.Program = typeof(App).Assembly;   // a study's children run this program
        // A command that takes the token stops cleanly on it (training at a checkpoint); the others end at once on Ctrl-C or SIGTERM.
        CancellationToken Token() { StopsCleanly = true; return cancel; }
        var root = new RootCommand("qgen-engine: classical and quantum-enhanced generative models of images, on an engine of our own");
        root.Subcommands.Add(CircuitCommand.Build(stdout));
        root.Subcommands.Add(DevicesCommand.Build(stdout));
        root.Subcommands.Add(TrainCommand.Build(stdout, Token));
        root.Subcommands.Add(SampleCommand.Build(stdout));
        root.Subcommands.Add(MetricsCommand.Build(stdout));
        root.Subcommands.Add(MetricsCommand.BuildEval(stdout));
        root.Subcommands.Add(MetricsCommand.BuildProbe(stdout));
        root.Subcommands.Add(QasmCommand.Build(stdout));
        root.Subcommands.Add(LandscapeCommand.Build(stdout));
        root.Subcommands.Add(RouteCommand.Build(stdout));
        root.Subcommands.Add(StudyCommand.Build(stdout, Token));
        root.Subcommands.Add(PlotCommand.Build(stdout));
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // One line: the first error, with .NET type names in words (a flag another model takes, said so).
            string help = string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')).Take(2));
            stderr.WriteLine("qgen-engine: " + (TrainCommand.ExplainUnknown(args) ?? $"{Plain(parsed.Errors[0].Message)} (see qgen-engine {help} --help)"));
            return 2;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsUserError(e))
        {
            stderr.WriteLine($"qgen-engine: {UserMessage(e)}");
            return 2;
        }
    }
}
