using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using QGenEngine.Autograd;
using QGenEngine.Autograd.Nn;
using QGenEngine.Kernels;
using QGenEngine.Kernels.Cpu;
using QGenEngine.Models;
using QGenEngine.Models.Training;
using QGenEngine.Tensors;

namespace QGenEngine.Bench;

public static class Suites
{
    // ---- the machine's ceiling: peak FMA throughput and copy bandwidth -----------------------------
    private static double? _peak;

    /// <summary>GFLOP/s of 12 independent FMA chains per thread on every thread: what no kernel can beat.</summary>
    public static double PeakGflops()
    {
        if (_peak is { } p) return p;
        const int iters = 20_000_000;
        double Run()
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            CpuParallel.For(CpuParallel.Threads, 0, static (_, _) => FmaLoop(iters));
            return sw.Elapsed.TotalSeconds;
        }
        Run();
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++) best = Math.Min(best, Run());
        _peak = (double)iters * 12 * 8 * 2 * CpuParallel.Threads / best / 1e9;
        return _peak.Value;
    }

    private static float FmaLoop(int iters)
    {
        var a = Vector256.Create(0.999f); var b = Vector256.Create(1e-7f);
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default,
                         c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (int i = 0; i < iters; i++)
        {
            c0 = Fma.MultiplyAdd(c0, a, b); c1 = Fma.MultiplyAdd(c1, a, b); c2 = Fma.MultiplyAdd(c2, a, b);
            c3 = Fma.MultiplyAdd(c3, a, b); c4 = Fma.MultiplyAdd(c4, a, b); c5 = Fma.MultiplyAdd(c5, a, b);
            c6 = Fma.MultiplyAdd(c6, a, b); c7 = Fma.MultiplyAdd(c7, a, b); c8 = Fma.MultiplyAdd(c8, a, b);
            c9 = Fma.MultiplyAdd(c9, a, b); c10 = Fma.MultiplyAdd(c10, a, b); c11 = Fma.MultiplyAdd(c11, a, b);
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).GetElement(0);
    }

    public static List<Record> Ceiling(BenchArgs a)
    {
        var rows = new List<Record>();
        if (!Fma.IsSupported) return rows;
        double peak = PeakGflops();
        rows.Add(new Record("ceiling", "fma-peak", "cpu", 0, 0).With("gflops", peak).With("threads", CpuParallel.Threads));
        int n = 64 << 20; // 256 MB of floats
        var src = GC.AllocateUninitializedArray<float>(n); var dst = GC.AllocateUninitializedArray<float>(n);
        src.AsSpan().Fill(1f); dst.AsSpan().Fill(0f);
        double ms = Timing.Median(() => CpuParallel.For(CpuParallel.Threads, (src, dst), static (s, c) =>
        {
            var (lo, hi) = CpuParallel.Range(s.src.Length, CpuParallel.Threads, c);
            s.src.AsSpan(lo, hi - lo).CopyTo(s.dst.AsSpan(lo, hi - lo));
        }), a.Quick ? 3 : 7);
        rows.Add(new Record("ceiling", "copy-256MB", "cpu", 0, ms).With("gb_per_s", 2.0 * n * 4 / (ms / 1e3) / 1e9));
        return rows;
    }

    // ---- GEMM --------------------------------------------------------------------------------------
    public static List<Record> Gemm(BenchArgs a)
    {
        var dev = Backends.Get(a.Device);
        double peak = Fma.IsSupported ? PeakGflops() : double.NaN;
        var rows = new List<Record>();
        var shapes = new List<(string Name, bool Ta, bool Tb, int M, int N, int K)>();
        foreach (int s in a.Quick ? new[] { 256, 1024 } : new[] { 256, 512, 1024, 2048 }) shapes.Add(($"square-{s}", false, false, s, s, s));
        int b = a.Batch;
        // The GEMMs inside the VAE's layers at this batch: conv as (OC × C·K·K) · (C·K·K × N·OH·OW).
        shapes.Add(("vae.enc.conv2 fwd", false, false, 64, b * 49, 32 * 9));
        shapes.Add(("vae.enc.conv3 fwd", false, false, 128, b * 49, 64 * 9));
        shapes.Add(("vae.enc.conv3 dW", false, true, 128, 64 * 9, b * 49));
        shapes.Add(("vae.enc.conv3 dcol", true, false, 64 * 9, b * 49, 128));
        shapes.Add(("vae.enc.fc fwd", false, true, b, 256, 6272));
        shapes.Add(("vae.dec.fc2 fwd", false, true, b, 6272, 256));
        shapes.Add(("vae.dec.deconv1 fwd", true, false, 64 * 16, b * 49, 128));
        shapes.Add(("vae.dec.deconv2 fwd", true, false, 32 * 16, b * 196, 64));
        shapes.Add(("vae.dec.deconv1 dW", false, true, 128, 64 * 16, b * 49));
        shapes.Add(("vae.dec.deconv2 dW", false, true, 64, 32 * 16, b * 196));
        shapes.Add(("vae.dec.deconv3 dW", false, true, 32, 9, b * 784));
        foreach (var (name, ta, tb, m, n, k) in shapes)
        {
            var A = Tensor.Uniform(dev, 1, -1, 1, m * k); var B = Tensor.Uniform(dev, 2, -1, 1, k * n); var C = Tensor.Zeros(dev, m * n);
            double flops = 2.0 * m * n * k;
            int reps = Math.Clamp((int)(2e10 / flops), 5, 200);
            if (a.Quick) reps = Math.Min(reps, 10);
            double ms = Timing.Median(dev, () => dev.Gemm(ta, tb, 1, m, n, k, 1f, A, 0, B, 0, 0f, C, 0), reps);
            double gf = flops / (ms / 1e3) / 1e9;
            rows.Add(new Record("gemm", name, dev.Name, name.StartsWith("vae", StringComparison.Ordinal) ? b : 0, ms)
                .With("m", m).With("n", n).With("k", k).With("trans", (ta ? "T" : "N") + (tb ? "T" : "N"))
                .With("gflops", gf).With("of_peak", gf / peak));
        }
        return rows;
    }

    // ---- each VAE layer, forward + backward ------------------------------------------------------------
    public static List<Record> Ops(BenchArgs a)
    {
        var dev = Backends.Get(a.Device);
        var rng = new Generator(7);
        int b = a.Batch;
        var layers = new List<(string Name, Layer L, int[] In, double Macs, bool InputGrad)>
        {
            ("enc.conv1 1→32 k3s2", new Conv2d(dev, rng, 1, 32, 3, 2, 1), [b, 1, 28, 28], 32.0 * 196 * 9, false),
            ("enc.conv2 32→64 k3s2", new Conv2d(dev, rng, 32, 64, 3, 2, 1), [b, 32, 14, 14], 64.0 * 49 * 32 * 9, true),
            ("enc.conv3 64→128 k3s1", new Conv2d(dev, rng, 64, 128, 3, 1, 1), [b, 64, 7, 7], 128.0 * 49 * 64 * 9, true),
            ("enc.fc 6272→256", new Linear(dev, rng, 6272, 256), [b, 6272], 6272.0 * 256, true),
            ("fc_mu 256→32", new Linear(dev, rng, 256, 32), [b, 256], 256.0 * 32, true),
            ("dec.fc1 32→256", new Linear(dev, rng, 32, 256), [b, 32], 32.0 * 256, true),
            ("dec.fc2 256→6272", new Linear(dev, rng, 256, 6272), [b, 256], 256.0 * 6272, true),
            ("dec.deconv1 128→64 k4s2", new ConvTranspose2d(dev, rng, 128, 64, 4, 2, 1), [b, 128, 7, 7], 128.0 * 49 * 64 * 16, true),
            ("dec.deconv2 64→32 k4s2", new ConvTranspose2d(dev, rng, 64, 32, 4, 2, 1), [b, 64, 14, 14], 64.0 * 196 * 32 * 16, true),
            ("dec.deconv3 32→1 k3s1", new ConvTranspose2d(dev, rng, 32, 1, 3, 1, 1), [b, 32, 28, 28], 32.0 * 784 * 9, true),
            ("relu 32x28x28", Lambda.ReLU(), [b, 32, 28, 28], 0, true),
        };
        var rows = new List<Record>();
        foreach (var (name, layer, shape, macs, inputGrad) in layers)
        {
            var x = Tensor.Uniform(dev, 3, -1, 1, shape);
            x.RequiresGrad = inputGrad;
            var ps = layer.Parameters().ToList();
            double ms = Timing.Median(dev, () =>
            {
                using var scope = TensorScope.Begin();
                var y = layer.Forward(x);
                Graph.Backward(y.Sum());
            }, a.Quick ? 5 : 21, 3);
            double flops = 2 * macs * b * (inputGrad ? 3 : 2);
            var r = new Record("ops", name, dev.Name, b, ms);
            if (flops > 0) r.With("gflops", flops / (ms / 1e3) / 1e9);
            rows.Add(r);
        }
        return rows;
    }

    // ---- a whole training step -------------------------------------------------------------------------
    /// <summary>
    /// FLOPs of one VAE training step per sample: forward 2·MACs, backward 4·MACs (dW and dX) except conv1's dX.
    /// The attention block of qvae / vae-attn adds under 0.1 % (a 256→8 linear map; the circuit is counted apart).
    /// </summary>
    public static double VaeFlopsPerSample(int latent = 32)
    {
        double[] macs = [32.0 * 196 * 9, 64.0 * 49 * 32 * 9, 128.0 * 49 * 64 * 9, 6272.0 * 256, 2 * 256.0 * latent, latent * 256.0, 256.0 * 6272,
                         128.0 * 49 * 64 * 16, 64.0 * 196 * 32 * 16, 32.0 * 784 * 9];
        return 6 * macs.Sum() - 2 * macs[0];
    }

    /// <summary>
    /// FLOPs of one GAN training step per sample (MODELS.md's DCGAN): the generator forward once and backward
    /// once (dW and dX, no dX for z); the discriminator forward three times (real, detached fake, fake for the
    /// generator's loss) and backward three times (dW and dX each, except conv1's dX for the real and the detached fake).
    /// </summary>
    public static double GanFlopsPerSample(int latent = 100, int w = 32)
    {
        double gLin = latent * 4.0 * w * 49;
        double g = gLin + 4.0 * w * 49 * 2 * w * 16 + 2.0 * w * 196 * w * 16 + w * 784.0 * 9;
        double dConv1 = w * 196.0 * 16;
        double d = dConv1 + 2.0 * w * 49 * w * 16 + 4.0 * w * 16 * 2 * w * 9 + 4.0 * w * 16;
        return 2 * (6 * g - gLin + 18 * d - 2 * dConv1);
    }

    /// <summary>
    /// FLOPs of one VQ-VAE training step per sample: the six convolutions forward, dW and dX (no dX into the image), and
    /// the nearest-code search (49 vectors against K codes of D: a GEMM forward only).
    /// </summary>
    public static double VqVaeFlopsPerSample(int k = 512, int d = 64)
    {
        double[] convs = [32.0 * 16 * 196, 64.0 * 32 * 16 * 49, d * 64.0 * 9 * 49, 64.0 * d * 9 * 49, 64.0 * 32 * 16 * 49, 32.0 * 16 * 196];
        return 2 * (3 * convs.Sum() - convs[0] + 49.0 * k * d);
    }

    /// <summary>MACs of the prior's network per grid position (masked weights included: they are computed).</summary>
    public static double PriorMacsPerPosition(PixelCnnConfig c, int k = 512) =>
        c.FirstKernel * c.FirstKernel * c.Channels * 2.0 * c.Channels
        + c.Blocks * (9.0 * c.Channels * 2 * c.Channels + c.Channels * c.Channels)
        + c.Channels * (double)c.Head + c.Head * (double)k;

    /// <summary>FLOPs of one prior training step per sample: 49 positions forward, dW and dX (the embedding is trained).</summary>
    public static double PriorFlopsPerSample(PixelCnnConfig c, int k = 512) => 2 * 3 * 49 * PriorMacsPerPosition(c, k);

    /// <summary>FLOPs to sample one grid: position i runs the network on rows ≤ row(i), 7·(1 + … + 7)·7 positions in all.</summary>
    public static double PriorSampleFlops(PixelCnnConfig c, int k = 512) => 2 * 7 * 28 * 7 * PriorMacsPerPosition(c, k);

    /// <summary>
    /// A model of the catalogue at its defaults (with <paramref name="quantum"/> = "variant|grad|readout-or-noise" for
    /// qgan), its optimisers and a synthetic batch: one call of the returned action is one training step, as `train` runs it.
    /// </summary>
    public static (TrainOptions Options, object Model, Action Step) MakeStep(IDevice dev, string modelName, string quantum, int b)
    {
        var entry = ModelCatalog.Get(modelName);
        var spec = quantum.Split('|');
        var d = entry.Defaults;
        var o = (d with { BatchSize = b, Seed = 42 })
            .With(GanSettings.Quantum, quantum.Length > 0 && quantum != "none" ? spec[0] : d.Get(GanSettings.Quantum))
            .With(CircuitSettings.Grad, spec.Length > 1 ? spec[1] : d.Get(CircuitSettings.Grad))
            .With(CircuitSettings.Readout, spec.Length > 2 && spec[2].StartsWith("shots", StringComparison.Ordinal) ? spec[2] : d.Get(CircuitSettings.Readout))
            .With(CircuitSettings.Noise, spec.Length > 2 && !spec[2].StartsWith("shots", StringComparison.Ordinal) ? spec[2] : d.Get(CircuitSettings.Noise));
        var model = entry.Create(dev, o);
        var t = (ITrainable)model;
        // The prior trains on a cache of codes: random grids stand in for the training set's.
        if (model is CodePrior prior) prior.UseCodes(Tensor.Uniform(dev, 9, 0, 512, b, 49).ToArray().Select(v => Math.Min(511f, MathF.Floor(v))).ToArray());
        var parts = Parts.For(t, o);
        var batch = new Batch(Tensor.Uniform(dev, 5, 0, 1, b, 1, 28, 28), Enumerable.Range(0, b).Select(i => i % 10).ToArray(), Enumerable.Range(0, b).ToArray());
        return (o, model, () =>
        {
            using var scope = TensorScope.Begin();
            t.TrainStep(batch, parts);
        });
    }

    /// <summary>FLOPs to decode one image with the VAE's decoder (fc 32→256→6272, three transposed convolutions).</summary>
    public static double VaeDecoderFlops(int latent = 32) =>
        2 * (latent * 256.0 + 256.0 * 6272 + 128.0 * 49 * 64 * 16 + 64.0 * 196 * 32 * 16 + 32.0 * 784 * 9);

    /// <summary>FLOPs of the GAN generator's forward pass for one image.</summary>
    public static double GanGeneratorFlops(int latent = 100, int w = 32) =>
        2 * (latent * 4.0 * w * 49 + 4.0 * w * 49 * 2 * w * 16 + 2.0 * w * 196 * w * 16 + w * 784.0 * 9);

    /// <summary>Generation as `eval` and `sample` run it (untrained weights: the cost does not depend on them): images/s per model.</summary>
    public static List<Record> Sample(BenchArgs a)
    {
        var dev = Backends.Get(a.Device);
        var rows = new List<Record>();
        string[] models = a.Quick ? ["vae", "gan", "prior"] : ["vae", "qvae", "gan", "qgan", "prior"];
        foreach (var name in models)
        {
            var entry = ModelCatalog.Get(name);
            var model = (IGenerative)entry.Create(dev, entry.Defaults with { Seed = 42 });
            int n = name == "prior" ? CodePrior.SampleChunk : 1024;
            double flops = name switch { "vae" or "qvae" => VaeDecoderFlops(), "gan" => GanGeneratorFlops(), "prior" => PriorSampleFlops(new PixelCnnConfig()), _ => double.NaN };
            double ms = Timing.Median(dev, () => QGenEngine.Models.Metrics.Evaluation.Generate(model, dev, n, 3), a.Quick || name == "prior" ? 1 : 3, 1);
            var rec = new Record("sample", name, dev.Name, n, ms).With("images_per_s", n / (ms / 1e3));
            if (double.IsFinite(flops))
            {
                double gf = flops * n / (ms / 1e3) / 1e9;
                rec.With("mflop_per_image", flops / 1e6).With("gflops", gf).With("of_peak", Fma.IsSupported ? gf / PeakGflops() : double.NaN);
            }
            rows.Add(rec);
        }
        return rows;
    }

    /// <summary>One training step taken apart: each op's forward and backward (by output shape), the optimiser and the rest, per step.</summary>
    public static List<Record> Profile(BenchArgs a)
    {
        var dev = Backends.Get(a.Device);
        var (_, _, step) = MakeStep(dev, a.Model, "", a.Batch);
        var gpu = dev as QGenEngine.Kernels.Gpu.IlgpuDevice;
        int steps = a.Quick ? 5 : 20;
        for (int i = 0; i < 3; i++) step();
        gpu?.Synchronize();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        QGenEngine.Autograd.Profiler.Start();
        for (int i = 0; i < steps; i++) { step(); gpu?.Synchronize(); }
        var entries = QGenEngine.Autograd.Profiler.Stop();
        double total = sw.Elapsed.TotalMilliseconds / steps;
        var rows = new List<Record>();
        foreach (var e in entries)
        {
            double ms = e.Ms / steps;
            rows.Add(new Record("profile", $"{a.Model} {e.Phase} {e.Op} {e.Shape}".TrimEnd(), dev.Name, a.Batch, ms)
                .With("share", ms / total).With("calls_per_step", (double)e.Calls / steps));
        }
        rows.Add(new Record("profile", $"{a.Model} step (sum of the above)", dev.Name, a.Batch, total).With("share", 1.0));
        return rows;
    }

    /// <summary>One step of any trainable model in the catalogue, through its own TrainStep (what `train` runs).</summary>
    public static List<Record> TrainStep(BenchArgs a)
    {
        var dev = Backends.Get(a.Device);
        var entry = ModelCatalog.Get(a.Model);
        var rows = new List<Record>();
        double extra;
        double flopsPerSample = a.Model switch
        {
            "gan" or "qgan" => GanFlopsPerSample(), "classifier" => double.NaN, "vqvae" => VqVaeFlopsPerSample(),
            "prior" => PriorFlopsPerSample(new PixelCnnConfig()), _ => VaeFlopsPerSample(),
        };
        // qgan: each variant, beside the classical GAN at the same batch (the circuits' share of the step).
        // Then the hardware effects on the generator variant: parameter-shift, shots (with shift) and noise (density matrix, with shift).
        var variants = a.Model == "qgan"
            ? new[] { ("gan", "none"), ("qgan", "generator"), ("qgan", "discriminator"), ("qgan", "both"),
                      ("qgan", "generator|shift"), ("qgan", "generator|shift|shots:1000"), ("qgan", "generator|shift|depolarizing=0.01,damping=0.01") }
            : new[] { (a.Model, "") };
        foreach (int b in a.Quick || a.Model == "qgan" ? new[] { a.Batch } : new[] { a.Batch, 8, 256 }.Distinct())
        foreach (var (modelName, quantum) in variants)
        {
            var spec = quantum.Split('|');
            var (o, model, Step) = MakeStep(dev, modelName, quantum, b);
            // A noisy step (density matrices, parameter-shift) takes minutes: timed once, after one warm-up.
            bool slow = !string.IsNullOrEmpty(o.Get(CircuitSettings.Noise));
            double ms = Timing.Median(dev, Step, slow ? 1 : a.Quick ? 5 : 15, slow ? 1 : 3);
            double gf = flopsPerSample * b / (ms / 1e3) / 1e9;
            // On an ILGPU device: what a steady step reads back and launches (a GPU drains its queue at every read).
            double reads = double.NaN, launches = double.NaN;
            if (dev is QGenEngine.Kernels.Gpu.IlgpuDevice gpuDev)
            {
                long r0 = gpuDev.HostReads, l0 = gpuDev.Launches;
                for (int i = 0; i < 3; i++) Step();
                reads = (gpuDev.HostReads - r0) / 3.0; launches = (gpuDev.Launches - l0) / 3.0;
            }
            string label = quantum is "" or "none" ? $"{modelName} adam"
                : $"qgan --quantum {spec[0]}" + (spec.Length > 1 ? $" --grad {spec[1]}" : "") + (spec.Length > 2 ? (spec[2].StartsWith("shots", StringComparison.Ordinal) ? $" --readout {spec[2]}" : $" --noise {spec[2]}") : "");
            if (a.Model == "qgan" && quantum != "none" && rows.FirstOrDefault(r => (string)r.Fields["name"] == "gan adam" && (int)r.Fields["batch"] == b) is { } classical)
                extra = ms / (double)classical.Fields["median_ms"];
            else extra = double.NaN;
            var rec = new Record("train-step", label, dev.Name, b, ms);
            if (double.IsFinite(extra)) rec.With("vs_gan", extra);
            if (double.IsFinite(reads)) rec.With("host_reads_per_step", reads).With("launches_per_step", launches);
            rows.Add(rec
                .With("samples_per_s", b / (ms / 1e3)).With("gflops", gf)
                .With("of_peak", Fma.IsSupported ? gf / PeakGflops() : double.NaN)
                .With("mflop_per_sample", flopsPerSample / 1e6));
            if (a.Model == "prior" && b == a.Batch)
            {
                // Ancestral sampling (49 positions) and decoding, as `sample` and `eval` run it.
                const int n = CodePrior.SampleChunk;
                double sms = Timing.Median(dev, () => QGenEngine.Models.Metrics.Evaluation.Generate((IGenerative)model, dev, n, 3), a.Quick ? 1 : 3, 1);
                double sgf = PriorSampleFlops(new PixelCnnConfig()) * n / (sms / 1e3) / 1e9;
                rows.Add(new Record("sample", "prior ancestral + vqvae decoder", dev.Name, n, sms)
                    .With("images_per_s", n / (sms / 1e3)).With("gflops", sgf)
                    .With("of_peak", Fma.IsSupported ? sgf / PeakGflops() : double.NaN)
                    .With("gflop_per_image", PriorSampleFlops(new PixelCnnConfig()) / 1e9));
            }
        }
        return rows;
    }
}
