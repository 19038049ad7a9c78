using QGenEngine.Kernels;
using QGenEngine.Quantum;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Quantum;

/// <summary>
/// What every circuit simulator must do, written once (as <see cref="Conformance.BackendConformance"/> is for the
/// kernels): its readout equals the dense reference's (full unitaries in double, <see cref="DenseReference"/>), and
/// for every gradient method it says it supports, the angles' and inputs' gradients equal central differences of
/// that reference in double. Each simulator binds it with a one-line subclass naming the device it runs on.
/// </summary>
public abstract class SimulatorConformance(string simulator, string device)
{
    private ICircuitSimulator _sim = null!;
    private IDevice _dev = null!;

    [OneTimeSetUp]
    public void Open()
    {
        if (device is "cuda" && QGenEngine.Kernels.Gpu.GpuBackends.Unavailable(device) is { } why) Assert.Ignore($"{device}: {why}; the same suite ran on ilgpu-cpu");
        _dev = Backends.Get(device);
        _sim = CircuitSimulators.Get(simulator);
    }

    public static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(3, 2, Entangler.Linear, "probs", Encoding.Angle);
        yield return new TestCaseData(4, 2, Entangler.Circular, "expval", Encoding.Angle);
        yield return new TestCaseData(4, 1, Entangler.All, "probs", Encoding.Angle);
        yield return new TestCaseData(2, 2, Entangler.Linear, "expval", Encoding.Amplitude);
    }

    /// <summary>A run the simulator takes: the density matrix is given a noise model with no noise (so the reference is exact).</summary>
    private CircuitRun Run(GradMethod method) =>
        new(method, 7, _sim.Supports.Noise && !_sim.Supports.GradMethods.Contains(GradMethod.Adjoint) ? NoiseModel.Parse("readout=0") : null);

    private static double[] Rand(int seed, int n, double scale)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => Math.Round((r.NextDouble() * 2 - 1) * scale, 4)).ToArray();
    }

    private const int Batch = 3;

    /// <summary>A tensor of the values: exactly on a double-precision device, rounded to float elsewhere.</summary>
    private Tensor Upload(double[] v, params int[] shape)
    {
        if (_dev is not IExactDevice exact) return Tensor.FromArray(_dev, v.Select(d => (float)d).ToArray(), shape);
        var t = Tensor.Empty(_dev, shape); exact.UploadExact(v, t); return t;
    }

    private double[] Download(Tensor t)
    {
        var d = new double[t.Numel];
        if (_dev is IExactDevice exact) exact.DownloadExact(t, d);
        else { var f = t.ToArray(); for (int i = 0; i < d.Length; i++) d[i] = f[i]; }
        return d;
    }
    private double Tolerance => _sim.Supports.Precision == "double" ? 1e-10 : 2e-5;

    [TestCaseSource(nameof(Cases))]
    public void Readout_matches_the_dense_reference(int n, int layers, Entangler e, string readout, Encoding enc)
    {
        var c = Circuit.Template(n, layers, e, enc); var r = QGenEngine.Quantum.Readout.Parse(readout);
        var x = Rand(1, Batch * c.InputCount, enc == Encoding.Angle ? Math.PI : 1); var w = Rand(2, c.WeightCount, Math.PI);
        var run = Run(_sim.Supports.GradMethods[0]);
        var (y, _) = _sim.Run(Upload(x, Batch, c.InputCount), Upload(w, layers, n, 2), c, r, run, withBackward: false);
        int width = r.Width(n);
        var want = Enumerable.Range(0, Batch).SelectMany(b => DenseReference.Readout(c, x[(b * c.InputCount)..((b + 1) * c.InputCount)], w, r)).ToArray();
        Close.Assert(Download(y), want, Tolerance, 0, $"{simulator} readout on {device}");
        Assert.That(y.Shape, Is.EqualTo(new[] { Batch, width }));
    }

    [TestCaseSource(nameof(Cases))]
    public void Every_supported_gradient_matches_central_differences_of_the_reference(int n, int layers, Entangler e, string readout, Encoding enc)
    {
        var c = Circuit.Template(n, layers, e, enc); var r = QGenEngine.Quantum.Readout.Parse(readout);
        var x = Rand(3, Batch * c.InputCount, enc == Encoding.Angle ? Math.PI : 1); var w = Rand(4, c.WeightCount, Math.PI);
        int width = r.Width(n);
        var cot = Rand(5, Batch * width, 1);
        double F(double[] xs, double[] ws)
        {
            double s = 0;
            for (int b = 0; b < Batch; b++)
            {
                var y = DenseReference.Readout(c, xs[(b * c.InputCount)..((b + 1) * c.InputCount)], ws, r);
                for (int j = 0; j < width; j++) s += cot[b * width + j] * y[j];
            }
            return s;
        }
        double[] Fd(double[] v, Func<double[], double> f)
        {
            const double h = 1e-5;
            return v.Select((_, i) => { var p = (double[])v.Clone(); var m = (double[])v.Clone(); p[i] += h; m[i] -= h; return (f(p) - f(m)) / (2 * h); }).ToArray();
        }
        var wantW = Fd(w, ws => F(x, ws));
        // Amplitude encoding normalises its inputs, so their gradient is along the sphere: only angle inputs are compared.
        var wantX = enc == Encoding.Angle ? Fd(x, xs => F(xs, w)) : null;
        foreach (var method in _sim.Supports.GradMethods)
        {
            var run = Run(method);
            var (_, backward) = _sim.Run(Upload(x, Batch, c.InputCount), Upload(w, layers, n, 2), c, r, run, withBackward: true);
            Assert.That(backward, Is.Not.Null);
            var (wg, ig) = backward!(Upload(cot, Batch, width), true);
            // Finite differences in float (fd) are as good as float's epsilon over their step allows.
            double tol = method == GradMethod.Fd ? 2e-3 : _sim.Supports.Precision == "double" ? 1e-7 : 2e-4;
            Close.Assert(Download(wg), wantW, tol, tol, $"{simulator} {method} angle gradients on {device}");
            if (wantX is not null) Close.Assert(Download(ig!), wantX, tol, tol, $"{simulator} {method} input gradients on {device}");
        }
    }

    [Test]
    public void It_accepts_what_it_claims_to_support()
    {
        var c = Circuit.Template(3, 1, Entangler.Linear, Encoding.Angle);
        Assert.That(_sim.Accepts(_dev, c, QGenEngine.Quantum.Readout.Parse("shots:16"), new CircuitRun(GradMethod.Shift, 1, _sim.Supports.Noise ? NoiseModel.Parse("depolarizing=0.01") : null)),
                    Is.EqualTo(_sim.Supports.Shots), "a shots readout");
        Assert.That(_sim.Accepts(_dev, c, QGenEngine.Quantum.Readout.Parse("probs"), new CircuitRun(GradMethod.Shift, 1, NoiseModel.Parse("depolarizing=0.01"))),
                    Is.EqualTo(_sim.Supports.Noise), "a noise model");
    }
}

[TestFixture] public sealed class ExactSimulatorConformance() : SimulatorConformance("exact", "reference");
[TestFixture] public sealed class StateVectorConformance() : SimulatorConformance("state-vector", "cpu");
[TestFixture] public sealed class DensityMatrixConformance() : SimulatorConformance("density-matrix", "cpu");
[TestFixture] public sealed class IlgpuCpuCircuitConformance() : SimulatorConformance("device", "ilgpu-cpu");
[TestFixture] public sealed class CudaCircuitConformance() : SimulatorConformance("device", "cuda");

/// <summary>Which simulator runs what: the most specific that accepts the device and the run.</summary>
[TestFixture]
public class SimulatorChoiceTests
{
    [TestCase("reference", "probs", "adjoint", false, "exact")]
    [TestCase("reference", "shots:8", "shift", false, "state-vector")]
    [TestCase("cpu", "probs", "adjoint", false, "state-vector")]
    [TestCase("cpu", "probs", "shift", true, "density-matrix")]
    [TestCase("ilgpu-cpu", "expval", "adjoint", false, "device")]
    [TestCase("ilgpu-cpu", "shots:8", "shift", false, "state-vector")]
    [TestCase("ilgpu-cpu", "probs", "shift", true, "density-matrix")]
    public void The_most_specific_simulator_runs_it(string device, string readout, string grad, bool noisy, string expected)
    {
        var c = Circuit.Template(3, 1, Entangler.Linear, Encoding.Angle);
        var method = grad == "adjoint" ? GradMethod.Adjoint : GradMethod.Shift;
        var run = new CircuitRun(method, 1, noisy ? NoiseModel.Parse("depolarizing=0.01") : null);
        Assert.That(CircuitSimulators.For(Backends.Get(device), c, QGenEngine.Quantum.Readout.Parse(readout), run).Name, Is.EqualTo(expected));
    }
}
