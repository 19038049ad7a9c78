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
