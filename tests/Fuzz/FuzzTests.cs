using QGenEngine.Studies;
using System.Diagnostics;
using System.IO.Compression;
using QGenEngine.Tests.Support;
using Encoding = System.Text.Encoding;
using QGenEngine.Autograd;
using QGenEngine.Autograd.Nn;
using QGenEngine.Cli;
using QGenEngine.Kernels.Reference;
using QGenEngine.Models;
using QGenEngine.Models.Data;
using QGenEngine.Models.Training;
using QGenEngine.Quantum;
using QGenEngine.Tensors;

namespace QGenEngine.Tests.Fuzz;

/// <summary>
/// Every file the program reads, fed seeded mutations of valid files (issue #25). Each input must end in success or in
/// one of our user errors (what the CLI prints as one line with exit code 2: <see cref="App.IsUserError"/>) whose
/// message is one line - never another exception, never a hang (a deadline per input), never an allocation sized by a
/// number read from the file (a cap on the bytes an input may allocate). Inputs that once found a bug are kept under
/// fixtures/fuzz/READER/ and run first. QGEN_FUZZ_N=N runs N inputs per reader (default 150; the CI's), QGEN_FUZZ_SEED=S
/// other ones (the default inputs are the same in every run); a failing input is written to the test's output folder to be
/// added to that corpus.
/// </summary>
[TestFixture]
public class FuzzTests
{
    private static int Inputs => int.TryParse(Environment.GetEnvironmentVariable("QGEN_FUZZ_N"), out int n) && n > 0 ? n : 150;
    private const int DeadlineMs = 5000;

    /// <summary>
    /// The mutations' seed: a hash of the reader's name that is the same in every process (HashCode.Combine is not: it
    /// is randomised per process, so each CI run fuzzed other inputs and a red run could not be replayed), plus
    /// QGEN_FUZZ_SEED to explore other inputs on purpose.
    /// </summary>
    private static int Seed(string name)
    {
        int h = int.TryParse(Environment.GetEnvironmentVariable("QGEN_FUZZ_SEED"), out int s) ? s : 0;
        foreach (char c in name) h = unchecked(h * 31 + c);
        return h & 0x7FFFFFFF;
    }
    private const long AllocationCap = 512L << 20;   // any input may allocate this much (the readers' own work); more is sized by the file

    private string _dir = "";
    [OneTimeSetUp] public void MakeDir() { _dir = Path.Combine(Path.GetTempPath(), "qgen-fuzz-" + Guid.NewGuid().ToString("N")); Directory.CreateDirectory(_dir); }
    [OneTimeTearDown] public void RemoveDir() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    /// <summary>A reader under test: its valid seed files (name → bytes), whether they are text, and what reads one file.</summary>
    /// <param name="NamesFile">whether its errors name the file (false: a reader of text, not of a file - the QASM reader)</param>
    public sealed record Target(string Name, Func<string, Dictionary<string, byte[]>> Seeds, bool Text, Action<string> Read, bool NamesFile = true)
    {
        public override string ToString() => Name;
    }

    private static Module SmallModel() => new Sequential(new Linear(ReferenceDevice.Instance, new Generator(1), 4, 3), new Linear(ReferenceDevice.Instance, new Generator(2), 3, 2));

    private static byte[] IdxImages(int n)
    {
        var b = new byte[16 + n * 784];
        b[3] = 0x03; b[2] = 0x08; b[7] = (byte)n; b[11] = 28; b[15] = 28;
        new Random(3).NextBytes(b.AsSpan(16));
        return b;
    }

    private static byte[] Gzip(byte[] raw)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(raw);
        return ms.ToArray();
    }

    private static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);

    public static IEnumerable<Target> Targets()
    {
        yield return new Target("safetensors", dir =>
        {
            var p = Path.Combine(dir, "seed.safetensors");
            Checkpoint.Save(p, SmallModel(), extra: new Dictionary<string, string> { ["model"] = "small" });
            return new() { ["seed.safetensors"] = File.ReadAllBytes(p), ["python.safetensors"] = File.ReadAllBytes(Fixture("python_written.safetensors")) };
        }, false, path => { SafeTensors.Read(path); Checkpoint.Load(path, SmallModel()); });

        yield return new Target("npy", dir =>
        {
            var p = Path.Combine(dir, "seed.npy");
            Npy.Write(p, Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), 3, 4);
            return new() { ["seed.npy"] = File.ReadAllBytes(p), ["fixture.npy"] = File.ReadAllBytes(Fixture("npy", "latents_3x100_f4.npy")) };
        }, false, path => Npy.Read(path));

        yield return new Target("idx", _ => new() { ["images.idx"] = IdxImages(3), ["labels.idx"] = [0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3] },
            false, path => { var raw = Idx.ReadAll(path); try { Idx.Images(path, raw); } catch (DataException) { Idx.Labels(path, raw); } });

        yield return new Target("idx.gz", _ => new() { ["images.idx.gz"] = Gzip(IdxImages(3)), ["labels.idx.gz"] = Gzip([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]) },
            false, path => { var raw = Idx.ReadAll(path); try { Idx.Images(path, raw); } catch (DataException) { Idx.Labels(path, raw); } });

        yield return new Target("png", dir =>
        {
            var p = Path.Combine(dir, "seed.png");
            Imaging.SaveImage(p, Enumerable.Range(0, 784).Select(i => (i % 29) / 28f).ToArray());
            return new() { ["seed.png"] = File.ReadAllBytes(p) };
        }, false, path => ImageSets.ReadPng(path));

        yield return new Target("study.yaml", _ => new()
        {
            ["tiny.yaml"] = Encoding.UTF8.GetBytes("name: tiny\nmodels: [vae, {model: prior, options: {vqvae: \"@vqvae\"}}, vqvae]\noptions: {epochs: 1, limit: 256}\nseeds: [1, 2]\nvary: {latent: [16, 32]}\n" +
                                                   "comparisons: [[vae, vqvae]]\nprofiles:\n  quick:\n    options: {epochs: 1}\n    seeds: [1]\n"),
            ["compare.yaml"] = File.ReadAllBytes(Path.Combine(TorchScript.Repo(), "studies", "compare.yaml")),
        }, true, path => QGenEngine.Cli.Commands.StudyCommand.Load(path, null, Path.Combine(Path.GetDirectoryName(path)!, "study")));

        yield return new Target("config.json", _ =>
        {
            var (code, o, e) = CliRunner.Run("train", "qvae", "--epochs", "2", "--limit", "64", "--dry-run");
            Assert.That(code, Is.Zero, e);
            var (c2, o2, e2) = CliRunner.Run("train", "qgan", "--noise", "readout=0.1", "--grad", "shift", "--dry-run");
            Assert.That(c2, Is.Zero, e2);
            return new() { ["qvae.json"] = Encoding.UTF8.GetBytes(o), ["qgan.json"] = Encoding.UTF8.GetBytes(o2) };
        }, true, path =>
        {
            // A run directory's config.json, read and its model built (as `sample`/`eval` do before loading weights).
            string run = Path.Combine(Path.GetDirectoryName(path)!, "run-" + Path.GetFileNameWithoutExtension(path));
            Directory.CreateDirectory(run);
            File.Copy(path, Path.Combine(run, Trainer.ConfigFile), overwrite: true);
            var opts = ModelCatalog.ReadOptions(run);
            ModelCatalog.Build(run, opts, ReferenceDevice.Instance);
        });

        yield return new Target("counts.json", _ =>
        {
            var counts = Enumerable.Range(0, 2 * 16).Select(i => i * 7 % 11).ToArray();
            return new() { ["counts.json"] = Encoding.UTF8.GetBytes(MeasuredCounts.Write(counts, 2, 4, QasmDialect.Qiskit).ToJsonString()) };
        }, true, path => MeasuredCounts.ReadProbabilities(path, 2, 4, QasmDialect.Qiskit));

        yield return new Target("noise-model.json", _ => new()
        {
            ["device.json"] = File.ReadAllBytes(Fixture("device-noise", "device.json")),
            ["ibm.json"] = File.ReadAllBytes(Fixture("device-noise", "ibm_properties.json")),
        }, true, path => NoiseModel.Of(DeviceNoise.Load(path)));

        yield return new Target("qasm", _ => new()
        {
            ["qiskit.qasm"] = Encoding.UTF8.GetBytes(Qasm.Write(Circuit.Template(4, 2, Entangler.Circular), [0.1f, 0.2f, 0.3f, 0.4f], new float[16], QasmDialect.Qiskit, "seed")),
            ["braket.qasm"] = Encoding.UTF8.GetBytes(Qasm.Write(Circuit.Template(3, 1, Entangler.All), [1f, 2f, 3f], new float[6], QasmDialect.Braket)),
        }, true, path => Qasm.Parse(File.ReadAllText(path)), NamesFile: false);

        yield return new Target("metrics.jsonl", _ => new()
        {
            ["metrics.jsonl"] = Encoding.UTF8.GetBytes("{\"epoch\": 1, \"loss\": 0.5, \"seconds\": 3.2, \"samples_per_s\": 100}\n{\"epoch\": 2, \"loss\": 0.4, \"seconds\": 3.1, \"samples_per_s\": 101, \"fid\": 50.5}\n"),
        }, true, path =>
        {
            string run = Path.Combine(Path.GetDirectoryName(path)!, "metrics-run");
            Directory.CreateDirectory(run);
            File.Copy(path, Path.Combine(run, Trainer.MetricsFile), overwrite: true);
            foreach (var e in RunLogs.ReadMetrics(run)) _ = e["epoch"];
        });
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }

    private static void Chunk(List<byte> png, string type, byte[] data)
    {
        png.AddRange(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(data.Length)));
        var body = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.AddRange(body);
        png.AddRange(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(Crc32(body))));
    }

    [Test]
    public void A_png_declaring_30000_by_30000_pixels_is_refused_before_it_is_decoded()
    {
        // A valid PNG header for a 30,000 × 30,000 grey image and a few KB of zlib'd zero rows: 900 MB once decoded.
        var png = new List<byte> { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, 30_000);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), 30_000);
        ihdr[8] = 8; ihdr[9] = 0;   // 8-bit greyscale
        Chunk(png, "IHDR", ihdr);
        using (var ms = new MemoryStream())
        {
            using (var z = new ZLibStream(ms, CompressionLevel.SmallestSize, leaveOpen: true)) z.Write(new byte[200 * 30_001]);
            Chunk(png, "IDAT", ms.ToArray());
        }
        Chunk(png, "IEND", []);
        string path = Path.Combine(_dir, "bomb.png");
        File.WriteAllBytes(path, [.. png]);
        Assert.That(new FileInfo(path).Length, Is.LessThan(20_000), "a few KB on disk");
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<FormatException>(() => Imaging.ReadPng(path))!;
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(16 << 20), "refused before decoding");
        Assert.That(e.Message, Does.Contain("bomb.png: 30000×30000 pixels"));
        var (code, _, err) = CliRunner.Run("metrics", "ssim", path, path);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("30000×30000 pixels"));
    }

    [Test]
    public void A_gzip_idx_that_inflates_past_its_header_is_refused_without_inflating_it()
    {
        // The header announces 3 images (2,368 bytes); the stream inflates to 200 MB.
        var header = IdxImages(3).AsSpan(0, 16).ToArray();
        string path = Path.Combine(_dir, "bomb-images.idx.gz");
        using (var fs = File.Create(path))
        using (var gz = new GZipStream(fs, CompressionLevel.SmallestSize))
        {
            gz.Write(header);
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 200; i++) gz.Write(zeros);
        }
        Assert.That(new FileInfo(path).Length, Is.LessThan(1 << 20));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataException>(() => Idx.ReadAll(path))!;
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(8 << 20), "inflated no further than the header announced and 1 MiB of slack");
        Assert.That(e.Message, Does.Contain("inflates past the 2,368 bytes its header announces"));
        // A header announcing 4 billion labels over a few bytes: refused from the header.
        string big = Path.Combine(_dir, "bomb-labels.idx.gz");
        File.WriteAllBytes(big, Gzip([0, 0, 8, 1, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3]));
        Assert.That(Assert.Throws<DataException>(() => Idx.ReadAll(big))!.Message, Does.Contain("announces 4,294,967,303 bytes"));
    }

    [Test]
    public void A_spec_nested_thousands_deep_is_refused_at_once()
    {
        // YamlDotNet recurses per level: 20,000 levels took 7 s to parse, and deeper ones overflow the stack (which no catch survives).
        string path = Path.Combine(_dir, "deep.yaml");
        File.WriteAllText(path, "name: deep\nmodel: vae\noptions: {epochs: 1, x: " + new string('[', 20_000) + new string(']', 20_000) + "}\n");
        var sw = Stopwatch.StartNew();
        var (code, _, err) = CliRunner.Run("study", "plan", path);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("deep.yaml:3: brackets nested more than 64 deep"));
        Assert.That(sw.Elapsed.TotalSeconds, Is.LessThan(2));
    }

    [TestCaseSource(nameof(Targets))]
    public void Every_mutated_input_ends_in_a_one_line_user_error_or_success(Target t)
    {
        string dir = Path.Combine(_dir, t.Name);
        Directory.CreateDirectory(dir);
        var seeds = t.Seeds(dir);
        var inputs = new List<(string Label, byte[] Bytes)>();
        // The corpus first: inputs that once found a bug, then the seeds as they are, then the mutations.
        var corpus = Fixture("fuzz", t.Name);
        if (Directory.Exists(corpus))
            foreach (var f in Directory.GetFiles(corpus).OrderBy(f => f, StringComparer.Ordinal)) inputs.Add(("corpus " + Path.GetFileName(f), File.ReadAllBytes(f)));
        foreach (var (name, bytes) in seeds) inputs.Add(("seed " + name, bytes));
        var rng = new Random(Seed(t.Name));
        var seedList = seeds.ToList();
        for (int i = 0; i < Inputs; i++)
        {
            var (name, bytes) = seedList[rng.Next(seedList.Count)];
            inputs.Add(($"mutation {i} of {name}", Mutator.Mutate(bytes, rng, t.Text)));
        }

        var failures = new List<string>();
        int ok = 0, refused = 0;
        string ext = seedList[0].Key.EndsWith(".gz", StringComparison.Ordinal) ? ".idx.gz" : Path.GetExtension(seedList[0].Key);
        for (int i = 0; i < inputs.Count; i++)
        {
            var (label, bytes) = inputs[i];
            string path = Path.Combine(dir, $"input{ext}");
            File.WriteAllBytes(path, bytes);
            Exception? error = null;
            long allocated = 0;
            var task = Task.Factory.StartNew(() =>
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                try { t.Read(path); }
                catch (Exception e) { error = e; }
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            string? why = null;
            if (!task.Wait(DeadlineMs)) why = $"no answer within {DeadlineMs} ms";
            else if (error is not null && !App.IsUserError(error)) why = $"{error.GetType().Name}: {error.Message.Split('\n')[0]}\n{error.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}";
            else if (error is not null && t.NamesFile && !App.UserMessage(error).Contains(dir, StringComparison.Ordinal))
                why = $"the message does not name the file: {App.UserMessage(error)}";
            else if (allocated > AllocationCap + 64L * bytes.Length) why = $"allocated {allocated >> 20} MiB for a {bytes.Length}-byte file";
            if (why is null) { if (error is null) ok++; else refused++; continue; }
            string keep = Path.Combine(TestContext.CurrentContext.WorkDirectory, "fuzz-failures", t.Name, $"{failures.Count:D3}{ext}");
            Directory.CreateDirectory(Path.GetDirectoryName(keep)!);
            File.WriteAllBytes(keep, bytes);
            failures.Add($"{label} ({keep}): {why}");
            if (!task.IsCompleted) break;   // a hung reader: stop here
        }
        TestContext.Out.WriteLine($"{t.Name}: {inputs.Count} inputs, {ok} read, {refused} refused with a one-line error, {failures.Count} failures");
        Assert.That(failures, Is.Empty, $"{t.Name}: {failures.Count} of {inputs.Count} inputs failed:\n" + string.Join("\n", failures.Take(10)));
    }
}
