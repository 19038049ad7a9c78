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
