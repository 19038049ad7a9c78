using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using QGenEngine.Kernels;
using QGenEngine.Quantum;
using QGenEngine.Tensors;

namespace QGenEngine.Cli.Commands;

/// <summary>
/// `qgen-engine circuit`: runs one circuit of the attention/generator template and prints its readout
/// and, given a cotangent G, the gradients of ⟨G, readout⟩ with respect to the weights and inputs.
/// </summary>
public static class CircuitCommand
{
    public static Command Build(TextWriter stdout)
    {
        var qubits = new Option<int>("--qubits") { Description = "number of qubits n", DefaultValueFactory = _ => 8 };
        var layers = new Option<int>("--layers") { Description = "variational layers L", DefaultValueFactory = _ => 3 };
        var entangler = new Option<string>("--entangler") { Description = "linear | circular | all", DefaultValueFactory = _ => "linear" };
        var encoding = new Option<string>("--encoding") { Description = "angle (n input angles) | amplitude (2^n amplitudes)", DefaultValueFactory = _ => "angle" };
        var inputs = new Option<string>("--inputs") { Description = "comma-separated inputs, e.g. --inputs=0.1,-0.5,...", Required = true };
        var weights = new Option<string?>("--weights") { Description = "JSON file with an [L][n][2] array of (θ, φ); zeros if omitted" };
        var readout = new Option<string>("--readout") { Description = "probs | expval | shots:K", DefaultValueFactory = _ => "probs" };
        var cotangent = new Option<string?>("--cotangent") { Description = "JSON file with the readout's cotangent G (an array of its width)" };
        var grad = new Option<string>("--grad") { Description = "adjoint | shift | fd", DefaultValueFactory = _ => "adjoint" };
        var noise = new Option<string?>("--noise") { Description = "e.g. depolarizing=0.01,damping=0.02,dephasing=0.01,readout=0.02" };
        var noiseModel = new Option<string?>("--noise-model") { Description = "noise from a device's calibration: a JSON file, ours or IBM's backend properties (docs/noise-model.md)" };
        var seed = new Option<ulong>("--seed") { Description = "seed of the shots readout", DefaultValueFactory = _ => 0UL };
        var json = new Option<bool>("--json") { Description = "print JSON (the default is a readable listing)" };
        var device = DeviceOption.Create();
        device.Description = "cpu (the CPU simulator; also what auto picks for one circuit) | cuda | ilgpu-cpu (the batched circuit kernels: noiseless probs/expval, adjoint gradients)";
        var cmd = new Command("circuit", "Run one parameterised circuit: readout and gradients")
        {
            qubits, layers, entangler, encoding, inputs, weights, readout, cotangent, grad, noise, noiseModel, seed, json, device,
        };
        cmd.SetAction(p =>
        {
            int n = p.GetValue(qubits), l = p.GetValue(layers);
            if (n < 1 || n > 24) throw new CliException($"--qubits: {n} is outside [1, 24]");
            if (l < 0 || l > 100) throw new CliException($"--layers: {l} is outside [0, 100]");
            var enc = p.GetValue(encoding)!.ToLowerInvariant() switch
            {
                "angle" => Encoding.Angle,
                "amplitude" => Encoding.Amplitude,
                var s => throw new CliException($"--encoding: unknown encoding '{s}'; expected angle or amplitude"),
            };
            var circuit = Circuit.Template(n, l, Circuit.ParseEntangler(p.GetValue(entangler)!), enc);
            var r = Readout.Parse(p.GetValue(readout)!);
            var x = ParseList(p.GetValue(inputs)!, "--inputs");
            if (x.Length != circuit.InputCount) throw new CliException($"--inputs: {x.Length} values given; the circuit takes {circuit.InputCount} ({(enc == Encoding.Angle ? "one angle per qubit" : "2^n amplitudes")})");
            var w = p.GetValue(weights) is { } wf ? ReadWeights(wf, l, n) : new float[circuit.WeightCount];
            var nm = p.GetValue(noise) is { } ns ? NoiseModel.Parse(ns) : null;
            if (p.GetValue(noiseModel) is { } nmf)
            {
                if (nm is not null) throw new CliException($"--noise and --noise-model {nmf}: give one");
                nm = NoiseModel.Of(DeviceNoise.Load(nmf));
            }
            var method = p.GetValue(grad)!.ToLowerInvariant() switch
            {
                "adjoint" => GradMethod.Adjoint,
                "shift" => GradMethod.Shift,
                "fd" => GradMethod.Fd,
                var s => throw new CliException($"--grad: unknown method '{s}'; expected adjoint, shift or fd"),
            };
            ulong sd = p.GetValue(seed);
            string dev = DeviceOption.Name(p.GetValue(device)).ToLowerInvariant();
            var gradFile = p.GetValue(cotangent);
            var tensors = TensorDevice(dev);
            // Without a cotangent only the forward runs, whatever --grad says (it picks how to differentiate).
            var run = new CircuitRun(gradFile is null ? GradMethod.Adjoint : method, sd, nm);
            var sim = CircuitSimulators.For(tensors, circuit, r, run);
            if (dev is "cuda" or "ilgpu-cpu" && !sim.Supports.DeviceMemory) throw new CliException(WhyNotOnDevice(dev, nm, r, run.Method));
            int width = r.Width(n);
            var result = new JsonObject();
            var xt = Tensor.FromArray(tensors, x, 1, circuit.InputCount);
            var wt = Tensor.FromArray(tensors, w, l, n, 2);
            var (yt, backward) = sim.Run(xt, wt, circuit, r, run, withBackward: gradFile is not null);
            var y = yt.ToArray();
            result["readout"] = Arr(y);
            if (gradFile is not null)
            {
                var (wgt, igt) = backward!(Tensor.FromArray(tensors, ReadArray(gradFile, width), 1, width), true);
                var wg = wgt.ToArray(); var ig = igt!.ToArray();
                var wj = new JsonArray();
                for (int li = 0; li < l; li++)
                {
                    var row = new JsonArray();
                    for (int q = 0; q < n; q++) row.Add(new JsonArray(wg[(li * n + q) * 2], wg[(li * n + q) * 2 + 1]));
                    wj.Add(row);
                }
                result["weight_grad"] = wj;
                result["input_grad"] = Arr(ig);
            }
            if (p.GetValue(json)) stdout.WriteLine(result.ToJsonString());
            else
            {
                stdout.WriteLine($"circuit: {n} qubits, {l} layers, {circuit.Entangler.ToString().ToLowerInvariant()} entangler, {enc.ToString().ToLowerInvariant()} encoding, {circuit.WeightCount} weights, readout {r}" + (nm is null ? "" : nm.Device is { } dn ? $", noise model {dn.Name}" : $", noise {p.GetValue(noise)}"));
                foreach (var (k, v) in result) stdout.WriteLine($"{k}: {v!.ToJsonString()}");
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>The tensor device --device names: the circuit runs on whichever simulator accepts it (<see cref="CircuitSimulators.For"/>).</summary>
    private static IDevice TensorDevice(string device)
    {
        if (device is "cpu" or "auto") return Backends.Cpu;
        if (device == "reference") return Backends.Reference;
        if (device is not ("cuda" or "ilgpu-cpu"))
            throw new CliException($"--device: the circuit kernels run on cuda or ilgpu-cpu, not '{device}' (cpu runs the CPU simulator)");
        if (QGenEngine.Kernels.Gpu.GpuBackends.Unavailable(device) is { } why) throw new CliException($"--device {device}: {why}");
        return Backends.Get(device);
    }

    /// <summary>Why the device's circuit kernels do not take this run (what the host simulators alone can do).</summary>
    private static string WhyNotOnDevice(string device, NoiseModel? noise, Readout r, GradMethod method) =>
        noise is { IsNoiseless: false } ? $"--device {device}: noisy circuits run on the CPU density-matrix simulator; use --device cpu"
        : r.Kind == ReadoutKind.Shots ? $"--device {device}: the kernels return probs or expval; shots run on --device cpu"
        : method != GradMethod.Adjoint ? $"--device {device}: the kernels compute adjoint gradients; --grad {method.ToString().ToLowerInvariant()} runs on --device cpu"
        : $"--device {device}: the kernels compute adjoint gradients of up to {QGenEngine.Quantum.Gpu.IlgpuSimulator.MaxBackwardQubits} qubits; other methods and sizes run on --device cpu";

    private static JsonArray Arr(float[] v) => new(v.Select(x => (JsonNode)JsonValue.Create(x)).ToArray());

    internal static float[] ParseList(string s, string what)
    {
        var parts = s.Split(',', StringSplitOptions.TrimEntries);
        var r = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out r[i]) || !float.IsFinite(r[i]))
                throw new CliException($"{what}: value {i + 1} '{parts[i]}' is not a finite number");
        return r;
    }

    private static JsonNode Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CliException($"{path}: cannot read ({e.Message})"); }
        try { return JsonNode.Parse(text) ?? throw new CliException($"{path}: empty JSON"); }
        catch (JsonException e) { throw new CliException($"{path}: not valid JSON ({e.Message})"); }
    }

    private static float Num(JsonNode? v, string path, string where)
    {
        if (v is JsonValue jv && jv.TryGetValue(out double d) && double.IsFinite(d)) return (float)d;
        throw new CliException($"{path}: {where} is {(v is null ? "null" : v.ToJsonString())}, expected a number");
    }

    /// <summary>An [L][n][2] array of (θ, φ), flattened in the circuit's weight order.</summary>
    internal static float[] ReadWeights(string path, int layers, int n)
    {
        if (Load(path) is not JsonArray ls || ls.Count != layers)
            throw new CliException($"{path}: expected an array of {layers} layers, each [{n}][2]");
        var w = new float[layers * n * 2];
        for (int l = 0; l < layers; l++)
        {
            if (ls[l] is not JsonArray qs || qs.Count != n) throw new CliException($"{path}: layer {l} should hold {n} (θ, φ) pairs");
            for (int q = 0; q < n; q++)
            {
                if (qs[q] is not JsonArray pair || pair.Count != 2) throw new CliException($"{path}: [{l}][{q}] should be a pair [θ, φ]");
                w[(l * n + q) * 2] = Num(pair[0], path, $"[{l}][{q}][0]");
                w[(l * n + q) * 2 + 1] = Num(pair[1], path, $"[{l}][{q}][1]");
            }
        }
        return w;
    }

    private static float[] ReadArray(string path, int length)
    {
        if (Load(path) is not JsonArray a || a.Count != length) throw new CliException($"{path}: expected an array of {length} numbers (the readout's width)");
        return a.Select((v, i) => Num(v, path, $"[{i}]")).ToArray();
    }
}
