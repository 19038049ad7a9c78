using System.IO.Compression;
using System.Security.Cryptography;

namespace QGenEngine.Models.Data;

/// <summary>A data file that is missing, damaged or inconsistent: the message names the file and what was expected.</summary>
public sealed class DataException(string message) : Exception(message);

/// <summary>Reader of the IDX format (MNIST's): big-endian magic 0x00000803 (images) or 0x00000801 (labels), then dimensions, then bytes. Gzipped or not.</summary>
public static class Idx
{
    /// <summary>Reads a whole file, decompressing .gz, and returns the raw (uncompressed) bytes.</summary>
    public static byte[] ReadAll(string path)
    {
        if (!File.Exists(path)) throw new DataException($"{path}: file not found");
        try
        {
            using var fs = File.OpenRead(path);
            if (!path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
            {
                if (fs.Length > MaxBytes) throw new DataException($"{path}: {fs.Length:N0} bytes; an IDX file here is at most {MaxBytes:N0}");
                var all = new byte[fs.Length];
                fs.ReadExactly(all);
                return all;
            }
            // Gzipped: inflated no further than its header announces (a decompression bomb is refused, not inflated).
            using var gz = new GZipStream(fs, CompressionMode.Decompress);
            var head = new byte[16];
            int got = ReadUpTo(gz, head);
            long size = got < 8 ? got : AnnouncedSize(head, got);
            if (size > MaxBytes) throw new DataException($"{path}: its header announces {size:N0} bytes; an IDX file here is at most {MaxBytes:N0}");
            // Grown as the data comes (never sized by the header alone): a header announcing 1 GB over 100 bytes of data allocates little.
            var buffer = new MemoryStream();
            buffer.Write(head, 0, got);
            var chunk = new byte[1 << 16];
            // Up to the announced size and a little slack (trailing bytes are the readers' to judge); a stream that goes on past
            // that is a bomb or not this file's data: refused without inflating the rest.
            long limit = Math.Min(size, MaxBytes) + Slack;
            while (buffer.Length < limit)
            {
                int n = gz.Read(chunk, 0, (int)Math.Min(chunk.Length, limit - buffer.Length));
                if (n == 0) break;
                buffer.Write(chunk, 0, n);
            }
            if (buffer.Length >= limit && gz.Read(new byte[1]) > 0)
                throw new DataException(size < MaxBytes ? $"{path}: inflates past the {size:N0} bytes its header announces" : $"{path}: inflates past {MaxBytes:N0} bytes");
            return buffer.ToArray();
        }
        catch (InvalidDataException e) { throw new DataException($"{path}: not a valid gzip file ({e.Message})"); }
        catch (IOException e) { throw new DataException($"{path}: cannot read ({e.Message})"); }
    }

    public const long MaxBytes = 1L << 30, Slack = 1L << 20;

    private static int ReadUpTo(Stream s, Span<byte> into)
    {
        int total = 0;
        while (total < into.Length) { int n = s.Read(into[total..]); if (n == 0) break; total += n; }
        return total;
    }

    /// <summary>The whole file's size as its header announces it (images: 16 + n·rows·cols; labels: 8 + n);
    /// an unknown header announces nothing: MaxBytes (the reader's own checks then name what is wrong).</summary>
    private static long AnnouncedSize(byte[] head, int got)
    {
        int magic = BigEndian(head, 0);
        double size = magic == 0x00000801 ? 8.0 + (uint)BigEndian(head, 4)
                    : magic == 0x00000803 && got >= 16 ? 16.0 + (double)(uint)BigEndian(head, 4) * (uint)BigEndian(head, 8) * (uint)BigEndian(head, 12)
                    : MaxBytes;
        return size >= long.MaxValue ? long.MaxValue : (long)size;
    }

    private static int BigEndian(byte[] b, int at) => (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];

    /// <summary>Images as bytes (n × rows × cols) with their shape.</summary>
    public static (byte[] Pixels, int Count, int Rows, int Cols) Images(string path, byte[] raw)
    {
        if (raw.Length < 16) throw new DataException($"{path}: {raw.Length} bytes is too short for an IDX image file (16-byte header)");
        int magic = BigEndian(raw, 0);
        if (magic != 0x00000803) throw new DataException($"{path}: magic number 0x{magic:X8}, expected 0x00000803 (IDX images)");
        int n = BigEndian(raw, 4), rows = BigEndian(raw, 8), cols = BigEndian(raw, 12);
        if (n < 0 || rows <= 0 || cols <= 0) throw new DataException($"{path}: bad dimensions {n} × {rows} × {cols}");
        long need = 16L + (long)n * rows * cols;
        if (raw.Length < need) throw new DataException($"{path}: truncated: {raw.Length} bytes, the header announces {n} images of {rows}×{cols} ({need} bytes)");
        return (raw.AsSpan(16, (int)(need - 16)).ToArray(), n, rows, cols);
    }

    public static byte[] Labels(string path, byte[] raw)
    {
        if (raw.Length < 8) throw new DataException($"{path}: {raw.Length} bytes is too short for an IDX label file (8-byte header)");
        int magic = BigEndian(raw, 0);
        if (magic != 0x00000801) throw new DataException($"{path}: magic number 0x{magic:X8}, expected 0x00000801 (IDX labels)");
        int n = BigEndian(raw, 4);
        if (n < 0 || raw.Length < 8L + n) throw new DataException($"{path}: truncated: {raw.Length} bytes, the header announces {n} labels");
        return raw.AsSpan(8, n).ToArray();
    }

    public static string Sha256(byte[] raw) => Convert.ToHexStringLower(SHA256.HashData(raw));
}
