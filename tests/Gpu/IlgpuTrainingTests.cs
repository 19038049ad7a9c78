using QGenEngine.Autograd;
using QGenEngine.Autograd.Optim;
using QGenEngine.Kernels;
using QGenEngine.Models;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Gpu;

/// <summary>Whole training steps of the study's VAE on an ILGPU backend against the fast CPU backend.</summary>
[TestFixture("ilgpu-cpu")]
[TestFixture("cuda")]
public class IlgpuTrainingTests(string backend) : TempDirTest
{
    private IDevice _dev = null!;

    [OneTimeSetUp]
    public void Open()
    {
        var why = Kernels.Gpu.GpuBackends.Unavailable(backend);
        if (why is not null) Assert.Ignore($"{backend}: {why}; the same tests ran on ilgpu-cpu");
        _dev = Backends.Get(backend);
    }

    private sealed record StepResult(float[] Losses, Dictionary<string, float[]> Grads, Dictionary<string, float[]> Params);

    /// <summary>One Adam step of the full VAE (same seed, same batch): loss, every gradient, every updated parameter.</summary>
    private static StepResult Steps(IDevice dev, int batch, VaeConfig? config = null)
    {
        var model = new Vae(dev, 5, config ?? new VaeConfig());
        var opt = new Adam(model.NamedParameters(), 1e-3f);
        var x = Tensor.FromArray(dev, TrainStepTests.Blobs(batch, 4), batch, 1, 28, 28);
        var losses = new float[1];
        Dictionary<string, float[]> grads = [];
        for (int i = 0; i < losses.Length; i++)
        {
            using var scope = TensorScope.Begin();
            opt.ZeroGrad();
            var (loss, _, _) = model.Loss(x);
            Graph.Backward(loss);
            if (i == 0) grads = model.NamedParameters().ToDictionary(p => p.Name, p => p.Param.Grad!.ToArray());
            opt.Step();
            losses[i] = loss.Item();
        }
        return new(losses, grads, model.NamedParameters().ToDictionary(p => p.Name, p => p.Param.ToArray()));
    }

    [Test]
    public void A_vae_training_step_matches_the_cpu_backend()
    {
        // Tolerances: float32 sums in another order (tiled GEMM, tree reductions) differ from the CPU's in the
        // last bits; relative to each tensor's largest value the gradients agree to 1e-3. Adam's first step moves
        // every weight by about lr·sign(g) = 1e-3, so a gradient near 0 may step differently: 2e-4 on parameters.
        // (ILGPU's CPU accelerator runs a 256-thread group as 256 OS threads, so one step at batch 2 is what a
        // test run affords; the cuda fixture runs the same check on a GPU.)
        const int batch = 2;
        AssertSameStep(Steps(_dev, batch), Steps(Backends.Cpu, batch));
    }

    private static void AssertSameStep(StepResult got, StepResult want)
    {
        Close.Assert(got.Losses, want.Losses, 1e-3, 1e-5, "loss");
        foreach (var (name, g) in want.Grads)
        {
            double scale = g.Max(v => Math.Abs((double)v));
            Close.Assert(got.Grads[name], g, 1e-3 * scale, 1e-3, $"gradient of {name}");
        }
        foreach (var (name, p) in want.Params) Close.Assert(got.Params[name], p, 2e-4, 1e-4, $"{name} after the Adam step");
    }

    [Test]
    public void A_qvae_training_step_with_its_circuit_on_the_device_matches_the_cpu_backend()
    {
        // The attention circuit runs as the simulator's kernels in the device's memory (QuantumLayer.ApplyOnDevice);
        // on the cpu backend it runs on the host simulator. Same tolerances as the VAE's step.
        const int batch = 2;
        var config = new VaeConfig(Attention: AttentionKind.Quantum);
        var want = Steps(Backends.Cpu, batch, config);
        Assert.That(want.Grads, Does.ContainKey("attn.circuit.weight"));
        AssertSameStep(Steps(_dev, batch, config), want);
    }

    [Test]
    public void The_circuit_layer_reads_nothing_back_to_the_host_in_steady_state()
    {
        var dev = (Kernels.Gpu.IlgpuDevice)_dev;
        var circuit = QGenEngine.Quantum.Circuit.Template(5, 2);
        var layer = new QGenEngine.Quantum.QuantumLayer(dev, new Generator(3), circuit, QGenEngine.Quantum.Readout.Probs);
        var cpuLayer = new QGenEngine.Quantum.QuantumLayer(Backends.Cpu, new Generator(3), circuit, QGenEngine.Quantum.Readout.Probs);
        var inputs = Support.Data.Make(4, 3 * 5, Support.Dist.Normal);
        var coef = Support.Data.Make(5, 3 * 32, Support.Dist.Normal);
        (float[] Y, float[] Wg, float[] Xg) Step(IDevice d, QGenEngine.Quantum.QuantumLayer l, Action? between = null)
        {
            using var scope = TensorScope.Begin();
            var x = Tensor.FromArray(d, inputs, 3, 5); x.RequiresGrad = true;
            var c = Tensor.FromArray(d, coef, 3, 32);
            l.Weight.Grad = null;
            var y = l.Forward(x);
            Graph.Backward(y.Mul(c).Sum());
            between?.Invoke();
            return (y.ToArray(), l.Weight.Grad!.ToArray(), x.Grad!.ToArray());
        }
        Step(dev, layer);   // the first call compiles and uploads the gate list
        long before = 0, after = 0;
        Step(dev, layer, () => before = dev.HostReads);
        var got = Step(dev, layer, () => after = dev.HostReads);
        // Between the two marks: the second step's reads of its results (3) and the third step's forward and backward.
        Assert.That(after - before, Is.EqualTo(3), "the third step read back only what the test itself asked for");
        // Launches are counted, the circuit's two kernels among them, and a steady step launches the same number each time.
        long l0 = 0, l1 = 0, l2 = 0;
        Step(dev, layer, () => l0 = dev.Launches);
        Step(dev, layer, () => l1 = dev.Launches);
        Step(dev, layer, () => l2 = dev.Launches);
        Assert.That(l1 - l0, Is.GreaterThanOrEqualTo(2), "at least the circuit's forward and backward kernels");
        Assert.That(l2 - l1, Is.EqualTo(l1 - l0), "launches per steady step");
        var want = Step(Backends.Cpu, cpuLayer);
        Close.Assert(got.Y, want.Y, 1e-5, 1e-4, "probabilities");
        Close.Assert(got.Wg, want.Wg, 1e-4, 1e-3, "angle gradients");
        Close.Assert(got.Xg, want.Xg, 1e-4, 1e-3, "input gradients");
    }

    [Test]
    public void A_checkpoint_written_on_this_backend_loads_on_the_cpu_and_gives_the_same_output()
    {
        var path = Path.Combine(Dir, "m.safetensors");
        var model = new Vae(_dev, 9);
        Checkpoint.Save(path, model);
        var cpu = new Vae(Backends.Cpu, 1);
        Checkpoint.Load(path, cpu);
        model.Eval(); cpu.Eval();
        using var _ = Graph.NoGrad();
        var x = TrainStepTests.Blobs(2, 6);
        var a = model.Decode(model.Encode(Tensor.FromArray(_dev, x, 2, 1, 28, 28)).Mu).ToArray();
        var b = cpu.Decode(cpu.Encode(Tensor.FromArray(Backends.Cpu, x, 2, 1, 28, 28)).Mu).ToArray();
        Close.Assert(a, b, 1e-4, 1e-4, "reconstruction logits, device model against the cpu copy");
    }
}
