using System.Text.Json;
using QGenEngine.Autograd;
using QGenEngine.Autograd.Optim;
using QGenEngine.Kernels;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Conformance;

/// <summary>
/// What every backend must do, written once: the op table forward and backward, GEMM edge cases, the random streams,
/// copies and reductions, batch-norm statistics, the optimisers, nearest rows, index-add and run-to-run determinism
/// against the double-precision reference, and PyTorch's golden values (tests/fixtures/torch_ops.json). Each backend
/// binds it with a one-line subclass (<see cref="CpuConformance"/>, ...), which skips with the reason where its device
/// is missing. The tests that compare with the reference live in <see cref="BackendConformance"/>, which the reference
/// itself does not bind (a skip means "no such device here", nothing else).
/// </summary>
public abstract class DeviceConformance(string backend)
{
    protected IDevice _dev = null!;
    protected static readonly IDevice Ref = Backends.Reference;
    protected string Backend => backend;

    [OneTimeSetUp]
    public void Open()
    {
        var why = backend is "cpu" or "reference" ? null : QGenEngine.Kernels.Gpu.GpuBackends.Unavailable(backend);
        if (why is not null) Assert.Ignore($"{backend}: {why}; the same suite ran on cpu and ilgpu-cpu");
        _dev = Backends.Get(backend);
    }

    [Test]
    public void Nearest_rows_picks_the_closest_codebook_vector_and_the_lowest_index_on_ties()
    {
        var book = new float[] { 0, 0, 1, 1, -1, 2, 1, 1 };
        var z = new float[] { 0.9f, 1.2f, -0.8f, 1.7f, 0.1f, -0.1f, 5, 5 };
        var idx = Tensor.Empty(_dev, 4);
        _dev.NearestRows(Tensor.FromArray(_dev, z, 4, 2), Tensor.FromArray(_dev, book, 4, 2), idx);
        Assert.That(idx.ToArray(), Is.EqualTo(new float[] { 1, 2, 0, 1 }), "indices computed and kept in device memory");
    }

    private static float SumOfSquares(IDevice dev, Tensor x)
    {
        var acc = Tensor.Zeros(dev, 1);
        dev.SumOfSquares(x, acc);
        return acc.Item();
    }

    [Test]
    public void Kernels_are_deterministic_run_to_run()
    {
        var x = Data.Make(23, 2 * 3 * 9 * 9); var w = Data.Make(24, 4 * 3 * 3 * 3);
        float[] Run()
        {
            var g = ConvGeometry.Conv(2, 3, 9, 9, 4, 3, 3, 2, 2, 1, 1);
            var xt = Tensor.FromArray(_dev, x, 2, 3, 9, 9); var wt = Tensor.FromArray(_dev, w, 4, 3, 3, 3);
            var y = Tensor.Empty(_dev, 2, 4, g.OutH, g.OutW);
            _dev.Conv2d(xt, wt, null, y, g);
            var dx = Tensor.Empty(_dev, xt.Shape); var dw = Tensor.Zeros(_dev, wt.Shape); var db = Tensor.Zeros(_dev, 4);
            _dev.Conv2dBackward(xt, wt, y, dx, dw, db, g);
            return [.. y.ToArray(), .. dx.ToArray(), .. dw.ToArray(), .. db.ToArray(), SumOfSquares(_dev, y)];
        }
        var first = Run();
        Assert.That(Run(), Is.EqualTo(first), "the same bits twice");
    }

    private static readonly Lazy<JsonDocument> Doc = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "torch_ops.json"))));

    public static IEnumerable<TestCaseData> TorchCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "torch_ops.json")));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            yield return new TestCaseData(c.GetProperty("name").GetString()).SetName($"Torch_{c.GetProperty("name").GetString()}");
    }

    private static JsonElement Find(string name) =>
        Doc.Value.RootElement.GetProperty("cases").EnumerateArray().First(c => c.GetProperty("name").GetString() == name);

    private static (int[] Shape, float[] Data) Arr(JsonElement e) =>
        (e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray(),
         e.GetProperty("data").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray());

    private static double[] Want(JsonElement e) => e.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();

    [TestCaseSource(nameof(TorchCases))]
    public void Matches_pytorch(string name)
    {
        var dev = _dev; string device = backend;
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
                    double norm = GradClip.ClipGradNorm([a, b], Fl("max_norm")).Item();
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
}

/// <summary>
/// What every backend but the reference must do: the same results as the double-precision reference (the op table
/// forward and backward, GEMM, random streams, copies and reductions, batch-norm statistics, optimisers, index-add).
/// The reference does not bind these: it is the oracle they compare with.
/// </summary>
public abstract class BackendConformance(string backend) : DeviceConformance(backend)
{
    public static IEnumerable<OpCase> Ops => OpRegistry.All();

    [TestCaseSource(nameof(Ops))]
    public void Op_forward_and_backward_match_the_reference(OpCase c)
    {
        var values = OpTests.Inputs(c);
        var want = OpTests.Run(Ref, c, values);
        var got = OpTests.Run(_dev, c, values);
        Assert.That(got.Shape, Is.EqualTo(want.Shape), "output shape");
        Close.Assert(got.Output, want.Output, c.Atol, c.Rtol, $"{c.Name} forward on {Backend}");
        for (int i = 0; i < c.Inputs.Length; i++)
        {
            if (!c.Inputs[i].Grad) continue;
            Assert.That(got.Grads[i], Is.Not.Null, $"{Backend} gave no gradient for input {i}");
            Close.Assert(got.Grads[i]!, want.Grads[i]!, c.Atol, c.Rtol, $"{c.Name} gradient of input {i} on {Backend}");
        }
    }

    public static IEnumerable<TestCaseData> GemmShapes()
    {
        // The GPU's 64×64×16 tiles (single elements, partial and exact tiles, several K tiles) and the CPU's 6×16
        // micro-tiles, 256-deep k-blocks and its few-rows schedule (n over strip groups, k over blocks, tiny n).
        int[][] shapes = [[1, 1, 1], [6, 16, 1], [7, 17, 3], [64, 64, 16], [65, 63, 17], [5, 33, 300], [97, 45, 130], [97, 45, 513],
                          [130, 260, 70], [64, 256, 6272 / 4], [13, 7, 1024], [40, 600, 700], [30, 9, 900]];
        foreach (var s in shapes)
            foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
                yield return new TestCaseData(s[0], s[1], s[2], ta, tb).SetName($"Gemm_{s[0]}x{s[1]}x{s[2]}_{(ta ? "T" : "N")}{(tb ? "T" : "N")}");
    }

    [TestCaseSource(nameof(GemmShapes))]
    public void Sgemm_matches_the_reference(int m, int n, int k, bool ta, bool tb)
    {
        var a = Data.Make(1, m * k); var b = Data.Make(2, k * n); var c0 = Data.Make(3, m * n);
        float[] Run(IDevice d)
        {
            var C = Tensor.FromArray(d, c0, m * n);
            d.Gemm(ta, tb, 1, m, n, k, 0.75f, Tensor.FromArray(d, a, m * k), 0, Tensor.FromArray(d, b, k * n), 0, -0.5f, C, 0);
            return C.ToArray();
        }
        Close.Assert(Run(_dev), Run(Ref), 1e-4 * Math.Sqrt(k), 1e-4, "C = 0.75·op(A)·op(B) − 0.5·C");
    }

    [TestCase(0f)]
    [TestCase(1f)]
    [TestCase(0.5f)]
    public void Batched_gemm_with_a_shared_output_applies_the_items_in_order(float beta)
    {
        int batch = 3, m = 4, n = 70, k = 6;
        var a = Data.Make(4, batch * m * k); var b = Data.Make(5, k * n); var c0 = Data.Make(6, m * n);
        float[] Run(IDevice d)
        {
            var C = Tensor.FromArray(d, c0, m * n);
            d.Gemm(false, false, batch, m, n, k, 1f, Tensor.FromArray(d, a, a.Length), m * k, Tensor.FromArray(d, b, b.Length), 0, beta, C, 0);
            return C.ToArray();
        }
        Close.Assert(Run(_dev), Run(Ref), 1e-4, 1e-4, "C ← A_p·B + β·C for p = 0, 1, 2");
    }

    [Test]
    public void Batched_gemm_with_separate_outputs()
    {
        int batch = 3, m = 5, n = 9, k = 7;
        var a = Data.Make(7, m * k); var b = Data.Make(8, batch * k * n);
        float[] Run(IDevice d)
        {
            var C = Tensor.Zeros(d, batch * m * n);
            d.Gemm(true, false, batch, m, n, k, 2f, Tensor.FromArray(d, a, a.Length), 0, Tensor.FromArray(d, b, b.Length), k * n, 0f, C, m * n);
            return C.ToArray();
        }
        Close.Assert(Run(_dev), Run(Ref), 1e-4, 1e-4, "C_p = 2·Aᵀ·B_p");
    }

    [TestCase(RandomKind.Uniform, -2f, 3f)]
    [TestCase(RandomKind.Normal, 1f, 2f)]
    [TestCase(RandomKind.Bernoulli, 0.25f, 0f)]
    public void Random_fills_give_the_reference_stream(RandomKind kind, float a, float b)
    {
        const int n = 10_000;
        var x = Tensor.Empty(_dev, n); _dev.FillRandom(x, kind, 77, a, b);
        var c = Tensor.Empty(Ref, n); Ref.FillRandom(c, kind, 77, a, b);
        Close.Assert(x.ToArray(), c.ToArray(), 2e-6, 2e-6, $"{kind} on {Backend} against the reference");
    }

    [Test]
    public void Copy2d_fill_and_sum_of_squares_match_the_reference()
    {
        var src = Data.Make(9, 60);
        foreach (var d in new[] { _dev, Ref })
        {
            var s = Tensor.FromArray(d, src, 60); var t = Tensor.Full(d, -1f, 50);
            d.Copy2D(s, 3, 10, t, 2, 8, 5, 6);
            var got = t.ToArray();
            for (int r = 0; r < 5; r++)
                for (int c = 0; c < 6; c++) Assert.That(got[2 + r * 8 + c], Is.EqualTo(src[3 + r * 10 + c]), $"{d.Name} copy ({r},{c})");
            Assert.That(got[0], Is.EqualTo(-1f), "outside the block is untouched");
        }
        var big = Data.Make(10, 100_003);
        double want = big.Sum(v => (double)v * v);
        var acc = Tensor.Full(_dev, 2f, 1);
        _dev.SumOfSquares(Tensor.FromArray(_dev, big, big.Length), acc);
        Assert.That(acc.Item(), Is.EqualTo(want + 2).Within(1e-5 * want), "sum of squares, added to the accumulator on the device");
    }

    [Test]
    public void Long_row_sums_match_the_reference()
    {
        var x = Data.Make(11, 3 * 5000 * 2);
        float[] Run(IDevice d)
        {
            var y = Tensor.Empty(d, 3 * 2);
            d.SumAxis(Tensor.FromArray(d, x, x.Length), 3, 5000, 2, y, 0.5f);
            return y.ToArray();
        }
        Close.Assert(Run(_dev), Run(Ref), 1e-3, 1e-4, "0.5·Σ_r over 5000");
    }

    [Test]
    public void Batch_norm_updates_the_running_statistics_like_the_reference()
    {
        int n = 3, c = 4, s = 700;
        var x = Data.Make(12, n * c * s);
        (float[], float[], float[], float[]) Run(IDevice d)
        {
            var rm = Tensor.FromArray(d, Data.Make(13, c), c); var rv = Tensor.Full(d, 1.5f, c);
            var mean = Tensor.Empty(d, c); var inv = Tensor.Empty(d, c); var y = Tensor.Empty(d, n * c * s);
            d.BatchNorm(Tensor.FromArray(d, x, x.Length), n, c, s, Tensor.Full(d, 2f, c), Tensor.Full(d, 0.5f, c), rm, rv, mean, inv, 0.1f, 1e-5f, y);
            return (rm.ToArray(), rv.ToArray(), inv.ToArray(), y.ToArray());
        }
        var (a1, a2, a3, a4) = Run(_dev); var (b1, b2, b3, b4) = Run(Ref);
        Close.Assert(a1, b1, 1e-5, 1e-4, "running mean");
        Close.Assert(a2, b2, 1e-5, 1e-4, "running variance (unbiased)");
        Close.Assert(a3, b3, 1e-5, 1e-4, "1/σ");
        Close.Assert(a4, b4, 1e-4, 1e-4, "y");
    }

    [TestCase(false, 0f)]
    [TestCase(false, 0.1f)]
    [TestCase(true, 0.1f)]
    public void Adam_steps_match_the_reference(bool decoupled, float wd)
    {
        var p0 = Data.Make(14, 1000); var gs = Enumerable.Range(0, 3).Select(i => Data.Make(15 + i, 1000)).ToArray();
        float[] Run(IDevice d)
        {
            var p = Tensor.FromArray(d, p0, 1000); var m = Tensor.Zeros(d, 1000); var v = Tensor.Zeros(d, 1000);
            for (int step = 1; step <= 3; step++)
                d.AdamStep(p, Tensor.FromArray(d, gs[step - 1], 1000), m, v, 0.01f, 0.9f, 0.999f, 1e-8f, wd, decoupled, step);
            return p.ToArray();
        }
        Close.Assert(Run(_dev), Run(Ref), 1e-6, 1e-5, "three Adam steps");
    }

    [TestCase(0f, false)]
    [TestCase(0.9f, false)]
    [TestCase(0.9f, true)]
    public void Sgd_steps_match_the_reference(float momentum, bool nesterov)
    {
        var p0 = Data.Make(18, 500); var gs = Enumerable.Range(0, 3).Select(i => Data.Make(19 + i, 500)).ToArray();
        float[] Run(IDevice d)
        {
            var p = Tensor.FromArray(d, p0, 500); var buf = momentum == 0 ? null : Tensor.Zeros(d, 500);
            for (int step = 0; step < 3; step++)
                d.SgdStep(p, Tensor.FromArray(d, gs[step], 500), buf, 0.1f, momentum, 0.01f, nesterov, step == 0);
            return p.ToArray();
        }
        Close.Assert(Run(_dev), Run(Ref), 1e-6, 1e-5, "three SGD steps");
    }

    [Test]
    public void Index_add_sums_repeated_indices()
    {
        var g = Data.Make(22, 5 * 3);
        float[] idx = [4, 1, 4, 4, 0];
        float[] Run(IDevice d)
        {
            var dw = Tensor.Full(d, 1f, 6, 3);
            d.IndexAdd(Tensor.FromArray(d, g, 5, 3), Tensor.FromArray(d, idx, 5), dw);
            return dw.ToArray();
        }
        Close.Assert(Run(_dev), Run(Ref), 1e-6, 1e-6, "dw[idx[i]] += dy[i]");
    }
}

[TestFixture] public sealed class ReferenceConformance() : DeviceConformance("reference");
[TestFixture] public sealed class CpuConformance() : BackendConformance("cpu");
[TestFixture] public sealed class IlgpuCpuConformance() : BackendConformance("ilgpu-cpu");
[TestFixture] public sealed class CudaConformance() : BackendConformance("cuda");
[TestFixture] public sealed class OpenClConformance() : BackendConformance("opencl");
