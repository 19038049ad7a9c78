using System.Text.Json.Nodes;
using QGenEngine.Kernels.Reference;
using QGenEngine.Models;
using QGenEngine.Models.Data;
using QGenEngine.Models.Metrics;
using QGenEngine.Quantum;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Cli;

/// <summary>
/// Trained circuits to hardware and back (issue #26), end to end through the CLI on one tiny qgan (4 qubits): `qasm`
/// exports the run's generator once per latent row, `sample --counts` generates from measured counts in either dialect,
/// `sample` / `eval --noise-model` run the circuits under a device's calibration; and the refusals.
/// </summary>
[TestFixture]
public class HardwareCliTests : TempDirTest
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);
    private static string Noise(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "device-noise", name);

    private string _shared = "", _qgan = "", _gan = "", _qvae = "", _latents = "";
    private const int Rows = 5;

    [OneTimeSetUp]
    public void TrainOnce()
    {
        _shared = Path.Combine(Path.GetTempPath(), "qgen-hw-" + Guid.NewGuid().ToString("N"));
        _qgan = Path.Combine(_shared, "qgan"); _gan = Path.Combine(_shared, "gan");
        var (code, o, e) = Run("train", "qgan", "--qubits", "4", "--layers", "2", "--epochs", "1", "--limit", "64", "--fid-every", "0", "--out", _qgan);
        Assert.That(code, Is.Zero, e + o);
        (code, o, e) = Run("train", "gan", "--epochs", "1", "--limit", "64", "--fid-every", "0", "--out", _gan);
        Assert.That(code, Is.Zero, e + o);
        _qvae = Path.Combine(_shared, "qvae");
        (code, o, e) = Run("train", "qvae", "--epochs", "1", "--limit", "64", "--fid-every", "0", "--eval-images", "10", "--out", _qvae);
        Assert.That(code, Is.Zero, e + o);
        var rng = new Random(9);
        _latents = Path.Combine(_shared, "z.npy");
        Npy.Write(_latents, Enumerable.Range(0, Rows * 4).Select(_ => (float)(rng.NextDouble() * Math.PI)).ToArray(), Rows, 4);
    }

    [OneTimeTearDown]
    public void RemoveShared() { try { Directory.Delete(_shared, true); } catch (IOException) { } }

    private (Gan Model, QuantumLayer Layer, float[] Z) Load()
    {
        var (model, _) = ModelCatalog.LoadRun(_qgan, ReferenceDevice.Instance);
        var gan = (Gan)model;
        return (gan, gan.GeneratingCircuit!, Npy.Read(_latents).Data);
    }

    [TestCase("qiskit")]
    [TestCase("braket")]
    public void Qasm_exports_the_runs_circuit_per_latent_row_and_the_programs_give_its_probabilities(string dialect)
    {
        var outDir = Path.Combine(Dir, "qasm");
        var (code, o, e) = Run("qasm", "--run", _qgan, "--latents", _latents, "--dialect", dialect, "--out", outDir);
        Assert.That(code, Is.Zero, e);
        Assert.That(o, Does.Contain($"wrote {Rows} programs").And.Contain("sample --run"));
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "manifest.json")))!;
        Assert.That(manifest["model"]!.GetValue<string>(), Is.EqualTo("qgan"));
        Assert.That(manifest["dialect"]!.GetValue<string>(), Is.EqualTo(dialect));
        Assert.That(manifest["qubits"]!.GetValue<int>(), Is.EqualTo(4));
        Assert.That(manifest["programs"]!.AsArray(), Has.Count.EqualTo(Rows));
        var (_, layer, z) = Load();
        var w = layer.Weight.ToArray();
        var want = Simulator.Run<double>(layer.Circuit, z, Rows, w, Readout.Probs);
        for (int r = 0; r < Rows; r++)
        {
            var prog = Qasm.Parse(File.ReadAllText(Path.Combine(outDir, $"{r:D4}.qasm")));
            Assert.That(prog.Dialect.ToString().ToLowerInvariant(), Is.EqualTo(dialect));
            var got = Simulator.Run<double>(prog.Circuit, new float[4], 1, prog.Weights, Readout.Probs);
            Close.Assert(got, want.AsSpan(r * 16, 16).ToArray().Select(v => (double)v).ToArray(), 1e-6, 0, $"row {r}");
        }
    }

    [TestCase(QasmDialect.Qiskit)]
    [TestCase(QasmDialect.Braket)]
    public void Sample_from_counts_gives_the_shots_readouts_images_and_the_wrong_order_does_not(QasmDialect dialect)
    {
        var (gan, layer, z) = Load();
        var dev = ReferenceDevice.Instance;
        const int shots = 400;
        // The run's own circuit with a shots readout (the simulator's sampler), as a device would measure it.
        using var sampledT = QuantumLayer.Apply(Tensor.FromArray(dev, z, Rows, 4), layer.Weight, layer.Circuit, new Readout(ReadoutKind.Shots, shots), GradMethod.Shift, seed: 3);
        var sampled = sampledT.ToArray();
        var counts = sampled.Select(p => (int)Math.Round(p * shots)).ToArray();
        string name = dialect.ToString().ToLowerInvariant(), other = dialect == QasmDialect.Qiskit ? "braket" : "qiskit";
        var countsFile = Path.Combine(Dir, "counts.json");
        File.WriteAllText(countsFile, MeasuredCounts.Write(counts, Rows, 4, dialect).ToJsonString());
        string right = Path.Combine(Dir, "right.npy"), wrong = Path.Combine(Dir, "wrong.npy");
        var (code, o, e) = Run("sample", "--run", _qgan, "--latents", _latents, "--counts", countsFile, "--dialect", name, "--format", "npy", "--out", right);
        Assert.That(code, Is.Zero, e);
        Assert.That(o, Does.Contain("from the counts in"));
        Assert.That(Run("sample", "--run", _qgan, "--latents", _latents, "--counts", countsFile, "--dialect", other, "--format", "npy", "--out", wrong).Code, Is.Zero);
        var want = Evaluation.GenerateFromReadout(gan, dev, sampled, Rows);
        var got = Npy.Read(right).Data;
        Close.Assert(got, want, 1e-6, 0, "images from the counts = the generator on the shots readout");
        Assert.That(Npy.Read(wrong).Data.Zip(want).Max(t => Math.Abs(t.First - t.Second)), Is.GreaterThan(1e-3), "counts read in the other dialect's order give other images");
    }

    [TestCase("qiskit")]
    [TestCase("braket")]
    public void A_qvaes_attention_is_exported_per_image_and_its_counts_reconstruct_those_images(string dialect)
    {
        const int images = 3;
        var outDir = Path.Combine(Dir, "qasm");
        var (code, o, e) = Run("qasm", "--run", _qvae, "--images", $"mnist:test:{images}", "--dialect", dialect, "--out", outDir);
        Assert.That(code, Is.Zero, e);
        Assert.That(o, Does.Contain($"wrote {images} programs").And.Contain("eval --run"));
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "manifest.json")))!;
        Assert.That(manifest["part"]!.GetValue<string>(), Is.EqualTo("attention"));
        Assert.That(manifest["images"]!.GetValue<string>(), Is.EqualTo($"mnist:test:{images}"));
        // Each program is the attention circuit with that image's angles: read back, it gives the model's own readout.
        var dev = ReferenceDevice.Instance;
        var (model, _) = ModelCatalog.LoadRun(_qvae, dev);
        var vae = (Vae)model;
        var layer = vae.InputCircuit!;
        var test = QGenEngine.Cli.ImageSets.Load($"mnist:test:{images}", dev);
        var angles = Evaluation.CircuitInputs(vae, dev, test.Pixels, images);
        var want = Simulator.Run<double>(layer.Circuit, angles, images, layer.Weight.ToArray(), Readout.Probs);
        for (int r = 0; r < images; r++)
        {
            var prog = Qasm.Parse(File.ReadAllText(Path.Combine(outDir, $"{r:D4}.qasm")));
            var got = Simulator.Run<double>(prog.Circuit, new float[8], 1, prog.Weights, Readout.Probs);
            Close.Assert(got, want.AsSpan(r * 256, 256).ToArray().Select(v => (double)v).ToArray(), 1e-6, 0, $"image {r}");
        }
        // Counts with 10^9 shots in the dialect's order: the reconstructions are the simulator's; in the other order they are not.
        var counts = want.Select(v => (int)Math.Round(v * 1e9)).ToArray();
        var countsFile = Path.Combine(Dir, "device.json");
        File.WriteAllText(countsFile, MeasuredCounts.Write(counts, images, 8, Qasm.ParseDialect(dialect)).ToJsonString());
        string run = Path.Combine(Dir, "run");
        CopyDir(_qvae, run);
        (code, o, e) = Run("eval", "--run", run, "--counts", countsFile, "--dialect", dialect, "--images", $"mnist:test:{images}");
        Assert.That(code, Is.Zero, e);
        Assert.That(o, Does.Contain("attention from the counts"));
        var j = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval-counts-device.json")))!;
        double Get(string k) => j[k]!.GetValue<double>();
        Assert.That(j["rows"]!.GetValue<int>(), Is.EqualTo(images));
        Assert.That(Get("test_bce"), Is.EqualTo(Get("simulator_test_bce")).Within(1e-3), "10^9 shots: the simulator's reconstructions");
        Assert.That(Get("test_ssim"), Is.EqualTo(Get("simulator_test_ssim")).Within(1e-5));
        Assert.That(File.Exists(Path.Combine(run, "eval.json")), Is.False, "eval.json untouched");
        string other = dialect == "qiskit" ? "braket" : "qiskit";
        Assert.That(Run("eval", "--run", run, "--counts", countsFile, "--dialect", other, "--images", $"mnist:test:{images}").Code, Is.Zero);
        var wrong = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval-counts-device.json")))!;
        Assert.That(Math.Abs(wrong["test_bce"]!.GetValue<double>() - Get("simulator_test_bce")), Is.GreaterThan(1e-2), "the other bit order gives other reconstructions");
    }

    [TestCase("probs", 8)]
    [TestCase("expval", 4)]
    [TestCase("expval", 5)]
    public void Reconstruction_from_the_circuits_exact_probabilities_is_the_models_own(string readout, int qubits)
    {
        // The measured-probabilities path (expval made from them as <Z_q> = sum_b p_b (1 - 2 b_q)) against the model's forward.
        var dev = ReferenceDevice.Instance;
        var vae = new Vae(dev, 5, new VaeConfig(Attention: AttentionKind.Quantum, Qubits: qubits, Readout: readout));
        var rng = new Random(2);
        const int n = 4;
        var x = Enumerable.Range(0, n * 784).Select(_ => (float)rng.NextDouble()).ToArray();
        var layer = vae.InputCircuit!;
        var angles = Evaluation.CircuitInputs(vae, dev, x, n);
        var p = Simulator.Run<double>(layer.Circuit, angles, n, layer.Weight.ToArray(), Readout.Probs).Select(v => (float)v).ToArray();
        var (bce, ssim) = Evaluation.ReconstructionScoresFromProbabilities(vae, dev, x, p, n);
        var (wantBce, wantSsim) = Evaluation.ReconstructionScoresPerImage(vae, dev, x, n);
        Close.Assert(bce, wantBce, 1e-4, 1e-6, "BCE");
        Close.Assert(ssim, wantSsim, 1e-5, 0, "SSIM");
        Assert.That(new Vae(dev, 5, new VaeConfig(Attention: AttentionKind.Softmax)).InputCircuit, Is.Null, "the classical control has no circuit to export");
    }

    [Test]
    public void Counts_with_many_shots_approach_the_noiseless_samples()
    {
        var (_, layer, z) = Load();
        var p = Simulator.Run<double>(layer.Circuit, z, Rows, layer.Weight.ToArray(), Readout.Probs);
        var counts = p.Select(v => (int)Math.Round(v * 1e7)).ToArray();
        var countsFile = Path.Combine(Dir, "counts.json");
        File.WriteAllText(countsFile, MeasuredCounts.Write(counts, Rows, 4, QasmDialect.Braket).ToJsonString());
        string fromCounts = Path.Combine(Dir, "c.npy"), exact = Path.Combine(Dir, "e.npy");
        Assert.That(Run("sample", "--run", _qgan, "--latents", _latents, "--counts", countsFile, "--dialect", "braket", "--format", "npy", "--out", fromCounts).Code, Is.Zero);
        Assert.That(Run("sample", "--run", _qgan, "--latents", _latents, "--format", "npy", "--out", exact).Code, Is.Zero);
        Close.Assert(Npy.Read(fromCounts).Data, Npy.Read(exact).Data, 2e-3, 0, "10^7 shots: the simulator's own generation");
    }

    [Test]
    public void Sample_and_eval_under_a_device_noise_model()
    {
        string noisy = Path.Combine(Dir, "noisy.npy"), clean = Path.Combine(Dir, "clean.npy");
        var (code, o, e) = Run("sample", "--run", _qgan, "--latents", _latents, "--noise-model", Noise("ibm_properties.json"), "--format", "npy", "--out", noisy);
        Assert.That(code, Is.Zero, e);
        Assert.That(o, Does.Contain("under the noise model"));
        Assert.That(Run("sample", "--run", _qgan, "--latents", _latents, "--format", "npy", "--out", clean).Code, Is.Zero);
        var a = Npy.Read(noisy).Data; var b = Npy.Read(clean).Data;
        Assert.That(a.All(v => v is >= 0 and <= 1));
        Assert.That(a.Zip(b).Max(t => Math.Abs(t.First - t.Second)), Is.GreaterThan(1e-4), "the calibration changes the samples");
        // The generator's circuit under the calibration is the density matrix's distribution.
        var (gan, layer, z) = Load();
        var p = DensityMatrix.RunProbabilities(layer.Circuit, z, Rows, layer.Weight.ToArray(), NoiseModel.Of(DeviceNoise.Load(Noise("ibm_properties.json"))));
        Close.Assert(a, Evaluation.GenerateFromReadout(gan, ReferenceDevice.Instance, p.Select(v => (float)v).ToArray(), Rows), 1e-5, 0, "sample --noise-model = generator on the noisy distribution");

        var run = Path.Combine(Dir, "run");
        CopyDir(_qgan, run);
        (code, o, e) = Run("eval", "--run", run, "--n", "50", "--noise-model", Noise("ibm_properties.json"));
        Assert.That(code, Is.Zero, e);
        var j = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval-noise-ibm_properties.json")))!;
        Assert.That(j["noise_model_name"]!.GetValue<string>(), Is.EqualTo("fake_ibm_5q"));
        Assert.That(double.IsFinite(j["fid"]!.GetValue<double>()));
        Assert.That(File.Exists(Path.Combine(run, "eval.json")), Is.False, "the noiseless eval.json is not overwritten");
    }

    private static void CopyDir(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }

    [Test]
    public void Qasm_of_one_circuit_to_standard_output()
    {
        var (code, o, e) = Run("qasm", "--qubits", "3", "--layers", "1", "--inputs=0.5,1,1.5", "--dialect", "braket");
        Assert.That(code, Is.Zero, e);
        Assert.That(o, Does.StartWith("OPENQASM 3.0;").And.Contain("ry(0.5) q[0];").And.Contain("cnot q[1], q[2];").And.Not.Contain("include"));
        var prog = Qasm.Parse(o);
        var c = Circuit.Template(3, 1);
        var want = Simulator.Run<double>(c, [0.5f, 1f, 1.5f], 1, new float[c.WeightCount], Readout.Probs);
        Close.Assert(Simulator.Run<double>(prog.Circuit, new float[3], 1, prog.Weights, Readout.Probs), want.Select(v => (double)v).ToArray(), 1e-6, 0, "round trip");
    }

    [Test]
    public void Circuit_takes_a_noise_model()
    {
        var (code, o, e) = Run("circuit", "--qubits", "3", "--layers", "1", "--inputs=0.5,1,1.5", "--noise-model", Noise("device.json"), "--json");
        Assert.That(code, Is.Zero, e);
        var got = JsonNode.Parse(o)!["readout"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
        var c = Circuit.Template(3, 1);
        var want = DensityMatrix.RunProbabilities(c, [0.5f, 1f, 1.5f], 1, new float[c.WeightCount], NoiseModel.Of(DeviceNoise.Load(Noise("device.json"))));
        Close.Assert(got, want, 1e-7, 0, "circuit --noise-model");
    }

    [Test]
    public void Train_takes_a_noise_model_and_records_it()
    {
        var (code, o, e) = Run("train", "qgan", "--qubits", "4", "--noise-model", Noise("ibm_properties.json"), "--grad", "shift", "--dry-run");
        Assert.That(code, Is.Zero, e);
        Assert.That(JsonNode.Parse(o)!["noise_model"]!.GetValue<string>(), Is.EqualTo(Path.GetFullPath(Noise("ibm_properties.json"))));
        var o2 = QGenEngine.Models.Training.TrainOptions.FromJson(JsonNode.Parse(o)!.AsObject(), "config.json");
        Assert.That(QGenEngine.Models.CircuitSettings.NoiseModelOf(o2)!.Device!.Name, Is.EqualTo("fake_ibm_5q"), "config.json round-trips the calibration's file");
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["train", "qgan", "--qubits", "4", "--noise-model", Noise("ibm_properties.json"), "--dry-run"], "--grad shift"),
            (["train", "qgan", "--qubits", "4", "--noise-model", Noise("ibm_properties.json"), "--noise", "readout=0.1", "--grad", "shift", "--dry-run"], "give one"),
            (["train", "qgan", "--noise-model", Noise("ibm_properties.json"), "--grad", "shift", "--dry-run"], "calibrates 5 qubits; the circuit has 8"),
        })
        {
            var (c, _, err) = Run(args);
            Assert.That(c, Is.EqualTo(2)); Assert.That(err, Does.Contain(expected));
        }
    }

    [Test]
    public void Bad_input_gets_one_line_naming_the_file_and_value()
    {
        var wide = Path.Combine(Dir, "wide.npy");
        Npy.Write(wide, new float[3 * 5], 3, 5);
        var counts2 = Path.Combine(Dir, "two.json");
        File.WriteAllText(counts2, "[{\"0000\": 1}, {\"0001\": 2}]");
        var badKey = Path.Combine(Dir, "key.json");
        File.WriteAllText(badKey, "[" + string.Join(",", Enumerable.Repeat("{\"0101\": 3}", Rows - 1)) + ", {\"01012\": 3}]");
        var cases = new (string[] Args, string Expected)[]
        {
            (["qasm", "--run", _gan, "--latents", _latents, "--out", Path.Combine(Dir, "q")], "a 'gan' run has no circuit to export"),
            (["qasm", "--run", _qvae, "--latents", _latents, "--out", Path.Combine(Dir, "q")], "--images: a qvae's circuit takes its angles from images"),
            (["qasm", "--run", _qgan, "--images", "mnist:test:2", "--out", Path.Combine(Dir, "q")], "--latents: a qgan's circuit takes latent rows"),
            (["qasm", "--run", _qvae, "--images", "mnist:test:2", "--latents", _latents, "--out", Path.Combine(Dir, "q")], "--latents and --images: give one"),
            (["qasm", "--qubits", "3", "--inputs=1,2,3", "--images", "mnist:test:2"], "--latents / --images: only with --run"),
            (["eval", "--run", _qgan, "--counts", counts2, "--dialect", "qiskit", "--images", "mnist:test:2"], "a 'qgan' run has no circuit fed by images"),
            (["eval", "--run", _qvae, "--counts", counts2, "--dialect", "qiskit"], "--images: the image set the programs were exported for"),
            (["eval", "--run", _qvae, "--counts", counts2, "--images", "mnist:test:3"], "--dialect: counts need their device's bit order"),
            (["eval", "--run", _qvae, "--counts", counts2, "--dialect", "qiskit", "--images", "mnist:test:3"], $"{counts2}: 2 count objects for 3 circuits"),
            (["eval", "--run", _qvae, "--dialect", "qiskit"], "--dialect / --images: only with --counts"),
            (["qasm", "--run", _qgan, "--latents", wide, "--out", Path.Combine(Dir, "q")], $"{wide}: latents of shape (3, 5); the circuit of this qgan takes (N, 4)"),
            (["qasm", "--run", _qgan, "--latents", _latents], "--out: with --run"),
            (["qasm", "--run", _qgan, "--latents", _latents, "--dialect", "cirq", "--out", Path.Combine(Dir, "q")], "--dialect: unknown dialect 'cirq'"),
            (["qasm", "--qubits", "3", "--inputs=1,2"], "--inputs: 2 values given; the circuit takes 3"),
            (["sample", "--run", _qgan, "--latents", _latents, "--counts", counts2, "--dialect", "qiskit"], $"{counts2}: 2 count objects for {Rows} circuits"),
            (["sample", "--run", _qgan, "--latents", _latents, "--counts", badKey, "--dialect", "qiskit"], $"{badKey}: row {Rows - 1}: bitstring '01012' is not 4 characters of 0 and 1"),
            (["sample", "--run", _qgan, "--latents", _latents, "--counts", counts2], "--dialect: counts need their device's bit order"),
            (["sample", "--run", _qgan, "--counts", counts2, "--dialect", "qiskit"], "--counts: needs --latents"),
            (["sample", "--run", _gan, "--latents", Path.Combine(AppContext.BaseDirectory, "fixtures", "npy", "latents_3x100_f4.npy"), "--counts", counts2, "--dialect", "qiskit"], "a 'gan' run has no circuit that generates"),
            (["sample", "--run", _gan, "--noise-model", Noise("device.json")], "a 'gan' run has no circuit for --noise-model"),
            (["sample", "--run", _qgan, "--noise-model", Noise("device.json")], "calibrates 3 qubits; the circuit has 4"),
            (["eval", "--run", _qgan, "--noise-model", Path.Combine(Dir, "missing.json")], "missing.json: cannot read"),
        };
        foreach (var (args, expected) in cases)
        {
            var (code, o, e) = Run(args);
            UserError.Assert(code, string.Join(' ', args) + "\n" + o, e, expected);
        }
    }
}
