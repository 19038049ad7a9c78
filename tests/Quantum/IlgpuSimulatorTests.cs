using QGenEngine.Quantum;
using QGenEngine.Quantum.Gpu;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Quantum;

/// <summary>The ILGPU kernels against the CPU simulator, on ILGPU's CPU accelerator (every run) and on CUDA where present.</summary>
[TestFixture("ilgpu-cpu")]
[TestFixture("cuda")]
public class IlgpuSimulatorTests(string backend)
{
    private IlgpuSimulator? _sim;

    [OneTimeSetUp]
    public void Start()
    {
        _sim = backend == "cuda" ? IlgpuSimulator.TryCreateCuda() : IlgpuSimulator.CreateCpu();
        if (_sim is null) Assert.Ignore("no CUDA device on this machine; the same tests ran on ilgpu-cpu");
    }

    [OneTimeTearDown] public void Stop() => _sim?.Dispose();

    private static float[] Rand(int seed, int n, double scale = Math.PI)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((r.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    public static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(3, 2, Entangler.Linear, "probs", Encoding.Angle);
        yield return new TestCaseData(4, 3, Entangler.Circular, "expval", Encoding.Angle);
        yield return new TestCaseData(5, 2, Entangler.All, "probs", Encoding.Angle);
        yield return new TestCaseData(8, 3, Entangler.Linear, "probs", Encoding.Angle);
        yield return new TestCaseData(3, 2, Entangler.Linear, "probs", Encoding.Amplitude);
    }

    [TestCaseSource(nameof(Cases))]
    public void Kernel_forward_and_adjoint_match_the_cpu_simulator(int n, int layers, Entangler e, string readout, Encoding enc)
    {
        var c = Circuit.Template(n, layers, e, enc);
        var r = Readout.Parse(readout);
        int batch = 5;
        var x = Rand(1, batch * c.InputCount); var w = Rand(2, c.WeightCount); var g = Rand(3, batch * r.Width(n), 1);
        var (y, wg, ig) = Simulator.Adjoint(c, x, batch, w, r, g);
        Close.Assert(_sim!.Run(c, x, batch, w, r), y, 1e-5, 1e-4, "forward");
        var (gy, gwg, gig) = _sim.Adjoint(c, x, batch, w, r, g);
        Close.Assert(gy, y, 1e-5, 1e-4, "readout");
        Close.Assert(gwg, wg, 1e-4, 1e-3, "weight gradient");
        Close.Assert(gig, ig, 1e-4, 1e-3, "input gradient");
    }
}

[TestFixture]
public class PtxCompileTests
{
    [Test]
    public void Quantum_kernels_compile_to_ptx_without_a_gpu()
    {
        foreach (var name in new[] { "ForwardKernel", "BackwardKernel" })
        {
            var ptx = IlgpuSimulator.CompilePtx(name);
            Assert.That(ptx, Does.Contain(".entry"), name);
            Assert.That(ptx, Does.Contain(".target sm_"), name);
            Assert.That(ptx, Does.Contain("__dyn_shared_alloca"), "the state lives in dynamic shared memory");
        }
    }
}
