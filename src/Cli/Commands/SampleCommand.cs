using QGenEngine.Studies;
using System.CommandLine;
using QGenEngine.Autograd.Nn;
using QGenEngine.Models;
using QGenEngine.Models.Data;
using QGenEngine.Models.Metrics;

namespace QGenEngine.Cli.Commands;

/// <summary>`qgen-engine sample --run DIR`: images from any generative run, from seeded or given latents, as PNG or .npy.</summary>
public static class SampleCommand
{
    public static Command Build(TextWriter stdout)
    {
        var run = new Option<string>("--run") { Description = "a run directory made by `train`", Required = true };
        var n = new Option<int?>("--n") { Description = "how many images (default 64; with --latents, all of them)" };
        var outFile = new Option<string?>("--out") { Description = "output file (default DIR/samples-N.png or .npy)" };
        var seed = new Option<ulong>("--seed") { Description = "seed of the latent draws", DefaultValueFactory = _ => 7 };
        var latents = new Option<string?>("--latents") { Description = "a .npy file of float32 latents (N, latent size) to decode instead of random draws" };
        var format = new Option<string>("--format") { Description = "png (a grid) | npy (float32 (N, 1, 28, 28) in [0, 1])", DefaultValueFactory = _ => "png" };
        var counts = new Option<string?>("--counts") { Description = "counts measured on a device for the --latents rows' programs (`qasm --run`): a JSON list, one object of bitstring -> count per row" };
        var dialect = new Option<string?>("--dialect") { Description = "with --counts: the bit order of the device's bitstrings, qiskit (c[n-1] leftmost) | braket (qubit 0 leftmost)" };
        var noiseModel = NoiseModelOption();
        var device = DeviceOption.Create();
        var cmd = new Command("sample", "Generate images from a trained run") { run, n, outFile, seed, latents, format, counts, dialect, noiseModel, device };
        cmd.SetAction(p =>
        {
            string dir = p.GetValue(run)!, fmt = p.GetValue(format)!;
            if (fmt is not ("png" or "npy")) throw new CliException($"--format: '{fmt}'; expected png or npy");
            var dev = DeviceOption.Resolve(p.GetValue(device));
            string? countsFile = p.GetValue(counts);
            if (countsFile is not null && p.GetValue(latents) is null) throw new CliException("--counts: needs --latents, the rows whose programs the device ran");
            if (countsFile is not null && p.GetValue(noiseModel) is not null) throw new CliException("--counts and --noise-model: measured counts already hold the device's noise; give one");
            var (model, o) = LoadRun(dir, dev, p.GetValue(noiseModel));
            if (model is not IGenerative g)
                throw new CliException(ModelCatalog.Get(o.Model).HowToGenerate is { } how
                    ? $"{dir}: {how.Replace("{run}", dir, StringComparison.Ordinal)}"
                    : $"{dir}: a '{o.Model}' run cannot generate images (it can {string.Join(", ", ModelEntry.Capabilities(model))})");
            float[] images;
            int count;
            if (p.GetValue(latents) is { } file)
            {
                var (z, shape) = Npy.Read(file);
                if (shape.Length != 2 || shape[1] != g.LatentSize || shape[0] < 1)
                    throw new CliException($"{file}: latents of shape ({string.Join(", ", shape)}); this {o.Model} expects (N, {g.LatentSize}) float32");
                count = p.GetValue(n) is { } k ? k : shape[0];
                if (count < 1 || count > shape[0]) throw new CliException($"--n: {count} is outside [1, {shape[0]}] (the latents in {file})");
                if (countsFile is not null)
                {
                    if (g is not ICircuitGenerator { GeneratingCircuit: { } layer } cg)
                        throw new CliException($"{dir}: a '{o.Model}' run has no circuit that generates; --counts feeds a qgan generator's measured distribution");
                    if (p.GetValue(dialect) is not { } ds) throw new CliException("--dialect: counts need their device's bit order, qiskit or braket");
                    QGenEngine.Quantum.QasmDialect d;
                    try { d = QGenEngine.Quantum.Qasm.ParseDialect(ds); } catch (ArgumentException e) { throw new CliException($"--dialect: {e.Message}"); }
                    var probs = QGenEngine.Quantum.MeasuredCounts.ReadProbabilities(countsFile, count, layer.Circuit.Qubits, d);
                    images = Evaluation.GenerateFromReadout(cg, dev, probs, count);
                }
                else
                    try { images = Evaluation.Generate(g, dev, z.AsSpan(0, count * g.LatentSize), count); }
                    catch (ArgumentException e) { throw new CliException($"{file}: {e.Message}"); }
            }
            else
            {
                if (p.GetValue(dialect) is not null) throw new CliException("--dialect: only with --counts");
                count = p.GetValue(n) ?? 64;
                if (count < 1 || count > 100_000) throw new CliException($"--n: {count} is outside [1, 100000]");
                images = Evaluation.Generate(g, dev, count, p.GetValue(seed));
            }
            string path = p.GetValue(outFile) ?? Path.Combine(dir, $"samples-{count}.{fmt}");
            if (fmt == "npy") Npy.Write(path, images, count, 1, 28, 28);
            else Imaging.SaveGrid(path, images, count, (int)Math.Ceiling(Math.Sqrt(count)));
            string source = countsFile is not null ? $" from the counts in {countsFile}" : o.Get(CircuitSettings.NoiseModelFile) is { } nm ? $" under the noise model {nm}" : "";
            stdout.WriteLine($"wrote {count} samples of {o.Model}{source} to {path}");
            return 0;
        });
        return cmd;
    }

    /// <summary>`--noise-model FILE` of eval and sample: a trained model's circuits run under a device's calibration.</summary>
    internal static Option<string?> NoiseModelOption() =>
        new("--noise-model") { Description = "run the model's circuits under a device's calibration (JSON, ours or IBM's backend properties; docs/noise-model.md) on the density-matrix simulator" };

    /// <summary>A run, with its circuits under the noise model when one is given (refused for a run without circuits).</summary>
    internal static (Module Model, QGenEngine.Models.Training.TrainOptions Options) LoadRun(string dir, QGenEngine.Tensors.IDevice dev, string? noiseModel)
    {
        if (noiseModel is null) return ModelCatalog.LoadRun(dir, dev);
        string full = Path.GetFullPath(noiseModel);
        var loaded = ModelCatalog.LoadRun(dir, dev, o => o.With(CircuitSettings.NoiseModelFile, full).With(CircuitSettings.Noise, "").With(CircuitSettings.Grad, "shift"));
        var circuits = loaded.Model.NamedModules().Select(m => m.Module).OfType<QGenEngine.Quantum.QuantumLayer>().ToList();
        if (circuits.Count == 0) throw new CliException($"{dir}: a '{loaded.Options.Model}' run has no circuit for --noise-model {noiseModel} to act on");
        foreach (var c in circuits)
            try { c.Noise!.Device!.Check(c.Circuit); }
            catch (ArgumentException e) { throw new CliException($"--noise-model {noiseModel}: {e.Message}"); }
        return loaded;
    }
}
