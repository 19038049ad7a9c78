using QGenEngine.Autograd;
using QGenEngine.Autograd.Nn;
using QGenEngine.Tensors;

namespace QGenEngine.Quantum;

/// <summary>
/// A parameterised circuit as a layer: inputs (B, InputCount) → readout (B, width), trainable angles
/// (L, n, 2) as the parameter "weight". The whole circuit is one autograd node whose backward is one
/// adjoint sweep (or parameter-shift, for hardware fidelity). Works on any device, through the simulator that
/// accepts it (<see cref="ICircuitSimulator"/>): on an ILGPU device the circuits run as its kernels in its memory;
/// on the reference device in double precision; elsewhere on the CPU, the tensors copied in and out. With a noise model the forward pass is the density
/// matrix's (what the noisy device gives in expectation) and only parameter-shift can differentiate it; a
/// shots readout draws from the layer's own seeded stream (saved with checkpoints).
/// Training state (checkpoints keep it, outside the state_dict): the initial angles, and the sum and count of
/// the angles' gradient norms at optimiser steps (<see cref="RecordGradient"/>), for the per-epoch circuit statistics.
/// </summary>
public sealed class QuantumLayer : Layer
{
    public Circuit Circuit { get; }
    public Readout Readout { get; }
    public GradMethod Method { get; }
    public NoiseModel? Noise { get; }
    public Tensor Weight { get; }
    private readonly Generator _shots;
    private readonly Tensor _initial, _gradNormSum, _gradSteps;

    public QuantumLayer(IDevice dev, Generator rng, Circuit circuit, Readout readout, GradMethod method = GradMethod.Adjoint, NoiseModel? noise = null)
    {
        Check(readout, method, noise);
        Circuit = circuit; Readout = readout; Method = method; Noise = noise is { IsNoiseless: false } ? noise : null;
        // Angles uniform in [0, 2π), as PennyLane's TorchLayer initialises them.
        Weight = Parameter("weight", Tensor.Uniform(dev, rng.NextSeed(), 0f, 2 * MathF.PI, circuit.Layers, circuit.Qubits, 2));
        _shots = Stream("shots", new Generator(rng.NextSeed()));
        _initial = TrainingState("initial_weight", Tensor.FromArray(dev, Weight.ToArray(), Weight.Shape));
        _gradNormSum = TrainingState("grad_norm_sum", Tensor.Zeros(dev));
        _gradSteps = TrainingState("grad_steps", Tensor.Zeros(dev));
    }

    /// <summary>Refuses a gradient method that cannot differentiate what the circuit computes, naming the one that can.</summary>
    public static void Check(Readout r, GradMethod method, NoiseModel? noise)
    {
        if (method != GradMethod.Adjoint) return;
        if (noise is { IsNoiseless: false })
            throw new ArgumentException("⟨grad⟩ adjoint: the adjoint method needs a pure state, and noise (⟨noise⟩, ⟨noise_model⟩) makes a mixed one; use ⟨grad⟩ shift (as hardware would)");
        if (r.Kind == ReadoutKind.Shots)
            throw new ArgumentException($"⟨grad⟩ adjoint: a {r} readout is a sample, not a state the adjoint can sweep back through; use ⟨grad⟩ shift (as hardware would)");
    }

    public override Tensor Forward(Tensor x) => Apply(x, Weight, Circuit, Readout, Method, _shots.NextSeed(), Noise);

    /// <summary>Adds the current gradient norm of the angles to the epoch's statistics (called after a backward, before the optimiser step).</summary>
    public void RecordGradient()
    {
        if (Weight.Grad is not { } g) return;
        var dev = Weight.Device;
        using var norm = Tensor.Zeros(dev, 1);
        dev.SumOfSquares(g, norm);
        dev.Unary(UnaryOp.Sqrt, norm, norm, 0f, 0f);
        dev.Binary(BinaryOp.Add, _gradNormSum, norm, _gradNormSum);
        dev.Unary(UnaryOp.Affine, _gradSteps, _gradSteps, 1f, 1f);
    }

    /// <summary>The epoch's mean gradient norm of the angles, and how far (L2) they are from their initial values; resets the mean.</summary>
    public (double MeanGradNorm, double AngleChange) TakeEpochStatistics()
    {
        double steps = _gradSteps.Item(), sum = _gradNormSum.Item();
        var w = Weight.ToArray(); var w0 = _initial.ToArray();
        double change = Math.Sqrt(w.Zip(w0, (a, b) => (double)(a - b) * (a - b)).Sum());
        Weight.Device.Fill(_gradNormSum, 0f); Weight.Device.Fill(_gradSteps, 0f);
        return (steps > 0 ? sum / steps : double.NaN, change);
    }

    /// <summary>
    /// The circuit as a differentiable function of inputs (B, InputCount) and weights (L, n, 2): run by the first
    /// simulator that accepts the device and the run (<see cref="CircuitSimulators.For"/>), one node in the graph.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor weight, Circuit c, Readout r, GradMethod method = GradMethod.Adjoint, ulong seed = 0, NoiseModel? noise = null)
    {
        if (x.Rank != 2 || x.Shape[1] != c.InputCount)
            throw new ArgumentException($"quantum layer: input {Shape.Format(x.Shape)} should be (B, {c.InputCount})");
        if (weight.Numel != c.WeightCount)
            throw new ArgumentException($"quantum layer: weight {Shape.Format(weight.Shape)} should have {c.WeightCount} angles (L, n, 2)");
        var run = new CircuitRun(method, seed, noise);
        bool grad = Graph.Needs(x, weight);
        var (y, backward) = CircuitSimulators.For(x.Device, c, r, run).Run(x, weight, c, r, run, grad);
        if (grad)
            Graph.Record(y, [x, weight], g =>
            {
                var (wg, ig) = backward!(g, x.RequiresGrad);
                if (weight.RequiresGrad) Graph.Accumulate(weight, wg);
                if (x.RequiresGrad) Graph.Accumulate(x, ig!);
            });
        return y;
    }
}
