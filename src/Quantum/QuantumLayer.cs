using QGenEngine.Autograd;
using QGenEngine.Autograd.Nn;
using QGenEngine.Tensors;

namespace QGenEngine.Quantum;

/// <summary>
/// A parameterised circuit as a layer: inputs (B, InputCount) → readout (B, width), trainable angles
/// (L, n, 2) as the parameter "weight". The whole circuit is one autograd node whose backward is one
/// adjoint sweep (or parameter-shift, for hardware fidelity). Works on any device: the simulation runs
/// on the CPU and the tensors are copied in and out.
/// </summary>
public sealed class QuantumLayer : Layer
{
    public Circuit Circuit { get; }
    public Readout Readout { get; }
    public GradMethod Method { get; }
    public Tensor Weight { get; }
    private readonly Generator _shots;

    public QuantumLayer(IDevice dev, Generator rng, Circuit circuit, Readout readout, GradMethod method = GradMethod.Adjoint)
    {
        Circuit = circuit; Readout = readout; Method = method;
        // Angles uniform in [0, 2π), as PennyLane's TorchLayer initialises them.
        Weight = Parameter("weight", Tensor.Uniform(dev, rng.NextSeed(), 0f, 2 * MathF.PI, circuit.Layers, circuit.Qubits, 2));
        _shots = new Generator(rng.NextSeed());
    }

    public override Tensor Forward(Tensor x) => Apply(x, Weight, Circuit, Readout, Method, _shots.NextSeed());

    /// <summary>The circuit as a differentiable function of inputs (B, InputCount) and weights (L, n, 2).</summary>
    public static Tensor Apply(Tensor x, Tensor weight, Circuit c, Readout r, GradMethod method = GradMethod.Adjoint, ulong seed = 0)
    {
        if (x.Rank != 2 || x.Shape[1] != c.InputCount)
            throw new ArgumentException($"quantum layer: input {Shape.Format(x.Shape)} should be (B, {c.InputCount})");
        if (weight.Numel != c.WeightCount)
            throw new ArgumentException($"quantum layer: weight {Shape.Format(weight.Shape)} should have {c.WeightCount} angles (L, n, 2)");
        int batch = x.Shape[0], width = r.Width(c.Qubits);
        var inputs = x.ToArray(); var w = weight.ToArray();
        var y = Tensor.FromArray(x.Device, Simulator.Run(c, inputs, batch, w, r, seed), batch, width);
        if (Graph.Needs(x, weight))
            Graph.Record(y, [x, weight], g =>
            {
                var (_, wg, ig) = Gradients.Compute(method, c, inputs, batch, w, r, g.ToArray(), seed);
                if (weight.RequiresGrad) Graph.Accumulate(weight, Tensor.FromArray(x.Device, wg, weight.Shape));
                if (x.RequiresGrad) Graph.Accumulate(x, Tensor.FromArray(x.Device, ig, x.Shape));
            });
        return y;
    }
}
