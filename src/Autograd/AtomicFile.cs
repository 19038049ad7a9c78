using System.Text;

namespace QGenEngine.Autograd;

public static class AtomicFile
{
    /// <summary>Tests only: files (by full path) whose writes fail as on a full disk - where a test cannot mount a small file system.</summary>
    public static Func<string, bool>? SimulateFullDisk { get; set; }

    private const int Enospc = 28;

    /// <summary>
    /// Writes through a temporary file in the same folder, flushed to disk, then renamed over the target: a failure at
    /// any point leaves the previous file as it was. A full disk is said in words, naming the file (IOException: one line, exit 2).
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                if (SimulateFullDisk?.Invoke(full) == true) throw new IOException($"No space left on device : '{tmp}'", Enospc);
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e)
        {
            try { File.Delete(tmp); } catch (IOException) { }
            if (e is IOException io && IsDiskFull(io))
                throw new IOException($"{full}: not written: the disk is full (no space left on device); " +
                                      (File.Exists(full) ? "its previous version is unchanged" : "nothing was written") + ". Free some space and run the command again" +
                                      (File.Exists(Path.Combine(dir, "checkpoint.safetensors")) ? " (training: with ⟨resume⟩, from the checkpoint that is there)" : ""), io);
            throw;
        }
    }

    /// <summary>ENOSPC (errno 28; Linux's "No space left on device") or EDQUOT (a quota: errno 122).</summary>
    public static bool IsDiskFull(IOException e) => e.HResult is Enospc or 122 || e.Message.Contains("No space left", StringComparison.Ordinal) || e.Message.Contains("quota", StringComparison.OrdinalIgnoreCase);

    public static void WriteText(string path, string text) => Write(path, s => s.Write(Encoding.UTF8.GetBytes(text)));
}
