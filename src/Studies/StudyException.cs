namespace QGenEngine.Studies;

/// <summary>A user error in a study (its spec, its runs, its executor): printed by the CLI as one line, exit code 2.</summary>
public sealed class StudyException(string message) : Exception(message);

/// <summary>
/// One of the program's own commands, run in this process (the CLI's App.Run): what a study asks of the program that
/// runs it - `eval` and `route` on a finished run, `train --dry-run` to resolve a run's configuration.
/// </summary>
public delegate int ProgramCommand(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr);
