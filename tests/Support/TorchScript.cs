using System.Diagnostics;

namespace QGenEngine.Tests.Support;

/// <summary>Runs a committed PyTorch check (tools/golden/*.py, Debian's /usr/bin/python3); ignores the test where Python or PyTorch is absent.</summary>
public static class TorchScript
{
    public static string Repo()
    {
        string repo = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repo, "QGenEngine.sln")))
            repo = Path.GetDirectoryName(repo.TrimEnd('/')) ?? throw new DirectoryNotFoundException("repository root not found above " + AppContext.BaseDirectory);
        return repo;
    }

    /// <summary>(exit code, stdout, stderr) of tools/golden/<paramref name="script"/> with the arguments.</summary>
    public static (int Code, string Out, string Err) Run(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3", [Path.Combine(Repo(), "tools", "golden", script), .. args])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception) { Record("skipped", script, "no /usr/bin/python3"); NUnit.Framework.Assert.Ignore("no /usr/bin/python3"); throw; }
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        string e = err.Result;
        if (e.Contains("No module named 'torch'") || e.Contains("No module named 'numpy'"))
        {
            Record("skipped", script, "PyTorch is not installed (apt-get install python3-torch)");
            NUnit.Framework.Assert.Ignore("PyTorch is not installed (apt-get install python3-torch)");
        }
        Record("ran", script, "");
        return (p.ExitCode, o, e);
    }

    /// <summary>A line per live cross-check in $QGEN_CROSSCHECKS (set by .ci/run, which counts them).</summary>
    private static void Record(string what, string script, string why)
    {
        if (Environment.GetEnvironmentVariable("QGEN_CROSSCHECKS") is not { Length: > 0 } log) return;
        lock (typeof(TorchScript)) File.AppendAllText(log, $"{what} {script}{(why.Length > 0 ? ": " + why : "")}\n");
    }
}
