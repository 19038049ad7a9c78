using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using QGenEngine.Models;
using QGenEngine.Models.Data;
using QGenEngine.Models.Metrics;
using QGenEngine.Quantum;

namespace QGenEngine.Cli.Commands;

/// <summary>
/// `qgen-engine qasm` (issue #26): OpenQASM 3 programs of our circuits, to run on a device. One circuit from the options
/// of `circuit` (to standard output or --out FILE), or a trained run's generating circuit once per latent row
/// (--run RUN --latents Z.npy --out DIR: DIR/0000.qasm ... and DIR/manifest.json), or its image-fed circuit once per image
/// (--run QVAE --images SET). The counts a device returns come back through `sample --counts` and `eval --counts`.
/// </summary>
public static class QasmCommand
{
    public const string ManifestFile = "manifest.json";

    public static Command Build(TextWriter stdout)
    {
        var qubits = new Option<int>("--qubits") { Description = "number of qubits n", DefaultValueFactory = _ => 8 };
        var layers = new Option<int>("--layers") { Description = "variational layers L", DefaultValueFactory = _ => 3 };
        var entangler = new Option<string>("--entangler") { Description = "linear | circular | all", DefaultValueFactory = _ => "linear" };
        var inputs = new Option<string?>("--inputs") { Description = "one circuit: its n input angles, e.g. --inputs=0.1,0.5,..." };
        var weights = new Option<string?>("--weights") { Description = "one circuit: JSON file with an [L][n][2] array of (θ, φ); zeros if omitted" };
        var run = new Option<string?>("--run") { Description = "a trained run whose circuit generates (qgan): one program per latent row" };
        var latents = new Option<string?>("--latents") { Description = "with --run: a .npy of float32 latents (N, n), the circuit's input angles (qgan)" };
        var images = new Option<string?>("--images") { Description = "with --run: an image set (e.g. mnist:test:16) whose circuit inputs the model computes, one program per image (qvae's attention)" };
        var dialect = new Option<string>("--dialect") { Description = "qiskit (include stdgates.inc, cx; qiskit.qasm3.loads) | braket (no include, cnot)", DefaultValueFactory = _ => "qiskit" };
        var outPath = new Option<string?>("--out") { Description = "one circuit: a file (default standard output); with --run: a folder (required)" };
        var device = DeviceOption.Create();
        var cmd = new Command("qasm", "Export circuits as OpenQASM 3 for a quantum device: one circuit, or a trained run's generating circuit per latent row")
        {
            qubits, layers, entangler, inputs, weights, run, latents, images, dialect, outPath, device,
        };
        cmd.SetAction(p =>
        {
            QasmDialect d;
            try { d = Qasm.ParseDialect(p.GetValue(dialect)!); }
            catch (ArgumentException e) { throw new CliException($"--dialect: {e.Message}"); }
            if (p.GetValue(run) is { } dir) return FromRun(stdout, dir, p.GetValue(latents), p.GetValue(images), p.GetValue(outPath), d, DeviceOption.Resolve(p.GetValue(device)));
            if (p.GetValue(latents) is not null || p.GetValue(images) is not null) throw new CliException("--latents / --images: only with --run");
            int n = p.GetValue(qubits), l = p.GetValue(layers);
            if (n < 1 || n > 30) throw new CliException($"--qubits: {n} is outside [1, 30]");
            if (l < 0 || l > 100) throw new CliException($"--layers: {l} is outside [0, 100]");
            var circuit = Circuit.Template(n, l, Circuit.ParseEntangler(p.GetValue(entangler)!));
            if (p.GetValue(inputs) is not { } xs) throw new CliException("--inputs: the circuit's n input angles are needed (or --run RUN --latents Z.npy for a trained run)");
            var x = CircuitCommand.ParseList(xs, "--inputs");
            if (x.Length != n) throw new CliException($"--inputs: {x.Length} values given; the circuit takes {n} (one angle per qubit)");
            var w = p.GetValue(weights) is { } wf ? CircuitCommand.ReadWeights(wf, l, n) : new float[circuit.WeightCount];
            string text = Qasm.Write(circuit, x, w, d, Header(circuit, d));
            if (p.GetValue(outPath) is { } file)
            {
                QGenEngine.Autograd.AtomicFile.WriteText(file, text);
                stdout.WriteLine($"wrote {file} ({d.ToString().ToLowerInvariant()}, {n} qubits, {circuit.Gates.Count} gates)");
            }
            else stdout.Write(text);
            return 0;
        });
        return cmd;
    }

    private static string Header(Circuit c, QasmDialect d) =>
        $"qgen-engine: {c.Qubits} qubits, {c.Layers} layers, {c.Entangler.ToString().ToLowerInvariant()} entangler; wire q is q[q], c[i] = measure q[i]\n" +
        (d == QasmDialect.Qiskit ? "counts from Qiskit print c[n-1] leftmost: read them back with --dialect qiskit"
                                 : "counts from Braket print qubit 0 leftmost: read them back with --dialect braket");

    private static int FromRun(TextWriter stdout, string dir, string? latentFile, string? imageSet, string? outDir, QasmDialect d, QGenEngine.Tensors.IDevice dev)
    {
        if (outDir is null) throw new CliException("--out: with --run, the folder the programs go to (DIR/0000.qasm ..., DIR/manifest.json)");
        if (latentFile is not null && imageSet is not null) throw new CliException("--latents and --images: give one (latents for a circuit that generates, images for one fed by images)");
        var (model, o) = ModelCatalog.LoadRun(dir, dev);
        QuantumLayer layer;
        float[] z;
        int rows;
        string part, source, next;
        if (model is ICircuitGenerator { GeneratingCircuit: { } gl })
        {
            if (latentFile is null) throw new CliException($"--latents: a {o.Model}'s circuit takes latent rows; give a .npy of them (N, {gl.Circuit.InputCount}), one program each");
            layer = gl; part = "generator";
            var (zz, shape) = Npy.Read(latentFile);
            if (shape.Length != 2 || shape[1] != layer.Circuit.InputCount || shape[0] < 1)
                throw new CliException($"{latentFile}: latents of shape ({string.Join(", ", shape)}); the circuit of this {o.Model} takes (N, {layer.Circuit.InputCount}) float32 angles");
            z = zz; rows = shape[0]; source = $"latent row"; latentFile = Path.GetFullPath(latentFile);
            next = $"qgen-engine sample --run {dir} --latents {latentFile} --counts COUNTS.json --dialect {d.ToString().ToLowerInvariant()}";
        }
        else if (model is ICircuitReconstructor { InputCircuit: { } il } cr)
        {
            if (imageSet is null) throw new CliException($"--images: a {o.Model}'s circuit takes its angles from images; give an image set (e.g. mnist:test:16), one program per image");
            layer = il; part = "attention";
            var set = ImageSets.Load(imageSet, dev);
            rows = set.Count;
            if (rows > 100_000) throw new CliException($"{imageSet}: {rows} images; at most 100000 programs are written at once");
            z = Evaluation.CircuitInputs(cr, dev, set.Pixels, rows); source = "image";
            next = $"qgen-engine eval --run {dir} --images {imageSet} --counts COUNTS.json --dialect {d.ToString().ToLowerInvariant()}";
        }
        else throw new CliException($"{dir}: a '{o.Model}' run has no circuit to export (a qgan's generator with --quantum generator or both, or a qvae's attention with angle encoding)");
        if (part == "generator" && imageSet is not null) throw new CliException($"--images: a {o.Model}'s circuit takes latents, not images; give --latents");
        if (part == "attention" && latentFile is not null) throw new CliException($"--latents: a {o.Model}'s circuit takes its angles from images; give --images");
        if (rows > 100_000) throw new CliException($"{latentFile}: {rows} rows; at most 100000 programs are written at once");
        var circuit = layer.Circuit;
        var weights = layer.Weight.ToArray();
        Directory.CreateDirectory(outDir);
        var files = new JsonArray();
        int width = circuit.InputCount;
        for (int r = 0; r < rows; r++)
        {
            string name = r.ToString("D4", CultureInfo.InvariantCulture) + ".qasm";
            string text;
            try { text = Qasm.Write(circuit, z.AsSpan(r * width, width), weights, d, Header(circuit, d) + $"\nrun {Path.GetFullPath(dir)} ({part}), {source} {r}"); }
            catch (ArgumentException e) { throw new CliException($"{latentFile ?? imageSet}: {source} {r}: {e.Message}"); }
            QGenEngine.Autograd.AtomicFile.WriteText(Path.Combine(outDir, name), text);
            files.Add(new JsonObject { ["file"] = name, ["row"] = r });
        }
        var manifest = new JsonObject
        {
            ["run"] = Path.GetFullPath(dir), ["model"] = o.Model, ["part"] = part, ["qubits"] = circuit.Qubits, ["layers"] = circuit.Layers,
            ["entangler"] = circuit.Entangler.ToString().ToLowerInvariant(), ["dialect"] = d.ToString().ToLowerInvariant(),
            ["bit_order"] = d == QasmDialect.Qiskit ? "qiskit: a bitstring's leftmost character is c[n-1] = q[n-1]" : "braket: a bitstring's leftmost character is qubit 0",
            ["latents"] = latentFile, ["images"] = imageSet, ["counts_format"] = "a JSON list with one object per row, in this order: bitstring -> count, as the device returned it",
            ["programs"] = files,
        };
        QGenEngine.Autograd.AtomicFile.WriteText(Path.Combine(outDir, ManifestFile), manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        stdout.WriteLine($"wrote {rows} programs ({d.ToString().ToLowerInvariant()}, {circuit.Qubits} qubits, {circuit.Gates.Count} gates each) and {ManifestFile} to {outDir}; " +
                         $"run them, then: {next}");
        return 0;
    }
}
