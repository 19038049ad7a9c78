using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using QGenEngine.Autograd.Nn;
using QGenEngine.Autograd.Optim;
using QGenEngine.Tensors;

namespace QGenEngine.Autograd;

/// <summary>
/// The safetensors format (what Python's <c>safetensors</c> reads): an 8-byte little-endian header
/// length, a JSON header { name: {dtype, shape, data_offsets}, "__metadata__": {string: string} }
/// and the raw little-endian data. Files are written to a temporary file and renamed.
/// </summary>
public static class SafeTensors
{
    public sealed record Entry(int[] Shape, float[] Data);

    public static void Write(string path, IEnumerable<(string Name, Tensor T)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var md = new JsonObject();
            foreach (var (k, v) in metadata) md[k] = v;
            header["__metadata__"] = md;
        }
        long offset = 0;
        var names = new HashSet<string>();
        foreach (var (name, t) in list)
        {
            if (!names.Add(name)) throw new ArgumentException($"duplicate tensor name '{name}' in checkpoint");
            long bytes = t.Numel * 4;
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int pad = (8 - json.Length % 8) % 8;                 // the format pads the header with spaces to 8 bytes
        var headerBytes = new byte[json.Length + pad];
        json.CopyTo(headerBytes, 0);
        for (int i = json.Length; i < headerBytes.Length; i++) headerBytes[i] = (byte)' ';

        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian; big-endian hosts are not supported");
        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)headerBytes.Length);
            stream.Write(len);
            stream.Write(headerBytes);
            foreach (var (_, t) in list)
            {
                var data = t.ToArray();
                stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
            }
        });
    }

    public static (Dictionary<string, Entry> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CheckpointException($"{path}: cannot read ({e.Message})"); }
        if (bytes.Length < 8) throw new CheckpointException($"{path}: {bytes.Length} bytes is too short for a safetensors file (expected at least 8)");
        ulong hlen = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (hlen > (ulong)bytes.Length - 8) throw new CheckpointException($"{path}: header length {hlen} exceeds the file size {bytes.Length}");
        JsonObject header;
        try { header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)hlen))!.AsObject(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new CheckpointException($"{path}: the header is not valid JSON ({e.Message})"); }
        var tensors = new Dictionary<string, Entry>();
        var meta = new Dictionary<string, string>();
        long dataStart = 8 + (long)hlen;
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node!.AsObject()) meta[k] = v!.GetValue<string>();
                continue;
            }
            var o = node!.AsObject();
            string dtype = o["dtype"]!.GetValue<string>();
            if (dtype != "F32") throw new CheckpointException($"{path}: tensor '{name}' has dtype {dtype}; only F32 is supported");
            var shape = o["shape"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray();
            var off = o["data_offsets"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
            long n = Shape.Numel(shape);
            if (off.Length != 2 || off[1] - off[0] != n * 4 || dataStart + off[1] > bytes.Length)
                throw new CheckpointException($"{path}: tensor '{name}' of shape {Shape.Format(shape)} has data offsets [{string.Join(", ", off)}] that do not fit the file");
            var data = new float[n];
            Buffer.BlockCopy(bytes, (int)(dataStart + off[0]), data, 0, (int)(n * 4));
            tensors[name] = new Entry(shape, data);
        }
        return (tensors, meta);
    }
}

/// <summary>A checkpoint file that is missing, damaged or does not match the model.</summary>
public sealed class CheckpointException(string message) : Exception(message);

public static class AtomicFile
{
    /// <summary>Writes through a temporary file in the same folder, flushed to disk, then renamed over the target.</summary>
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
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    public static void WriteText(string path, string text) => Write(path, s => s.Write(Encoding.UTF8.GetBytes(text)));
}

/// <summary>
/// A training checkpoint: the module's parameters and buffers under their own names (loadable into
/// PyTorch with the same names), the optimiser's state as "optimizer.&lt;state&gt;.&lt;param&gt;", and
/// metadata (optimiser settings, step, generator position). A config.json is written beside it.
/// </summary>
public static class Checkpoint
{
    public static void Save(string path, Module model, Optimizer? optimizer = null, Generator? rng = null,
                            JsonObject? config = null, IReadOnlyDictionary<string, string>? extra = null)
    {
        var tensors = model.StateDict().ToList();
        var meta = new Dictionary<string, string> { ["format"] = "qgen-engine checkpoint v1" };
        if (optimizer is not null)
        {
            tensors.AddRange(optimizer.State().Select(s => ("optimizer." + s.Name, s.State)));
            foreach (var (k, v) in optimizer.Describe()) meta["optimizer." + k] = v;
            meta["optimizer.step"] = optimizer.StepCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (rng is not null)
        {
            meta["rng.seed"] = rng.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
            meta["rng.position"] = rng.Position.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (extra is not null) foreach (var (k, v) in extra) meta[k] = v;
        SafeTensors.Write(path, tensors, meta);
        if (config is not null)
            AtomicFile.WriteText(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "config.json"),
                                 config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Restores into an existing model (and optimiser, generator); every name and shape must match. Returns the metadata.</summary>
    public static Dictionary<string, string> Load(string path, Module model, Optimizer? optimizer = null, Generator? rng = null)
    {
        var (tensors, meta) = SafeTensors.Read(path);
        var targets = model.StateDict().ToList();
        if (optimizer is not null) targets.AddRange(optimizer.State().Select(s => ("optimizer." + s.Name, s.State)));
        foreach (var (name, t) in targets)
        {
            if (!tensors.TryGetValue(name, out var e)) throw new CheckpointException($"{path}: tensor '{name}' is missing");
            if (!Shape.Equal(e.Shape, t.Shape)) throw new CheckpointException($"{path}: tensor '{name}' has shape {Shape.Format(e.Shape)}, the model expects {Shape.Format(t.Shape)}");
        }
        foreach (var (name, t) in targets) t.CopyFrom(tensors[name].Data);
        if (optimizer is not null && meta.TryGetValue("optimizer.step", out var step)) optimizer.StepCount = int.Parse(step, System.Globalization.CultureInfo.InvariantCulture);
        if (rng is not null && meta.TryGetValue("rng.seed", out var seed) && meta.TryGetValue("rng.position", out var pos))
            rng.Restore(ulong.Parse(seed, System.Globalization.CultureInfo.InvariantCulture), ulong.Parse(pos, System.Globalization.CultureInfo.InvariantCulture));
        return meta;
    }
}
