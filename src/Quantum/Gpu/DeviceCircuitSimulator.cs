using QGenEngine.Autograd;
using QGenEngine.Kernels.Gpu;
using QGenEngine.Tensors;

namespace QGenEngine.Quantum.Gpu;

/// <summary>
/// On an ILGPU device (cuda, opencl, ilgpu-cpu): the simulator's kernels on the device's own accelerator and stream,
/// reading the inputs and angles where they are and writing the readout and gradients into device tensors - no host
/// round trip, forward or backward. When a backward is wanted the forward keeps each circuit's final state, and the
/// backward is the adjoint pass alone from it. Pure states, exact readouts, the adjoint, up to
/// <see cref="IlgpuSimulator.MaxBackwardQubits"/> qubits; anything else goes to the host simulators.
/// </summary>
public sealed class DeviceCircuitSimulator : ICircuitSimulator
{
    public string Name => "device";
    public SimulatorSupport Supports { get; } = new(Shots: false, Noise: false, [GradMethod.Adjoint], "single", DeviceMemory: true);

    public bool Accepts(IDevice device, Circuit c, Readout r, CircuitRun run) =>
        device is IlgpuDevice && run.PureAdjoint(r) && IlgpuSimulator.Fits(c, r);

    public (Tensor Readout, CircuitBackward? Backward) Run(Tensor x, Tensor weight, Circuit c, Readout r, CircuitRun run, bool withBackward)
    {
        var dev = (IlgpuDevice)x.Device;
        var sim = IlgpuSimulator.On(dev);
        var (y, state) = sim.Forward(dev, c, x, weight, r, keepState: withBackward);
        if (!withBackward) return (y, null);
        return (y, (g, inputGrads) =>
        {
            var (wg, ig) = sim.Backward(dev, c, x, weight, state!, r, g);
            return (c.WeightCount == 0 ? Tensor.Zeros(dev, weight.Shape) : wg.Reshape(weight.Shape), inputGrads ? ig : null);
        });
    }
}
