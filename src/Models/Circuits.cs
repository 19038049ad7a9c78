using System.Text.Json.Nodes;
using QGenEngine.Quantum;

namespace QGenEngine.Models;

// The circuits as models use them: their settings from the training options, and their per-epoch statistics
// (the VAE family's attention and the quantum GAN share both).

/// <summary>Which parts of a GAN are circuits (`qgan --quantum`).</summary>
public enum QuantumParts { None, Generator, Discriminator, Both }

/// <summary>A circuit's settings as training options give them: template size, entangler, readout, gradient method, noise.</summary>
public sealed record CircuitConfig(int Qubits = 8, int Layers = 3, Entangler Entangler = Entangler.Linear, string Readout = "probs",
                                   GradMethod Grad = GradMethod.Adjoint, NoiseModel? Noise = null)
{
    public Circuit Template() => Circuit.Template(Qubits, Layers, Entangler);

    /// <summary>A circuit layer with this configuration; the readout given overrides the configured one (probs / shots only).</summary>
    public QuantumLayer Layer(IDevice dev, Generator rng) => new(dev, rng, Template(), Quantum.Readout.Parse(Readout), Grad, Noise);
}

/// <summary>The settings of a model with a circuit (qvae, qgan; the classical controls take <see cref="Qubits"/> and <see cref="Readout"/>, their interface).</summary>
public static class CircuitSettings
{
    /// <summary>The message of what <paramref name="parse"/> throws, or null: a setting's check from a parser.</summary>
    public static string? Parses(Action parse)
    {
        try { parse(); return null; }
        catch (ArgumentException e) { return e.Message; }
    }

    public static readonly Setting<int> Qubits = new("qubits", 8, "qubits of the circuit",
        v => v is < 1 or > 12 ? $"{v} is outside [1, 12]" : null, required: true);
    public static readonly Setting<int> Layers = new("layers", 3, "circuit layers", v => v is < 0 or > 50 ? $"{v} is outside [0, 50]" : null, required: true);
    public static readonly Setting<string> Entangler = new("entangler", "linear", "linear | circular | all",
        v => Parses(() => Circuit.ParseEntangler(v)), required: true);
    public static readonly Setting<string> Readout = new("readout", "probs", "probs | expval | shots:N",
        v => Parses(() => Quantum.Readout.Parse(v)), required: true);
    public static readonly Setting<string> Grad = new("grad", "adjoint",
        "circuit gradients: adjoint (exact) | shift (parameter-shift, as hardware; needed with noise or shots)", v => Parses(() => ParseGrad(v)));
    public static readonly Setting<string> Noise = new("noise", "",
        "circuit noise, e.g. depolarizing=0.01,damping=0.02,dephasing=0.01,readout=0.02 (needs ⟨grad⟩ shift)",
        v => string.IsNullOrEmpty(v) ? null : Parses(() => NoiseModel.Parse(v)));
    /// <summary>A device's calibration (JSON, ours or IBM's backend properties; docs/noise-model.md) as the circuits' noise, instead of <see cref="Noise"/>.</summary>
    public static readonly Setting<string?> NoiseModelFile = Setting.OfPath("noise_model",
        "circuit noise from a device's calibration: a JSON file, ours or IBM's backend properties (docs/noise-model.md; needs ⟨grad⟩ shift)",
        "a calibration JSON file", absolute: true);

    /// <summary>Every circuit setting, in config.json's order.</summary>
    public static IReadOnlyList<Setting> All { get; } = [Qubits, Layers, Entangler, Readout, Grad, Noise, NoiseModelFile];

    public static GradMethod ParseGrad(string s) => s switch
    {
        "adjoint" => GradMethod.Adjoint, "shift" => GradMethod.Shift,
        _ => throw new ArgumentException($"'{s}'; expected adjoint or shift"),
    };

    /// <summary>The circuits' noise: a device's calibration, a channel list, or none.</summary>
    public static NoiseModel? NoiseModelOf(TrainOptions o)
    {
        string noise = o.Get(CircuitSettings.Noise);
        if (o.Get(NoiseModelFile) is { } file)
        {
            if (!string.IsNullOrEmpty(noise)) throw new ArgumentException($"{CircuitSettings.Noise.Ref} '{noise}' and {NoiseModelFile.Ref} {file}: give one (a device's calibration already holds its channels)");
            return NoiseModel.Of(DeviceNoise.Load(file));
        }
        return string.IsNullOrEmpty(noise) ? null : NoiseModel.Parse(noise);
    }

    public static CircuitConfig Config(TrainOptions o) =>
        new(o.Get(Qubits), o.Get(Layers), Circuit.ParseEntangler(o.Get(Entangler)), o.Get(Readout), ParseGrad(o.Get(Grad)), NoiseModelOf(o));

    /// <summary>
    /// What a circuit's settings must hold together: a readout and gradient method the noise allows; with
    /// <paramref name="files"/>, the calibration file read and fitting the circuit.
    /// </summary>
    public static void Check(TrainOptions o, bool files)
    {
        if (o.Get(NoiseModelFile) is not null && !files) return;   // the file is checked with the others
        var noise = NoiseModelOf(o);
        QuantumLayer.Check(Quantum.Readout.Parse(o.Get(Readout)), ParseGrad(o.Get(Grad)), noise);
        if (noise?.Device is { } device)
            try { device.Check(Circuit.Template(o.Get(Qubits), o.Get(Layers), Circuit.ParseEntangler(o.Get(Entangler)))); }
            catch (ArgumentException e) { throw new ArgumentException($"{NoiseModelFile.Ref} {o.Get(NoiseModelFile)}: {e.Message}"); }
    }
}

/// <summary>The circuits' per-epoch statistics (issue: does the circuit learn, or sit on a barren plateau?).</summary>
public static class CircuitStatistics
{
    /// <summary>Records the gradient norm of every circuit in <paramref name="part"/> (after its backward, before its step).</summary>
    public static void Record(Module part)
    {
        foreach (var (_, m) in part.NamedModules()) if (m is QuantumLayer q) q.RecordGradient();
    }

    /// <summary>circuit_grad_norm (mean over the epoch's steps) and circuit_angle_change (L2 from the initial angles), per circuit; resets.</summary>
    public static IReadOnlyList<(string Name, JsonNode Value)> EndEpoch(Module model)
    {
        var layers = model.NamedModules().Where(m => m.Module is QuantumLayer).ToList();
        var values = new List<(string, JsonNode)>();
        foreach (var (name, m) in layers)
        {
            string suffix = layers.Count > 1 ? "_" + name.Split('.')[0] : "";
            var (g, change) = ((QuantumLayer)m).TakeEpochStatistics();
            if (double.IsFinite(g)) values.Add(("circuit_grad_norm" + suffix, g));
            values.Add(("circuit_angle_change" + suffix, change));
        }
        return values;
    }
}
