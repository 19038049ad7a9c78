using QGenEngine.Autograd;
using QGenEngine.Autograd.Optim;
using QGenEngine.Kernels;
using QGenEngine.Models;
using QGenEngine.Tensors;

using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

[TestFixture]
public class CheckpointTests : TempDirTest
{

    [Test]
    public void Reads_a_file_written_by_python()
    {
        var (tensors, meta) = SafeTensors.Read(Path.Combine(AppContext.BaseDirectory, "fixtures", "python_written.safetensors"));
        Assert.That(meta["written_by"], Is.EqualTo("python"));
        Assert.That(tensors["layer.weight"].Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(tensors["layer.weight"].Data, Is.EqualTo(new[] { 0f, 0.25f, 0.5f, 0.75f, 1f, 1.25f }));
        Assert.That(tensors["layer.bias"].Data, Is.EqualTo(new[] { -1.5f, 2.25f }));
        Assert.That(tensors["scalar"].Shape, Is.Empty);
        Assert.That(tensors["scalar"].Data, Is.EqualTo(new[] { 3f }));
    }

    [Test]
    public void Header_follows_the_format()
    {
        var path = Path.Combine(Dir, "t.safetensors");
        SafeTensors.Write(path, [("a", Tensor.FromArray(Backends.Cpu, [1f, 2f, 3f], 3))], new Dictionary<string, string> { ["k"] = "v" });
        var bytes = File.ReadAllBytes(path);
        long n = BitConverter.ToInt64(bytes, 0);
        Assert.That(n % 8, Is.Zero, "header padded to 8 bytes");
        Assert.That(bytes.Length, Is.EqualTo(8 + n + 12));
        var header = System.Text.Json.JsonDocument.Parse(System.Text.Encoding.UTF8.GetString(bytes, 8, (int)n)).RootElement;
        Assert.That(header.GetProperty("a").GetProperty("dtype").GetString(), Is.EqualTo("F32"));
        Assert.That(header.GetProperty("a").GetProperty("data_offsets")[1].GetInt32(), Is.EqualTo(12));
        Assert.That(BitConverter.ToSingle(bytes, (int)(8 + n + 4)), Is.EqualTo(2f));
        Assert.That(Directory.GetFiles(Dir), Has.Length.EqualTo(1), "no temporary file left behind");
    }

    [Test]
    public void Saving_and_loading_restores_model_optimiser_and_generator_so_training_continues_identically()
    {
        var dev = Backends.Cpu;
        var x = Tensor.FromArray(dev, TrainStepTests.Blobs(4, 1), 4, 1, 28, 28);
        void Steps(Vae m, Adam o, int n)
        {
            for (int i = 0; i < n; i++)
            {
                using var s = TensorScope.Begin();
                o.ZeroGrad(); Graph.Backward(m.Loss(x).Loss); o.Step();
            }
        }
        var straight = new Vae(dev, 3); var so = new Adam(straight.NamedParameters());
        Steps(straight, so, 4);

        var first = new Vae(dev, 3); var fo = new Adam(first.NamedParameters());
        Steps(first, fo, 2);
        var path = Path.Combine(Dir, "ckpt.safetensors");
        Checkpoint.Save(path, first, [("model", fo)], new Dictionary<string, string> { ["model"] = "vae" });

        var resumed = new Vae(dev, 99); var ro = new Adam(resumed.NamedParameters());
        var meta = Checkpoint.Load(path, resumed, [("model", ro)]);
        Assert.That(meta["train.optimizer.model.type"], Is.EqualTo("Adam"));
        Assert.That(resumed.Noise.Position, Is.EqualTo(first.Noise.Position), "the noise stream continues where it was");
        Assert.That(ro.StepCount, Is.EqualTo(2));
        Steps(resumed, ro, 2);
        foreach (var ((name, a), (_, b)) in straight.StateDict().Zip(resumed.StateDict()))
            Assert.That(b.ToArray(), Is.EqualTo(a.ToArray()), name);
    }

    [Test]
    public void Damaged_or_mismatched_files_give_clear_errors_naming_the_file()
    {
        var dev = Backends.Cpu;
        var model = new Vae(dev, 1);
        var path = Path.Combine(Dir, "m.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.That(Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, model))!.Message, Does.Contain(path).And.Contain("too short"));
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(1000L), .. "{}"u8.ToArray()]);
        Assert.That(Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, model))!.Message, Does.Contain("exceeds"));
        var small = new Vae(dev, 1, latent: 8);
        Checkpoint.Save(path, small);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, model))!;
        Assert.That(e.Message, Does.Contain("fc_mu.weight").And.Contain("[8, 256]").And.Contain("[32, 256]"));
        var before = model.StateDict().First().T.ToArray();
        Assert.That(model.StateDict().First().T.ToArray(), Is.EqualTo(before), "a failed load changes nothing");
        Assert.That(Assert.Throws<CheckpointException>(() => Checkpoint.Load(Path.Combine(Dir, "missing.safetensors"), model))!.Message, Does.Contain("missing.safetensors"));
    }

    [Test]
    public void Schedules_warm_up_then_anneal()
    {
        var s = new CosineLr(1e-3f, 110, WarmupSteps: 10);
        Assert.That(s.At(0), Is.EqualTo(1e-4f).Within(1e-9f));
        Assert.That(s.At(9), Is.EqualTo(1e-3f).Within(1e-9f));
        Assert.That(s.At(60), Is.EqualTo(5e-4f).Within(1e-8f));
        Assert.That(s.At(110), Is.EqualTo(0f).Within(1e-9f));
        Assert.That(new ConstantLr(0.1f).At(12345), Is.EqualTo(0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([("p", Tensor.Zeros(Backends.Cpu, 1))], float.NaN));
    }
}
