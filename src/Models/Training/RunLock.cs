using System.Globalization;

namespace QGenEngine.Models.Training;

/// <summary>
/// A run directory's lock: an advisory lock on run.lock (the OS releases it with the process, however it ends), with the
/// holder's pid written inside and cleared on a clean release. A lock file that still names a process when we take it
/// was left by one that died (kill -9, a crash, a lost node): taken over, and said so.
/// </summary>
public sealed class RunLock : IDisposable
{
    private readonly FileStream _file;

    /// <summary>"run.lock was left by process N ...", when the previous holder did not release it cleanly; else null.</summary>
    public string? StaleNote { get; }

    private RunLock(FileStream file, string? note) { _file = file; StaleNote = note; }

    public static RunLock Take(string path, string runDir)
    {
        FileStream f;
        try { f = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException)
        {
            string holder = "";
            try { holder = File.ReadAllText(path).Trim(); } catch (IOException) { }   // readable where the OS lock is advisory
            throw new IOException($"{runDir}: in use by another qgen-engine process{(holder.Length > 0 ? $" ({holder})" : "")} (it holds {Path.GetFileName(path)}); wait for it to finish or stop it first");
        }
        string? note = null;
        var old = new StreamReader(f, leaveOpen: true).ReadToEnd().Trim();
        if (old.Length > 0 && !old.StartsWith($"pid {Environment.ProcessId} ", StringComparison.Ordinal))
            note = $"{runDir}: {Path.GetFileName(path)} was left by a process that is gone ({old}); taking it over";
        f.SetLength(0);
        var text = System.Text.Encoding.UTF8.GetBytes($"pid {Environment.ProcessId} on {Environment.MachineName} since {DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC\n");
        f.Position = 0;
        f.Write(text);
        f.Flush(flushToDisk: true);
        return new RunLock(f, note);
    }

    public void Dispose()
    {
        try { _file.SetLength(0); _file.Flush(); } catch (IOException) { }
        _file.Dispose();
    }
}
