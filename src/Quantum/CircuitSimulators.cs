using QGenEngine.Tensors;

namespace QGenEngine.Quantum;

/// <summary>How a batch of circuits is run: the gradient method, the seed of a shots readout's draws, and a noise model (null: pure).</summary>
public sealed record CircuitRun(GradMethod Method = GradMethod.Adjoint, ulong Seed = 0, NoiseModel? Noise = null)
{
    public bool Noisy => Noise is { IsNoiseless: false };
    /// <summary>A pure state differentiated by the adjoint sweep, read out exactly (no shots): what the device kernels and the exact path do.</summary>
    public bool PureAdjoint(Readout r) => Method == GradMethod.Adjoint && !Noisy && r.Kind != ReadoutKind.Shots;
}

/// <summary>What a simulator can do.</summary>
/// <param name="Shots">draws a shots readout</param>
/// <param name="Noise">runs a noise model (as a density matrix)</param>
/// <param name="GradMethods">the gradient methods it computes</param>
/// <param name="Precision">"double" or "single"</param>
/// <param name="DeviceMemory">the circuits run in the tensor device's memory (no host round trip)</param>
public sealed record SimulatorSupport(bool Shots, bool Noise, GradMethod[] GradMethods, string Precision, bool DeviceMemory);

/// <summary>The gradients of a batch of circuits for a cotangent of their readout: angles (the weight's shape) and inputs (B, InputCount).</summary>
public delegate (Tensor WeightGrad, Tensor? InputGrad) CircuitBackward(Tensor cotangent, bool inputGrads);

/// <summary>
/// One simulator of batched parameterised circuits, as a differentiable function on one device's tensors: inputs
/// (B, InputCount) and angles (L, n, 2) to a readout (B, width), and, when asked, the backward for a cotangent. The
/// engine has four (<see cref="CircuitSimulators.All"/>); <see cref="QuantumLayer"/> and the `circuit` command take
/// the first that accepts the device and the run (<see cref="CircuitSimulators.For"/>), and one test body checks each
/// against the dense reference.
/// </summary>
public interface ICircuitSimulator
{
    string Name { get; }
    SimulatorSupport Supports { get; }

    /// <summary>Whether it runs this circuit, readout and run on tensors of this device.</summary>
    bool Accepts(IDevice device, Circuit c, Readout r, CircuitRun run);

    /// <summary>The readout (B, width) on x's device; with <paramref name="withBackward"/> also its backward.</summary>
    (Tensor Readout, CircuitBackward? Backward) Run(Tensor x, Tensor weight, Circuit c, Readout r, CircuitRun run, bool withBackward);
}

/// <summary>The engine's circuit simulators, most specific first, and the choice among them.</summary>
public static class CircuitSimulators
{
    public static IReadOnlyList<ICircuitSimulator> All { get; } =
        [new ExactSimulator(), new Gpu.DeviceCircuitSimulator(), new HostStateVectorSimulator(), new HostDensityMatrixSimulator()];

    /// <summary>The first simulator that accepts the device and the run (the host simulators accept every device).</summary>
    public static ICircuitSimulator For(IDevice device, Circuit c, Readout r, CircuitRun run) =>
        All.First(s => s.Accepts(device, c, r, run));

    public static ICircuitSimulator Get(string name) =>
        All.FirstOrDefault(s => s.Name == name) ?? throw new ArgumentException($"no circuit simulator '{name}'; expected one of {string.Join(", ", All.Select(s => s.Name))}");
}

/// <summary>
/// On a double-precision device (the reference, <see cref="IExactDevice"/>): the state-vector simulator in double,
/// inputs, readout and gradients never rounded to float. Pure states and the adjoint only.
/// </summary>
public sealed class ExactSimulator : ICircuitSimulator
{
    public string Name => "exact";
    public SimulatorSupport Supports { get; } = new(Shots: false, Noise: false, [GradMethod.Adjoint], "double", DeviceMemory: false);

    public bool Accepts(IDevice device, Circuit c, Readout r, CircuitRun run) => device is IExactDevice && run.PureAdjoint(r);

    public (Tensor Readout, CircuitBackward? Backward) Run(Tensor x, Tensor weight, Circuit c, Readout r, CircuitRun run, bool withBackward)
    {
        var exact = (IExactDevice)x.Device;
        int batch = x.Shape[0], width = r.Width(c.Qubits);
        var inputs = new double[x.Numel]; exact.DownloadExact(x, inputs);
        var w = new double[weight.Numel]; exact.DownloadExact(weight, w);
        var (readout, _, _) = Simulator.RunExact(c, inputs, batch, w, r, null, run.Seed);
        var y = Tensor.Empty(x.Device, batch, width);
        exact.UploadExact(readout, y);
        if (!withBackward) return (y, null);
        return (y, (g, inputGrads) =>
        {
            var cot = new double[g.Numel]; exact.DownloadExact(g, cot);
            var (_, wg, ig) = Simulator.RunExact(c, inputs, batch, w, r, cot, run.Seed);
            var wt = Tensor.Empty(x.Device, weight.Shape); exact.UploadExact(wg, wt);
            Tensor? it = null;
            if (inputGrads) { it = Tensor.Empty(x.Device, x.Shape); exact.UploadExact(ig, it); }
            return (wt, it);
        });
    }
}

/// <summary>
/// The batched state-vector simulator on the CPU, for tensors of any device (copied in and out): pure states, every
/// readout (shots drawn from the run's seed) and every gradient method.
/// </summary>
public sealed class HostStateVectorSimulator : ICircuitSimulator
{
    public string Name => "state-vector";
    public SimulatorSupport Supports { get; } = new(Shots: true, Noise: false, [GradMethod.Adjoint, GradMethod.Shift, GradMethod.Fd], "single", DeviceMemory: false);

    public bool Accepts(IDevice device, Circuit c, Readout r, CircuitRun run) => !run.Noisy;

    public (Tensor Readout, CircuitBackward? Backward) Run(Tensor x, Tensor weight, Circuit c, Readout r, CircuitRun run, bool withBackward) =>
        HostRun.Run(x, weight, c, r, run, withBackward, (inputs, batch, w) => Simulator.Run(c, inputs, batch, w, r, run.Seed));
}

/// <summary>
/// The density-matrix simulator on the CPU: a noise model's mixed state, what a noisy device gives in expectation; any
/// readout; differentiated by parameter-shift (or finite differences), as hardware would be.
/// </summary>
public sealed class HostDensityMatrixSimulator : ICircuitSimulator
{
    public string Name => "density-matrix";
    public SimulatorSupport Supports { get; } = new(Shots: true, Noise: true, [GradMethod.Shift, GradMethod.Fd], "single", DeviceMemory: false);

    public bool Accepts(IDevice device, Circuit c, Readout r, CircuitRun run) => run.Noisy;

    public (Tensor Readout, CircuitBackward? Backward) Run(Tensor x, Tensor weight, Circuit c, Readout r, CircuitRun run, bool withBackward) =>
        HostRun.Run(x, weight, c, r, run, withBackward, (inputs, batch, w) => DensityMatrix.Run(c, inputs, batch, w, r, run.Noise!, run.Seed));
}

/// <summary>The host simulators' common shape: tensors to arrays, the forward, and <see cref="Gradients.Compute"/> as the backward.</summary>
internal static class HostRun
{
    public static (Tensor, CircuitBackward?) Run(Tensor x, Tensor weight, Circuit c, Readout r, CircuitRun run, bool withBackward,
                                                 Func<float[], int, float[], float[]> forward)
    {
        int batch = x.Shape[0], width = r.Width(c.Qubits);
        var inputs = x.ToArray(); var w = weight.ToArray();
        var y = Tensor.FromArray(x.Device, forward(inputs, batch, w), batch, width);
        if (!withBackward) return (y, null);
        return (y, (g, inputGrads) =>
        {
            var (_, wg, ig) = Gradients.Compute(run.Method, c, inputs, batch, w, r, g.ToArray(), run.Seed, run.Noise, inputGrads: inputGrads);
            return (Tensor.FromArray(x.Device, wg, weight.Shape), inputGrads ? Tensor.FromArray(x.Device, ig, x.Shape) : null);
        });
    }
}
