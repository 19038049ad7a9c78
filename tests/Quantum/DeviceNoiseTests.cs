using System.Text.Json;
using QGenEngine.Quantum;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Quantum;

/// <summary>
/// Device noise models (issue #26): a calibration's channels against an independent NumPy density-matrix simulation
/// (tools/golden/make_device_noise_fixtures.py: Kraus operators, Pauli-twirl depolarising, Aer's sizing rule), the
/// noiseless limit, T1 and T2 decay, both JSON forms, and refusals.
/// </summary>
[TestFixture]
public class DeviceNoiseTests : TempDirTest
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "device-noise", name);

    private static (Circuit Circuit, float[] Weights) Build(int n, JsonElement gates)
    {
        var list = new List<Gate>(); var w = new List<float>();
        foreach (var g in gates.EnumerateArray())
        {
            string kind = g[0].GetString()!; int a = g[1].GetInt32(), b = g[2].GetInt32(); float angle = (float)g[3].GetDouble();
            switch (kind)
            {
                case "h": list.Add(new Gate(GateKind.H, a)); break;
                case "cx": list.Add(new Gate(GateKind.CNOT, a, b)); break;
                case "cz": list.Add(new Gate(GateKind.CZ, a, b)); break;
                default:
                    var k = kind == "rx" ? GateKind.RX : kind == "ry" ? GateKind.RY : GateKind.RZ;
                    list.Add(new Gate(k, a, -1, AngleSource.Weight, w.Count)); w.Add(angle); break;
            }
        }
        return (new Circuit(n, 0, Entangler.Linear, Encoding.Angle, list, w.Count), w.ToArray());
    }

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    [Test]
    public void Calibrated_noise_equals_numpy_golden_values()
    {
        var root = JsonDocument.Parse(File.ReadAllText(Fixture("golden.json"))).RootElement;
        int cases = 0;
        foreach (var k in root.GetProperty("cases").EnumerateArray())
        {
            int n = k.GetProperty("qubits").GetInt32();
            var (c, w) = Build(n, k.GetProperty("gates"));
            var device = DeviceNoise.Load(Fixture(k.GetProperty("device").GetString()!));
            var inputs = new float[n];
            var noisy = DensityMatrix.RunProbabilities(c, inputs, 1, w, NoiseModel.Of(device));
            Close.Assert(noisy, Doubles(k.GetProperty("noisy")), 1e-12, 1e-10, $"{k.GetProperty("name")}: noisy distribution");
            // The readout confusion alone: the same qubits with T1, T2 = ∞ and error-free gates.
            var readoutOnly = new DeviceNoise("readout", device.Qubits.Select(q => q with { T1 = double.PositiveInfinity, T2 = double.PositiveInfinity }).ToArray(),
                [("h", null, new GateCalibration(0, 0)), ("sx", null, new GateCalibration(0, 0)), ("cx", null, new GateCalibration(0, 0)), ("cz", null, new GateCalibration(0, 0))]);
            var ro = DensityMatrix.RunProbabilities(c, inputs, 1, w, NoiseModel.Of(readoutOnly));
            Close.Assert(ro, Doubles(k.GetProperty("readout_only")), 1e-12, 1e-10, $"{k.GetProperty("name")}: readout confusion");
            Assert.That(ro.Zip(Doubles(k.GetProperty("ideal"))).Max(t => Math.Abs(t.First - t.Second)), Is.GreaterThan(1e-3), "the confusion changes the distribution");
            cases++;
        }
        Assert.That(cases, Is.EqualTo(3));
    }

    [Test]
    public void Depolarizing_parameter_follows_aers_rule()
    {
        var root = JsonDocument.Parse(File.ReadAllText(Fixture("golden.json"))).RootElement;
        foreach (var d in root.GetProperty("depolarizing").EnumerateArray())
        {
            int k = d.GetProperty("qubits").GetInt32();
            var dev = new DeviceNoise("x", [new QubitCalibration(d.GetProperty("t1").GetDouble(), d.GetProperty("t2").GetDouble(), 0, 0)], []);
            var relax = dev.Relaxation(0, d.GetProperty("duration").GetDouble());
            double fpro = k == 1 ? relax.ProcessFidelity : relax.ProcessFidelity * relax.ProcessFidelity;
            int dim = 1 << k;
            Assert.That((dim * fpro + 1) / (dim + 1), Is.EqualTo(d.GetProperty("relax_avg_fidelity").GetDouble()).Within(1e-14), "relaxation's average gate fidelity");
            Assert.That(DeviceNoise.DepolarizingParameter(d.GetProperty("error").GetDouble(), fpro, k), Is.EqualTo(d.GetProperty("lam").GetDouble()).Within(1e-13), "λ");
        }
    }

    [TestCase(Entangler.Linear)]
    [TestCase(Entangler.All)]
    public void Noiseless_limit_is_the_exact_simulator(Entangler e)
    {
        var c = Circuit.Template(4, 2, e);
        var ideal = new DeviceNoise("ideal", Enumerable.Repeat(new QubitCalibration(double.PositiveInfinity, double.PositiveInfinity, 0, 0), 4).ToArray(),
            [("h", null, new GateCalibration(50e-9, 0)), ("sx", null, new GateCalibration(35e-9, 0)), ("cx", null, new GateCalibration(400e-9, 0))]);
        var rng = new Random(5);
        var x = Enumerable.Range(0, 3 * 4).Select(_ => (float)(rng.NextDouble() * 3)).ToArray();
        var w = Enumerable.Range(0, c.WeightCount).Select(_ => (float)(rng.NextDouble() * 6)).ToArray();
        var dm = DensityMatrix.RunProbabilities(c, x, 3, w, NoiseModel.Of(ideal));
        var sv = Simulator.Run<double>(c, x, 3, w, Readout.Probs);
        Close.Assert(dm, sv.Select(v => (double)v).ToArray(), 1e-7, 1e-6, "T1, T2 = ∞ and no errors: the state vector's probabilities");
    }

    [TestCase(20e-6, 50e-6, 30e-6)]
    [TestCase(1e-6, 80e-6, 160e-6)]
    [TestCase(100e-6, 40e-6, 10e-6)]
    public void An_idling_qubit_decays_as_exp_t_over_T1_and_dephases_as_exp_t_over_T2(double t, double t1, double t2)
    {
        // RX(π) takes |0⟩ to |1⟩ instantly (the rx calibration is "sx" with no time); then RZ(0) idles for t.
        var q = new QubitCalibration(t1, t2, 0, 0);
        var dev = new DeviceNoise("idle", [q], [("sx", null, new GateCalibration(0, 0)), ("h", null, new GateCalibration(0, 0)), ("rz", null, new GateCalibration(t, 0))]);
        var flip = new Circuit(1, 0, Entangler.Linear, Encoding.Angle, [new Gate(GateKind.RX, 0, -1, AngleSource.Weight, 0), new Gate(GateKind.RZ, 0, -1, AngleSource.Weight, 1)], 2);
        var p = DensityMatrix.RunProbabilities(flip, [0f], 1, [MathF.PI, 0f], NoiseModel.Of(dev));
        double rxPi = Math.Sin(MathF.PI / 2.0) * Math.Sin(MathF.PI / 2.0);   // float π: not exactly 1
        Assert.That(p[1], Is.EqualTo(rxPi * Math.Exp(-t / t1)).Within(1e-12), "population of |1⟩ after t");
        // H, idle t, H: p(0) = (1 + e^(−t/T2)) / 2 - the coherence alone, whatever T1 did to the populations.
        var ramsey = new Circuit(1, 0, Entangler.Linear, Encoding.Angle, [new Gate(GateKind.H, 0), new Gate(GateKind.RZ, 0, -1, AngleSource.Weight, 0), new Gate(GateKind.H, 0)], 1);
        var r = DensityMatrix.RunProbabilities(ramsey, [0f], 1, [0f], NoiseModel.Of(dev));
        Assert.That(r[0], Is.EqualTo((1 + Math.Exp(-t / t2)) / 2).Within(1e-12), "Ramsey fringe at zero detuning");
    }

    [Test]
    public void Ibm_backend_properties_are_read_with_their_units()
    {
        var d = DeviceNoise.Load(Fixture("ibm_properties.json"));
        Assert.That(d.Name, Is.EqualTo("fake_ibm_5q"));
        Assert.That(d.Qubits, Has.Count.EqualTo(5));
        Assert.That(d.Qubits[0].T1, Is.EqualTo(112.4e-6).Within(1e-15));
        Assert.That(d.Qubits[3].T1, Is.EqualTo(71.5e-6).Within(1e-15), "T1 given in ms");
        Assert.That(d.Qubits[0].P0Given1, Is.EqualTo(0.0302)); Assert.That(d.Qubits[0].P1Given0, Is.EqualTo(0.0124));
        Assert.That(d.Qubits[2].P0Given1, Is.EqualTo(0.041), "readout_error when the asymmetric ones are missing");
        Assert.That(d.For(GateKind.CNOT, 1, 0).Duration, Is.EqualTo(440.9e-9).Within(1e-18), "the direction's own entry");
        Assert.That(d.For(GateKind.CNOT, 4, 3).Error, Is.EqualTo(0.0143), "the other direction's when only one is listed");
        var ry = d.For(GateKind.RY, 2);
        Assert.That(ry.Duration, Is.EqualTo(2 * 35.55e-9).Within(1e-18)); Assert.That(ry.Error, Is.EqualTo(1 - (1 - 0.00028) * (1 - 0.00028)).Within(1e-16));
        Assert.That(d.For(GateKind.H, 4).Error, Is.EqualTo(0.00019), "h is one sx pulse");
        Assert.That(d.For(GateKind.RZ, 3), Is.EqualTo(new GateCalibration(0, 0)), "rz is virtual");
        var ex = Assert.Throws<ArgumentException>(() => d.For(GateKind.CNOT, 0, 4));
        Assert.That(ex!.Message, Does.Contain("qubits (0, 4)").And.Contain("fake_ibm_5q"));
    }

    [TestCase("{\"qubits\": [{\"t1_us\": 50, \"t2_us\": 120}]}", "T2 = 120 µs exceeds 2·T1 = 100 µs")]
    [TestCase("{\"qubits\": [{\"t1_us\": 50, \"t2_us\": 20, \"p0_given_1\": 1.5}]}", "must be probabilities")]
    [TestCase("{\"qubits\": [{\"t1_us\": \"long\"}]}", "qubits[0].t1_us is \"long\", expected a number")]
    [TestCase("{\"qubits\": []}", "non-empty list \"qubits\"")]
    [TestCase("[1, 2]", "non-empty list \"qubits\"")]
    [TestCase("{\"qubits\": [{\"t1_us\": 50}], \"gates\": [{\"gate\": \"cx\", \"error\": 0.9}]}", "gate cx: error 0.9 is outside [0, 0.8]")]
    [TestCase("{\"qubits\": [{\"t1_us\": 50}], \"gates\": [{\"gate\": \"cx\", \"qubits\": [0, 3], \"error\": 0.01}]}", "gate cx on qubit 3: the device has qubits 0 .. 0")]
    [TestCase("{\"qubits\": [{", "not valid JSON")]
    public void Bad_noise_models_are_refused_naming_the_file(string json, string expected)
    {
        var path = Path.Combine(Dir, "bad.json");
        File.WriteAllText(path, json);
        var ex = Assert.Throws<FormatException>(() => DeviceNoise.Load(path));
        Assert.That(ex!.Message, Does.StartWith(path + ": ").And.Contain(expected));
    }

    [Test]
    public void A_circuit_wider_than_the_device_is_refused()
    {
        var d = DeviceNoise.Load(Fixture("device.json"));
        var ex = Assert.Throws<ArgumentException>(() => DensityMatrix.RunProbabilities(Circuit.Template(4, 1), new float[4], 1, new float[8], NoiseModel.Of(d)));
        Assert.That(ex!.Message, Does.Contain("calibrates 3 qubits; the circuit has 4"));
    }
}
