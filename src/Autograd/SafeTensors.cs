using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
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
        try { header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)hlen))!.AsObject(); _ = header.Count; }   // Count: duplicate names surface here
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or NullReferenceException) { throw new CheckpointException($"{path}: the header is not valid JSON ({e.Message})"); }
        var tensors = new Dictionary<string, Entry>();
        var meta = new Dictionary<string, string>();
        long dataStart = 8 + (long)hlen;
        foreach (var (name, node) in header)
        {
            try
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
                if (shape.Length > 8 || shape.Any(d => d < 0))
                    throw new CheckpointException($"{path}: tensor '{name}' has shape {Shape.Format(shape)}; expected at most 8 dimensions, none negative");
                var off = o["data_offsets"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                long n = shape.Aggregate(1L, (a, d) => a * d > bytes.Length ? bytes.Length + 1L : a * d);   // capped: never more than the file holds
                if (off.Length != 2 || off[0] < 0 || off[1] < off[0] || off[1] - off[0] != n * 4 || dataStart + off[1] > bytes.Length)
                    throw new CheckpointException($"{path}: tensor '{name}' of shape {Shape.Format(shape)} has data offsets [{string.Join(", ", off)}] that do not fit the file");
                var data = new float[n];
                Buffer.BlockCopy(bytes, (int)(dataStart + off[0]), data, 0, (int)(n * 4));
                tensors[name] = new Entry(shape, data);
            }
            catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException or OverflowException or ArgumentException or KeyNotFoundException)
            {
                throw new CheckpointException($"{path}: the header's entry '{name}' is not a safetensors tensor {{dtype, shape, data_offsets}} ({e.GetType().Name}: {e.Message})");
            }
        }
        return (tensors, meta);
    }
}
