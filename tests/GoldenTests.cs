using System.Text.Json;
using QGenEngine.Autograd;
using QGenEngine.Autograd.Optim;
using QGenEngine.Kernels;
using QGenEngine.Models;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

/// <summary>
/// Conventions against PyTorch: fixtures made by tools/golden/make_fixtures.py (Debian's python3-torch,
/// float64) and committed. Each case runs on the reference and on the fast CPU device.
/// </summary>
[TestFixture]
public class GoldenTests
{
    private static readonly Lazy<JsonDocument> Doc = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "torch_ops.json"))));

    public static IEnumerable<TestCaseData> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "torch_ops.json")));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            foreach (var dev in new[] { "reference", "cpu" })
                yield return new TestCaseData(c.GetProperty("name").GetString(), dev).SetName($"Torch_{c.GetProperty("name").GetString()}_on_{dev}");
    }

    private static JsonElement Find(string name) =>
        Doc.Value.RootElement.GetProperty("cases").EnumerateArray().First(c => c.GetProperty("name").GetString() == name);

    private static (int[] Shape, float[] Data) Arr(JsonElement e) =>
        (e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray(),
         e.GetProperty("data").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray());

    private static double[] Want(JsonElement e) => e.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();

    [TestCaseSource(nameof(Cases))]
    public void Matches_pytorch(string name, string device)
    {
        var dev = Backends.Get(device);
        var c = Find(name);
        var p = c.GetProperty("params");
        var ins = c.GetProperty("inputs"); var outs = c.GetProperty("outputs");
        var t = new Dictionary<string, Tensor>();
        foreach (var prop in ins.EnumerateObject())
        {
            var (shape, data) = Arr(prop.Value);
            var x = Tensor.FromArray(dev, data, shape);
            x.RequiresGrad = outs.TryGetProperty("d" + prop.Name, out _);
            t[prop.Name] = x;
        }
        double atol = device == "reference" ? 1e-5 : 1e-4, rtol = device == "reference" ? 1e-5 : 1e-4;
        int I(string k) => p.GetProperty(k).GetInt32();
        float Fl(string k) => (float)p.GetProperty(k).GetDouble();
        string op = c.GetProperty("op").GetString()!;
        Tensor? y = null;
        Tensor? rm = null, rv = null;
        switch (op)
        {
            case "conv2d": y = t["x"].Conv2d(t["w"], t["b"], I("stride"), I("padding")); break;
            case "conv_transpose2d": y = t["x"].ConvTranspose2d(t["w"], t["b"], I("stride"), I("padding"), I("output_padding")); break;
            case "batch_norm_train":
                {
                    int ch = t["x"].Shape[1];
                    rm = Tensor.Zeros(dev, ch); rv = Tensor.Ones(dev, ch);
                    y = t["x"].BatchNorm(t["gamma"], t["beta"], rm, rv, training: true, Fl("momentum"), Fl("eps"));
                    break;
                }
            case "batch_norm_eval": y = t["x"].BatchNorm(t["gamma"], t["beta"], t["running_mean"], t["running_var"], training: false, eps: Fl("eps")); break;
            case "max_pool2d": y = t["x"].MaxPool2d(I("kernel"), I("stride"), I("padding")); break;
            case "softmax": y = t["x"].Softmax(I("axis")); break;
            case "log_softmax": y = t["x"].LogSoftmax(I("axis")); break;
            case "bce_with_logits":
                y = t["x"].BceWithLogits(t["t"], p.GetProperty("reduction").GetString() == "sum" ? Reduction.Sum : Reduction.Mean).Reshape(1);
                break;
            case "cross_entropy": y = t["x"].CrossEntropy(p.GetProperty("targets").EnumerateArray().Select(v => v.GetInt32()).ToArray()).Reshape(1); break;
            case "mse": y = t["a"].Mse(t["b"]).Reshape(1); break;
            case "gaussian_kl": y = t["mu"].GaussianKl(t["logvar"]).Reshape(1); break;
            case "optimizer": RunOptimizer(t, p, outs, atol, rtol); return;
            case "clip_grad_norm":
                {
                    var a = Tensor.Zeros(dev, t["a"].Shape); a.RequiresGrad = true; a.Grad = t["a"];
                    var b = Tensor.Zeros(dev, t["b"].Shape); b.RequiresGrad = true; b.Grad = t["b"];
                    double norm = GradClip.ClipGradNorm([a, b], Fl("max_norm"));
                    Close.Assert([norm], Want(outs.GetProperty("norm")), 1e-6, 1e-6, "total norm");
                    Close.Assert(a.Grad.ToArray(), Want(outs.GetProperty("a")), atol, rtol, "clipped a");
                    Close.Assert(b.Grad.ToArray(), Want(outs.GetProperty("b")), atol, rtol, "clipped b");
                    return;
                }
            case "cosine_lr":
                {
                    var lr = new CosineLr(Fl("base"), I("t_max"), 0, Fl("eta_min"));
                    var want = Want(outs.GetProperty("lr"));
                    Close.Assert(want.Select((_, i) => lr.At(i)).ToArray(), want, 1e-9, 1e-5, "cosine schedule");
                    return;
                }
            default: Assert.Fail($"fixture op '{op}' has no runner"); break;
        }
        Close.Assert(y!.ToArray(), Want(outs.GetProperty("y")), atol, rtol, $"{name} forward");
        Graph.Backward(y.Mul(t["g"]).Sum());
        foreach (var prop in outs.EnumerateObject())
        {
            if (prop.Name.StartsWith('d') && t.TryGetValue(prop.Name[1..], out var x))
                Close.Assert(x.Grad!.ToArray(), Want(prop.Value), atol, rtol, $"{name} gradient {prop.Name}");
        }
        if (rm is not null) Close.Assert(rm.ToArray(), Want(outs.GetProperty("running_mean")), atol, rtol, "running mean");
        if (rv is not null) Close.Assert(rv.ToArray(), Want(outs.GetProperty("running_var")), atol, rtol, "running var");
    }

    private static void RunOptimizer(Dictionary<string, Tensor> t, JsonElement p, JsonElement outs, double atol, double rtol)
    {
        var param = t["p"]; param.RequiresGrad = true;
        float F(string k) => (float)p.GetProperty(k).GetDouble();
        Optimizer opt = p.GetProperty("type").GetString() switch
        {
            "adam" => new Adam([("p", param)], F("lr"), F("beta1"), F("beta2"), F("eps"), F("weight_decay")),
            "adamw" => new AdamW([("p", param)], F("lr"), F("beta1"), F("beta2"), F("eps"), F("weight_decay")),
            _ => new Sgd([("p", param)], F("lr"), F("momentum"), F("weight_decay"), p.GetProperty("nesterov").GetBoolean()),
        };
        foreach (var g in new[] { "g1", "g2", "g3" }) { param.Grad = t[g]; opt.Step(); }
        Close.Assert(param.ToArray(), Want(outs.GetProperty("p")), atol, rtol, "parameters after three steps");
    }

    [Test]
    public void Vae_has_pytorchs_parameter_count_and_state_dict_names()
    {
        var vae = Doc.Value.RootElement.GetProperty("vae");
        var model = new Vae(Backends.Cpu, 1);
        Assert.That(model.ParameterCount, Is.EqualTo(vae.GetProperty("parameters").GetInt64()));
        Assert.That(model.ParameterCount, Is.EqualTo(3_499_585), "MODELS.md's exact count");
        var want = vae.GetProperty("state_dict").EnumerateArray()
            .Select(e => (e.GetProperty("name").GetString(), string.Join("x", e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32())))).ToList();
        var got = model.StateDict().Select(s => (s.Name, string.Join("x", s.T.Shape))).ToList();
        Assert.That(got, Is.EquivalentTo(want));
    }
}
