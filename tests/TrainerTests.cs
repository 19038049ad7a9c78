using System.Text.Json.Nodes;
using QGenEngine.Autograd;
using QGenEngine.Kernels;
using QGenEngine.Models;
using QGenEngine.Models.Training;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

/// <summary>The one training loop: every model stops and resumes bit for bit, the logs stay consistent, round-1 checkpoints load.</summary>
[TestFixture]
public class TrainerTests : TempDirTest
{
    private static TrainOptions Small(string model)
    {
        // "vqvae+fixes": every codebook fix on, so EMA statistics, restarts and k-means go through stop and resume too.
        bool fixes = model.EndsWith("+fixes", StringComparison.Ordinal);
        model = model.Replace("+fixes", "", StringComparison.Ordinal);
        return (TrainOptions.Defaults(model) with
        {
            Epochs = 2, Limit = 4 * TrainOptions.Defaults(model).BatchSize / 2, EvalImages = 16, Seed = 3, FidEvery = 0,
            BatchSize = TrainOptions.Defaults(model).BatchSize / 2,
        }).With(VqVaeSettings.Ema, fixes).With(VqVaeSettings.KMeansInit, fixes).With(VqVaeSettings.RestartDead, fixes ? 3 : 0);
    }

    private static Dictionary<string, float[]> State(string run)
    {
        var (t, _) = SafeTensors.Read(Path.Combine(run, Trainer.CheckpointFile));
        return t.ToDictionary(kv => kv.Key, kv => kv.Value.Data);
    }

    [TestCase("gan", true)]
    [TestCase("gan", false)]
    [TestCase("qgan", false)]
    [TestCase("qvae", true)]
    [TestCase("qvae", false)]
    [TestCase("vae-attn", false)]
    [TestCase("vae", true)]
    [TestCase("vae", false)]
    [TestCase("classifier", true)]
    [TestCase("classifier", false)]
    [TestCase("vqvae", false)]
    [TestCase("vqvae+fixes", true)]
    [TestCase("vqvae+fixes", false)]
    [TestCase("prior", true)]
    [TestCase("prior", false)]
    public void Stopping_then_resuming_equals_an_uninterrupted_run(string model, bool atEpochBoundary)
    {
        var o = Small(model);
        if (o.Model == "prior")
        {
            string vq = Path.Combine(Dir, "vq");
            new Trainer(Small("vqvae") with { Epochs = 1 }, vq, Backends.Cpu, false).Run(null, null, CancellationToken.None);
            o = (o with { EvalImages = 8 }).With(CodePrior.VqVaeRun, vq);
        }
        string a = Path.Combine(Dir, "a"), b = Path.Combine(Dir, "b");
        Assert.That(new Trainer(o, a, Backends.Cpu, false).Run(null, null, CancellationToken.None), Is.True);
        using var cts = new CancellationTokenSource();
        // Step scalars are read two steps at a time: the stop requested on seeing step 1 lands after step 2, mid-epoch.
        var t = new Trainer(o, b, Backends.Cpu, false) { ReadEvery = 2 };
        bool finished = atEpochBoundary
            ? t.Run(null, _ => cts.Cancel(), cts.Token)
            : t.Run(p => { if (p.Epoch == 1 && p.Step == 1) cts.Cancel(); }, null, cts.Token);
        Assert.That(finished, Is.False, "stopped early");
        var resumed = new Trainer(o, b, Backends.Cpu, true);
        Assert.That(resumed.CompletedEpochs, Is.EqualTo(atEpochBoundary ? 1 : 0));
        Assert.That(resumed.Run(null, null, CancellationToken.None), Is.True);
        var sa = State(a); var sb = State(b);
        Assert.That(sb.Keys, Is.EquivalentTo(sa.Keys));
        foreach (var k in sa.Keys) Assert.That(sb[k], Is.EqualTo(sa[k]), k);
        var ma = RunLogs.ReadMetrics(a); var mb = RunLogs.ReadMetrics(b);
        Assert.That(mb, Has.Count.EqualTo(2));
        Assert.That(mb.Select(m => m["cpu_seconds"]!.GetValue<double>()), Has.All.GreaterThan(0), "CPU time counted across the stop (train.epoch_cpu_seconds)");
        foreach (var s in resumed.Scalars)
            for (int e = 0; e < 2; e++)
                Assert.That(mb[e][s]!.GetValue<double>(), Is.EqualTo(ma[e][s]!.GetValue<double>()), $"epoch {e + 1} mean {s}");
        var (_, rowsA) = RunLogs.ReadSteps(a); var (cols, rowsB) = RunLogs.ReadSteps(b);
        Assert.That(cols, Is.EqualTo(new[] { "step", "epoch" }.Concat(resumed.Scalars)));
        Assert.That(rowsB.Select(r => r[0]), Is.EqualTo(Enumerable.Range(1, 2 * resumed.StepsPerEpoch).Select(i => (double)i)), "every step logged once");
        Assert.That(rowsB.Select(r => r[2]), Is.EqualTo(rowsA.Select(r => r[2])), "per-step scalars");
    }

    [Test]
    public void A_gan_discriminator_trains_at_its_own_learning_rate_when_d_lr_is_given()
    {
        var o = Small("gan") with { Epochs = 1, Cosine = false };
        var same = new Trainer(o, Path.Combine(Dir, "same"), Backends.Cpu, false);
        same.Run(null, null, CancellationToken.None);
        Assert.That(same.Parts["discriminator"].Optimizer.LearningRate, Is.EqualTo(o.Lr), "d_lr 0: the run's lr for both parts");
        var ttur = new Trainer(o.With(GanSettings.DLr, 4 * o.Lr), Path.Combine(Dir, "ttur"), Backends.Cpu, false);
        Assert.That(ttur.Parts["discriminator"].LrScale, Is.EqualTo(4f).Within(1e-6));
        ttur.Run(null, null, CancellationToken.None);
        Assert.That(ttur.Parts["discriminator"].Optimizer.LearningRate, Is.EqualTo(4 * o.Lr).Within(1e-9), "set at every step by the schedule, scaled");
        Assert.That(ttur.Parts["generator"].Optimizer.LearningRate, Is.EqualTo(o.Lr));
        var (a, _) = SafeTensors.Read(Path.Combine(Dir, "same", Trainer.CheckpointFile));
        var (b, _) = SafeTensors.Read(Path.Combine(Dir, "ttur", Trainer.CheckpointFile));
        Assert.That(b["discriminator.0.weight"].Data, Is.Not.EqualTo(a["discriminator.0.weight"].Data), "the larger rate moved the discriminator differently");
        Assert.That(JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "ttur", Trainer.ConfigFile)))!["d_lr"]!.GetValue<float>(), Is.EqualTo(4 * o.Lr), "config.json keeps it for a resume");
    }

    [Test]
    public void Gan_checkpoint_holds_both_parts_optimisers_and_every_random_stream()
    {
        var o = Small("gan") with { Epochs = 1 };
        new Trainer(o, Dir, Backends.Cpu, false).Run(null, null, CancellationToken.None);
        var (tensors, meta) = SafeTensors.Read(Path.Combine(Dir, Trainer.CheckpointFile));
        Assert.That(tensors.Keys, Has.Some.EqualTo("train.optimizer.generator.exp_avg.generator.0.weight"));
        Assert.That(tensors.Keys, Has.Some.EqualTo("train.optimizer.discriminator.exp_avg_sq.discriminator.10.bias"));
        Assert.That(meta["train.optimizer.generator.beta1"], Is.EqualTo("0.5"));
        Assert.That(meta["train.optimizer.discriminator.step"], Is.EqualTo("4"), "128 images in batches of 32");
        foreach (var s in new[] { "noise", "discriminator.2.rng", "discriminator.5.rng", "discriminator.8.rng" })
            Assert.That(meta.ContainsKey($"rng.{s}.position"), s);
        Assert.That(tensors["generator.1.num_batches_tracked"].Data, Is.EqualTo(new[] { 4f }));
    }

    /// <summary>Run a trained to the end, and run b stopped after its first step: the pair the old-format resume tests compare.</summary>
    private (string A, string B, string Checkpoint) FinishedAndStopped(TrainOptions o)
    {
        string a = Path.Combine(Dir, "a"), b = Path.Combine(Dir, "b");
        new Trainer(o, a, Backends.Cpu, false).Run(null, null, CancellationToken.None);
        using var cts = new CancellationTokenSource();
        // Scalars read back at every step, so the stop requested on seeing step 1 lands after step 1 whatever the machine's load.
        new Trainer(o, b, Backends.Cpu, false) { ReadEvery = 1 }.Run(p => { if (p.Step == 1) cts.Cancel(); }, null, cts.Token);
        return (a, b, Path.Combine(b, Trainer.CheckpointFile));
    }

    /// <summary>
    /// A round-1 run directory: one optimiser under "optimizer.", the noise stream as rng.seed / rng.position,
    /// the epoch's sums as train.loss_sum etc. and no steps.csv. Written here in that layout from a run
    /// stopped mid-epoch, it resumes to the same weights as an uninterrupted run.
    /// </summary>
    [Test]
    public void A_round_1_checkpoint_still_resumes_exactly()
    {
        var o = Small("vae");
        var (a, b, ckpt) = FinishedAndStopped(o);
        var (t, meta) = SafeTensors.Read(ckpt);
        var v1 = t.Select(kv => (Name: kv.Key.Replace("train.optimizer.model.", "optimizer.", StringComparison.Ordinal), kv.Value))
                  .Select(x => (x.Name, Tensor: QGenEngine.Tensors.Tensor.FromArray(Backends.Cpu, x.Value.Data, x.Value.Shape)));
        var m1 = new Dictionary<string, string>
        {
            ["format"] = Checkpoint.FormatV1, ["model"] = "vae", ["optimizer.step"] = meta["train.optimizer.model.step"],
            ["rng.seed"] = meta["rng.noise.seed"], ["rng.position"] = meta["rng.noise.position"],
            ["train.epoch"] = meta["train.epoch"], ["train.step"] = meta["train.step"], ["train.epoch_seconds"] = "1",
            ["train.loss_sum"] = meta["train.sum.loss"], ["train.bce_sum"] = meta["train.sum.bce"], ["train.kl_sum"] = meta["train.sum.kl"],
        };
        Assert.That(meta["train.step"], Is.EqualTo("1"), "stopped mid-epoch, after its first step");
        SafeTensors.Write(ckpt, v1, m1);
        File.Delete(Path.Combine(b, Trainer.StepsFile));
        var resumed = new Trainer(o, b, Backends.Cpu, true);
        Assert.That(resumed.Run(null, null, CancellationToken.None), Is.True);
        var sa = State(a); var sb = State(b);
        foreach (var k in sa.Keys) Assert.That(sb[k], Is.EqualTo(sa[k]), k);
        Assert.That(RunLogs.ReadMetrics(b)[0]["loss"]!.GetValue<double>(), Is.EqualTo(RunLogs.ReadMetrics(a)[0]["loss"]!.GetValue<double>()), "the epoch mean includes the round-1 sums");
        Assert.That(RunLogs.ReadMetrics(b)[0]["cpu_seconds"], Is.Null, "the first epoch was begun by a binary that did not count CPU time: it has none, not a part");
        Assert.That(RunLogs.ReadMetrics(b)[1]["cpu_seconds"]!.GetValue<double>(), Is.GreaterThan(0), "the next epoch is counted whole");
    }

    /// <summary>
    /// A round-2 (format v2) run directory - what the study's runs of that time hold: optimiser state under
    /// "optimizer.&lt;part&gt;." and the circuit's training statistics under "state.". Rewritten in that layout from a
    /// qvae run stopped mid-epoch, it resumes to the same weights and statistics as an uninterrupted run.
    /// </summary>
    [Test]
    public void A_v2_checkpoint_still_resumes_exactly()
    {
        var o = Small("qvae");
        var (a, b, ckpt) = FinishedAndStopped(o);
        var (t, meta) = SafeTensors.Read(ckpt);
        static string V2(string k) => k.StartsWith("train.optimizer.", StringComparison.Ordinal) || k.StartsWith("train.state.", StringComparison.Ordinal) ? k["train.".Length..] : k;
        Assert.That(t.Keys, Has.Some.StartsWith("train.state."), "a qvae carries training state");
        var v2 = t.Select(kv => (Name: V2(kv.Key), Tensor: QGenEngine.Tensors.Tensor.FromArray(Backends.Cpu, kv.Value.Data, kv.Value.Shape)));
        var m2 = meta.ToDictionary(kv => V2(kv.Key), kv => kv.Value);
        m2["format"] = Checkpoint.FormatV2;
        SafeTensors.Write(ckpt, v2, m2);
        Assert.That(new Trainer(o, b, Backends.Cpu, true).Run(null, null, CancellationToken.None), Is.True);
        var sa = State(a); var sb = State(b);
        Assert.That(sb.Keys, Is.EquivalentTo(sa.Keys), "rewritten in the current format");
        foreach (var k in sa.Keys) Assert.That(sb[k], Is.EqualTo(sa[k]), k);
    }

    [Test]
    public void Logs_written_past_the_checkpoint_are_dropped_on_resume()
    {
        // A crash after metrics.jsonl and steps.csv were appended but before the checkpoint was renamed.
        var o = Small("gan");
        using var cts = new CancellationTokenSource();
        new Trainer(o, Dir, Backends.Cpu, false).Run(null, _ => cts.Cancel(), cts.Token);
        File.AppendAllText(Path.Combine(Dir, Trainer.MetricsFile), "{\"epoch\":2,\"d_loss\":9}\n");
        File.AppendAllText(Path.Combine(Dir, Trainer.StepsFile), "5,1.25,9,9,9,9\n");
        new Trainer(o, Dir, Backends.Cpu, true).Run(null, null, CancellationToken.None);
        Assert.That(RunLogs.ReadMetrics(Dir).Select(m => m["epoch"]!.GetValue<int>()), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(RunLogs.ReadMetrics(Dir)[1]["d_loss"]!.GetValue<double>(), Is.Not.EqualTo(9));
        Assert.That(RunLogs.ReadSteps(Dir).Rows.Select(r => r[0]), Is.EqualTo(Enumerable.Range(1, 8).Select(i => (double)i)));
    }

    [Test]
    public void Generative_models_record_fid_is_and_modes_each_epoch()
    {
        var o = Small("gan") with { Epochs = 1, FidEvery = 1, FidSamples = 100 };
        new Trainer(o, Dir, Backends.Cpu, false).Run(null, null, CancellationToken.None);
        var m = RunLogs.ReadMetrics(Dir)[0];
        Assert.That(m["fid"]!.GetValue<double>(), Is.GreaterThan(50), "two steps of training are far from MNIST");
        Assert.That(m["modes"]!.GetValue<int>(), Is.InRange(0, 10));
        Assert.That(m["class_histogram"]!.AsArray().Sum(h => h!.GetValue<double>()), Is.EqualTo(1).Within(1e-5));
        Assert.That(m["is"]!.GetValue<double>(), Is.InRange(1.0, 10.0));
    }

    [Test]
    public void A_run_directory_in_use_by_another_trainer_is_refused_and_left_alone()
    {
        var o = Small("vae") with { Epochs = 1 };
        var first = new Trainer(o, Dir, Backends.Cpu, false);
        string? refused = null;
        Assert.That(first.Run(p =>
        {
            if (p.Step != 1) return;
            // A second process (here: a second trainer) asking for the same directory while the first trains.
            refused = Assert.Throws<IOException>(() => new Trainer(o, Dir, Backends.Cpu, true))!.Message;
        }, null, CancellationToken.None), Is.True);
        Assert.That(refused, Does.Contain("in use by another qgen-engine process"));
        Assert.That(RunLogs.ReadMetrics(Dir), Has.Count.EqualTo(1), "the first run's logs are whole");
        Assert.That(new Trainer(o with { Epochs = 2 }, Dir, Backends.Cpu, true).CompletedEpochs, Is.EqualTo(1), "free again once the first has finished");
    }

    [Test]
    public void Data_of_another_image_size_is_refused_naming_the_size_the_model_takes()
    {
        // The loop sizes its buffers from the data; the model says what it takes (ITrainable.ImageSize).
        string data = Path.Combine(Dir, "idx20");
        Directory.CreateDirectory(data);
        void Idx(string name, int n, params int[] dims)
        {
            var b = new List<byte> { 0, 0, 8, (byte)(dims.Length + 1) };
            foreach (int d in (int[])[n, .. dims]) b.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
            b.AddRange(new byte[n * dims.Aggregate(1, (x, y) => x * y)]);
            File.WriteAllBytes(Path.Combine(data, name), [.. b]);
        }
        foreach (var split in new[] { "train", "t10k" }) { Idx($"{split}-images-idx3-ubyte", 8, 20, 20); Idx($"{split}-labels-idx1-ubyte", 8); }
        var o = TrainOptions.Defaults("vae") with { DataDir = data, Epochs = 1, BatchSize = 4, EvalImages = 4 };
        var e = Assert.Throws<QGenEngine.Models.Data.DataException>(() => new Trainer(o, Path.Combine(Dir, "run"), Backends.Cpu, false))!;
        Assert.That(e.Message, Does.EndWith("images are 20×20; vae takes 28×28"));
    }
}
