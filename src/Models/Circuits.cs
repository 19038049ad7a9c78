using System.Text.Json.Nodes;
using QGenEngine.Autograd.Nn;
using QGenEngine.Quantum;
using QGenEngine.Tensors;

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
