using System.Runtime.Intrinsics.X86;
using QGenEngine.Kernels;
using QGenEngine.Kernels.Cpu;
using QGenEngine.Models;

namespace QGenEngine.Bench;

/// <summary>
/// The comparison's speed claim ("quantum training is 3-5x slower", issue #23) measured the way bench measures anything:
/// one training step of every trainable model of studies/compare.yaml at its default batch (its `train` settings), in
/// this process on this machine, in interleaved rounds - each round times every model in turn - so that the machine's
/// drift during the run (these VMs vary up to 2x) falls on every model alike. A study's own s/epoch cannot do this:
/// its runs train in different sessions, often on different VMs (AVX2 or AVX-512), beside different work.
/// Run it with `--threads 1` to match the study's runs (one thread each). Steps only: the loader's augmentation
/// (the VAE family's) and the per-epoch FID are left out of every model alike.
/// </summary>
public static class StudySpeed
{
    /// <summary>Each model of the comparison; each pair the claim is about (quantum first, its classical counterpart second).</summary>
    public static readonly string[] Models = ["vae", "vae-attn", "qvae", "gan", "gan-uniform", "qgan-control", "qgan", "vqvae", "prior"];
    public static readonly (string Quantum, string Classical)[] Pairs = [("qvae", "vae"), ("qvae", "vae-attn"), ("qgan", "gan"), ("qgan", "qgan-control")];
    public const int TrainingImages = 60_000;

    public static List<Record> Run(BenchArgs a)
    {
        var dev = Backends.Get(a.Device);
        int rounds = a.Quick ? 2 : 7, perRound = a.Quick ? 2 : 5;
        var steps = Models.Select(m => (Name: m, Batch: ModelCatalog.Get(m).Defaults.BatchSize)).Select(m => (m.Name, m.Batch, Suites.MakeStep(dev, m.Name, "", m.Batch).Step)).ToList();
        foreach (var s in steps) Timing.Median(dev, s.Step, 1, 3);   // compiled and warm before the first round
        var times = steps.Select(_ => new List<double>()).ToList();
        var sw = new System.Diagnostics.Stopwatch();
        var gpu = dev as QGenEngine.Kernels.Gpu.IlgpuDevice;
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < steps.Count; i++)
                for (int k = 0; k < perRound; k++)
                {
                    sw.Restart();
                    steps[i].Step();
                    gpu?.Synchronize();
                    times[i].Add(sw.Elapsed.TotalMilliseconds);
                }
        double peak = Fma.IsSupported && dev.Name == "cpu" ? Suites.PeakGflops() : double.NaN;
        var rows = new List<Record>();
        var perImage = new Dictionary<string, double>();
        for (int i = 0; i < steps.Count; i++)
        {
            var (name, b, _) = steps[i];
            double ms = Median(times[i]);
            perImage[name] = ms / b;
            var rec = new Record("study-speed", name, dev.Name, b, ms)
                .With("images_per_s", b / (ms / 1e3)).With("s_per_epoch", TrainingImages / b * ms / 1e3)
                .With("steps_timed", times[i].Count).With("threads", CpuParallel.Threads);
            double flops = name switch
            {
                "vae" => Suites.VaeFlopsPerSample(), "gan" => Suites.GanFlopsPerSample(), "vqvae" => Suites.VqVaeFlopsPerSample(),
                "prior" => Suites.PriorFlopsPerSample(new PixelCnnConfig()), _ => double.NaN,
            };
            if (double.IsFinite(flops))
            {
                double gf = flops * b / (ms / 1e3) / 1e9;
                rec.With("gflops", gf);
                if (double.IsFinite(peak)) rec.With("of_peak", gf / peak);
            }
            rows.Add(rec);
        }
        foreach (var (q, c) in Pairs)
            rows.Add(new Record("study-speed", $"{q} / {c}", dev.Name, 0, 0).With("time_per_image_ratio", perImage[q] / perImage[c]));
        rows.Add(new Record("study-speed", "machine", dev.Name, 0, 0).With("cores", Environment.ProcessorCount).With("avx2", Avx2.IsSupported)
            .With("avx512f", Avx512F.IsSupported).With("dotnet", Environment.Version.ToString()).With("build", QGenEngine.Models.Training.BuildInfo.Commit));
        if (double.IsFinite(peak)) rows.Add(new Record("study-speed", "fma-peak", dev.Name, 0, 0).With("gflops", peak).With("threads", CpuParallel.Threads));
        return rows;
    }

    private static double Median(List<double> xs)
    {
        var t = xs.Order().ToArray();
        return t.Length % 2 == 1 ? t[t.Length / 2] : 0.5 * (t[t.Length / 2 - 1] + t[t.Length / 2]);
    }
}
