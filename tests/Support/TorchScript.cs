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
        catch (System.ComponentModel.Win32Exception) { NUnit.Framework.Assert.Ignore("no /usr/bin/python3"); throw; }
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        string e = err.Result;
        if (e.Contains("No module named 'torch'") || e.Contains("No module named 'numpy'")) NUnit.Framework.Assert.Ignore("PyTorch is not installed (apt-get install python3-torch)");
        return (p.ExitCode, o, e);
    }
}
