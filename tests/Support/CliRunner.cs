using QGenEngine.Cli;

namespace QGenEngine.Tests.Support;

/// <summary>Runs the qgen-engine command tree in-process and captures its exit code and output.</summary>
public static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = App.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>
    /// Starts the program as a child process (what a study or a user does), one CPU thread, with
    /// <paramref name="environment"/> added to its environment (variables the runtime reads only at start).
    /// </summary>
    public static System.Diagnostics.Process Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        QGenEngine.Studies.StudyRunner.Program = typeof(App).Assembly;
        var (file, prefix) = QGenEngine.Studies.StudyRunner.Self();
        var psi = new System.Diagnostics.ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(args)) psi.ArgumentList.Add(a);
        psi.Environment["QGEN_THREADS"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return System.Diagnostics.Process.Start(psi)!;
    }
}

/// <summary>The project's rule for bad input, checked in one place: exit 2, one line, no stack trace, naming what it must.</summary>
public static class UserError
{
    public static void Assert(int code, string stdout, string stderr, params string[] mentions)
    {
        string context = (stdout + stderr).Trim();
        NUnit.Framework.Assert.That(code, Is.EqualTo(2), "exit 2 for bad input: " + context);
        string err = stderr.Trim();
        NUnit.Framework.Assert.That(err.Split('\n'), Has.Length.EqualTo(1), "one line: " + err);
        NUnit.Framework.Assert.That(err, Does.Not.Contain("   at ").And.Not.Contain("Exception:"), "no stack trace: " + err);
        foreach (var m in mentions) NUnit.Framework.Assert.That(err, Does.Contain(m));
    }
}
