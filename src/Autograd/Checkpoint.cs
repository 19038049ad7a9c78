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

/// <summary>A checkpoint file that is missing, damaged or does not match the model.</summary>
public sealed class CheckpointException(string message) : Exception(message);

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
                                      (File.Exists(Path.Combine(dir, "checkpoint.safetensors")) ? " (training: with --resume, from the checkpoint that is there)" : ""), io);
            throw;
        }
    }

    /// <summary>ENOSPC (errno 28; Linux's "No space left on device") or EDQUOT (a quota: errno 122).</summary>
    public static bool IsDiskFull(IOException e) => e.HResult is Enospc or 122 || e.Message.Contains("No space left", StringComparison.Ordinal) || e.Message.Contains("quota", StringComparison.OrdinalIgnoreCase);

    public static void WriteText(string path, string text) => Write(path, s => s.Write(Encoding.UTF8.GetBytes(text)));
}

/// <summary>
/// A training checkpoint. One rule (README, "Loading in PyTorch"): every tensor whose name does not start with
/// <see cref="TrainingPrefix"/> ("train.") is the model's state_dict under PyTorch's names, so
/// <c>load_state_dict(strict=True)</c> takes what is left once those are dropped. PyTorch can never have a state_dict
/// key starting with "train." (<c>nn.Module.train</c> is a method, so no submodule or parameter can be named so).
/// Under the prefix: each optimiser's state as "train.optimizer.&lt;part&gt;.&lt;state&gt;.&lt;param&gt;" and the modules'
/// training-only state as "train.state.&lt;name&gt;" (<see cref="Module.NamedTrainingState"/>). Metadata: each
/// optimiser's settings and step count ("train.optimizer.&lt;part&gt;.*"), every random stream's seed and position
/// ("rng.&lt;stream&gt;.*"), and whatever the caller adds (the trainer's place in the run, "train.epoch", ...).
/// Formats v2 ("optimizer.&lt;part&gt;." and "state.") and v1 (one optimiser under "optimizer.", one stream under
/// "rng.") still load.
/// </summary>
public static class Checkpoint
{
    public const string Format = "qgen-engine checkpoint v3", FormatV2 = "qgen-engine checkpoint v2", FormatV1 = "qgen-engine checkpoint v1";

    /// <summary>What every tensor outside the state_dict is named under (optimiser and training state).</summary>
    public const string TrainingPrefix = "train.";

    /// <summary>True for a tensor of the model's state_dict, false for training state (the README's rule).</summary>
    public static bool IsStateDict(string tensorName) => !tensorName.StartsWith(TrainingPrefix, StringComparison.Ordinal);

    private const string OptimizerPrefix = TrainingPrefix + "optimizer.", StatePrefix = TrainingPrefix + "state.";

    private static string Str(long v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
    private static ulong U64(string s) => ulong.Parse(s, System.Globalization.CultureInfo.InvariantCulture);

    public static void Save(string path, Module model, IReadOnlyList<(string Part, Optimizer Optimizer)>? optimizers = null,
                            IReadOnlyDictionary<string, string>? extra = null)
    {
        var tensors = model.StateDict().ToList();
        var meta = new Dictionary<string, string> { ["format"] = Format };
        foreach (var (part, opt) in optimizers ?? [])
        {
            tensors.AddRange(opt.State().Select(s => ($"{OptimizerPrefix}{part}.{s.Name}", s.State)));
            foreach (var (k, v) in opt.Describe()) meta[$"{OptimizerPrefix}{part}.{k}"] = v;
            meta[$"{OptimizerPrefix}{part}.step"] = Str(opt.StepCount);
        }
        tensors.AddRange(model.NamedTrainingState().Select(s => (StatePrefix + s.Name, s.State)));
        if (model.StateDict().Select(t => t.Name).FirstOrDefault(n => !IsStateDict(n)) is { } clash)
            throw new CheckpointException($"{path}: the model's state_dict has a tensor '{clash}' under the training prefix '{TrainingPrefix}'; rename the module");
        foreach (var (name, g) in model.NamedStreams())
        {
            meta[$"rng.{name}.seed"] = g.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
            meta[$"rng.{name}.position"] = g.Position.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (extra is not null) foreach (var (k, v) in extra) meta[k] = v;
        SafeTensors.Write(path, tensors, meta);
    }

    /// <summary>
    /// Restores into an existing model (and its optimisers and random streams); every name and shape must
    /// match (and the metadata's "model" equal <paramref name="expectModel"/> if given); nothing is changed unless all do. Returns the metadata.
    /// </summary>
    public static Dictionary<string, string> Load(string path, Module model, IReadOnlyList<(string Part, Optimizer Optimizer)>? optimizers = null,
                                                  string? expectModel = null)
    {
        var (tensors, meta) = SafeTensors.Read(path);
        if (expectModel is not null && meta.TryGetValue("model", out var held) && held != expectModel)
            throw new CheckpointException($"{path}: holds a '{held}' model, not '{expectModel}'");
        meta.TryGetValue("format", out var f);
        bool v1 = f == FormatV1, v2 = f == FormatV2;
        optimizers ??= [];
        if (v1 && optimizers.Count > 1) throw new CheckpointException($"{path}: a v1 checkpoint holds one optimiser; this model has {optimizers.Count}");
        string Prefix(string part) => v1 ? "optimizer." : v2 ? $"optimizer.{part}." : $"{OptimizerPrefix}{part}.";
        string statePrefix = v1 || v2 ? "state." : StatePrefix;
        var targets = model.StateDict().ToList();
        foreach (var (part, opt) in optimizers) targets.AddRange(opt.State().Select(s => (Prefix(part) + s.Name, s.State)));
        // Training state goes with the optimisers: needed to resume, not to use the weights. A checkpoint from before a
        // statistic existed lacks it: the statistic starts afresh.
        if (optimizers.Count > 0)
            targets.AddRange(model.NamedTrainingState().Select(s => (statePrefix + s.Name, s.State)).Where(s => tensors.ContainsKey(s.Item1)));
        foreach (var (name, t) in targets)
        {
            if (!tensors.TryGetValue(name, out var e)) throw new CheckpointException($"{path}: tensor '{name}' is missing");
            if (!Shape.Equal(e.Shape, t.Shape)) throw new CheckpointException($"{path}: tensor '{name}' has shape {Shape.Format(e.Shape)}, the model expects {Shape.Format(t.Shape)}");
        }
        foreach (var (name, t) in targets) t.CopyFrom(tensors[name].Data);
        foreach (var (part, opt) in optimizers)
            if (meta.TryGetValue(Prefix(part) + "step", out var step)) opt.StepCount = int.Parse(step, System.Globalization.CultureInfo.InvariantCulture);
        var streams = model.NamedStreams().ToList();
        foreach (var (name, g) in streams)
        {
            // v1 saved the VAE's one noise stream as rng.seed / rng.position.
            string key = v1 && streams.Count == 1 ? "rng" : $"rng.{name}";
            if (meta.TryGetValue(key + ".seed", out var seed) && meta.TryGetValue(key + ".position", out var pos)) g.Restore(U64(seed), U64(pos));
        }
        return meta;
    }
}
