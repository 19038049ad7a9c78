using System.Text.Json.Nodes;
using QGenEngine.Quantum;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Cli;

[TestFixture]
public class CircuitCliTests : TempDirTest
{

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private string File(string name, string text) { var p = Path.Combine(Dir, name); System.IO.File.WriteAllText(p, text); return p; }

    private static float[] Floats(JsonNode? n) => n!.AsArray().Select(v => v!.GetValue<float>()).ToArray();

    [TestCase("adjoint")]
    [TestCase("shift")]
    [TestCase("fd")]
    public void Circuit_prints_readout_and_gradients_as_json(string grad)
    {
        var w = File("w.json", "[[[0.1,0.2],[0.3,-0.4],[1.0,2.0]],[[0.5,0.6],[0.7,0.8],[-1.5,0.25]]]");
        var g = File("g.json", "[0.5,-1,0.25,0,1,2,-0.5,0.75]");
        var (code, stdout, err) = Run("circuit", "--qubits", "3", "--layers", "2", "--entangler", "circular", "--inputs=0.3,-0.7,1.9",
                                      "--weights", w, "--readout", "probs", "--cotangent", g, "--grad", grad, "--json");
        Assert.That(code, Is.Zero, err);
        var j = JsonNode.Parse(stdout)!;
        var c = Circuit.Template(3, 2, Entangler.Circular);
        float[] inputs = [0.3f, -0.7f, 1.9f];
        float[] weights = [0.1f, 0.2f, 0.3f, -0.4f, 1.0f, 2.0f, 0.5f, 0.6f, 0.7f, 0.8f, -1.5f, 0.25f];
        float[] cot = [0.5f, -1, 0.25f, 0, 1, 2, -0.5f, 0.75f];
        var (y, wg, ig) = Simulator.Adjoint(c, inputs, 1, weights, Readout.Probs, cot);
        Close.Assert(Floats(j["readout"]), y, 1e-6, 1e-5, "readout");
        Close.Assert(j["weight_grad"]!.AsArray().SelectMany(l => l!.AsArray().SelectMany(q => Floats(q))).ToArray(), wg, 1e-3, 1e-2, "weight_grad [L][n][2]");
        Close.Assert(Floats(j["input_grad"]), ig, 1e-3, 1e-2, "input_grad");
    }

    /// <summary>--device picks the tensor device and the simulator that accepts it runs the circuit: the device kernels on
    /// ilgpu-cpu, exact doubles on the reference - the same readout and gradients as the CPU simulator.</summary>
    [TestCase("ilgpu-cpu")]
    [TestCase("reference")]
    public void Circuit_on_another_device_gives_the_cpu_simulators_numbers(string device)
    {
        var w = File("w.json", "[[[0.1,0.2],[0.3,-0.4],[1.0,2.0]],[[0.5,0.6],[0.7,0.8],[-1.5,0.25]]]");
        var g = File("g.json", "[0.5,-1,0.25,0,1,2,-0.5,0.75]");
        string[] args = ["circuit", "--qubits", "3", "--layers", "2", "--inputs=0.3,-0.7,1.9", "--weights", w, "--cotangent", g, "--json"];
        var (c1, cpu, e1) = Run([.. args, "--device", "cpu"]);
        var (c2, other, e2) = Run([.. args, "--device", device]);
        Assert.That((c1, c2), Is.EqualTo((0, 0)), e1 + e2);
        var a = JsonNode.Parse(cpu)!; var b = JsonNode.Parse(other)!;
        Close.Assert(Floats(b["readout"]), Floats(a["readout"]), 1e-6, 1e-5, "readout");
        Close.Assert(Floats(b["input_grad"]), Floats(a["input_grad"]), 1e-5, 1e-4, "input_grad");
        var (c3, o3, e3) = Run([.. args, "--device", "ilgpu-cpu", "--noise", "depolarizing=0.1", "--grad", "shift"]);
        UserError.Assert(c3, o3, e3, "noisy circuits run on the CPU density-matrix simulator");
    }

    [Test]
    public void Negative_angles_expval_and_noise_work()
    {
        var (code, stdout, err) = Run("circuit", "--qubits", "2", "--layers", "1", "--inputs=-0.5,-1.25", "--readout", "expval", "--noise", "depolarizing=0.1", "--json");
        Assert.That(code, Is.Zero, err);
        Assert.That(Floats(JsonNode.Parse(stdout)!["readout"]), Has.Length.EqualTo(2));
    }

    [TestCase(new[] { "circuit", "--qubits", "2", "--layers", "1", "--inputs=0.1,abc" }, "'abc' is not a finite number")]
    [TestCase(new[] { "circuit", "--qubits", "2", "--layers", "1", "--inputs=0.1" }, "1 values given; the circuit takes 2")]
    [TestCase(new[] { "circuit", "--qubits", "2", "--layers", "1", "--inputs=0.1,0.2", "--readout", "shots:-3" }, "shots:N")]
    [TestCase(new[] { "circuit", "--qubits", "2", "--layers", "1", "--inputs=0.1,0.2", "--entangler", "ring" }, "unknown entangler 'ring'")]
    [TestCase(new[] { "circuit", "--qubits", "2", "--layers", "1", "--inputs=0.1,0.2", "--grad", "magic", "--cotangent", "x" }, "unknown method 'magic'")]
    [TestCase(new[] { "circuit", "--qubits", "40", "--inputs=0.1" }, "outside [1, 24]")]
    [TestCase(new[] { "circuit", "--qubits", "2", "--layers", "1", "--inputs=0.1,0.2", "--noise", "depolarizing=2" }, "P in [0, 1]")]
    [TestCase(new[] { "circuit", "--qubits", "2" }, "--inputs")]
    [TestCase(new[] { "nonsense" }, "nonsense")]
    public void Bad_input_is_one_clear_line_and_exit_code_2(string[] args, string message)
    {
        var (code, _, err) = Run(args);
        UserError.Assert(code, "", err, message);
    }

    [Test]
    public void Bad_weight_files_name_the_file_and_the_place()
    {
        var notJson = File("bad.json", "[[[0.1,");
        var (code, _, err) = Run("circuit", "--qubits", "2", "--layers", "1", "--inputs=0.1,0.2", "--weights", notJson);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("bad.json").And.Contain("not valid JSON"));
        var nonNumber = File("nan.json", "[[[0.1,\"x\"],[0.3,0.4]]]");
        (code, _, err) = Run("circuit", "--qubits", "2", "--layers", "1", "--inputs=0.1,0.2", "--weights", nonNumber);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("nan.json").And.Contain("[0][0][1]"));
        (code, _, err) = Run("circuit", "--qubits", "2", "--layers", "1", "--inputs=0.1,0.2", "--weights", Path.Combine(Dir, "missing.json"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("missing.json"));
        var shortG = File("g.json", "[1,2]");
        (code, _, err) = Run("circuit", "--qubits", "2", "--layers", "1", "--inputs=0.1,0.2", "--cotangent", shortG);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("g.json").And.Contain("array of 4 numbers"));
    }
}
