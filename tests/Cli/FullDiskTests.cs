using System.Diagnostics;
using QGenEngine.Autograd;
using QGenEngine.Kernels.Reference;
using QGenEngine.Models;
using QGenEngine.Models.Training;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Cli;

/// <summary>
/// A full disk (issue #25) while `train` writes its checkpoint, a log line or a picture: one line naming the file and
/// saying the disk is full, exit 2, the previous checkpoint intact, and a resume (with space again) that ends where an
/// uninterrupted run ends. Injected where the test cannot mount; and once on a real 6 MB tmpfs where it can (root).
/// </summary>
[TestFixture, NonParallelizable]
public class FullDiskTests : TempDirTest
{
    private static readonly string[] Train = ["train", "vae", "--epochs", "3", "--limit", "64", "--batch-size", "32", "--fid-every", "0", "--eval-images", "10", "--no-augment", "--seed", "4"];

    [TearDown] public void NoFault() => AtomicFile.SimulateFullDisk = null;

    [TestCase(Trainer.CheckpointFile, 2, 1)]   // the second checkpoint fails: the first stays
    [TestCase(Trainer.MetricsFile, 2, 2)]      // epoch 2's metrics line fails after its checkpoint: restored on resume
    [TestCase("loss.png", 2, 2)]               // a picture after epoch 2's checkpoint
    public void A_full_disk_is_one_line_the_checkpoint_survives_and_a_resume_finishes_the_run(string file, int failOnWrite, int checkpointEpoch)
    {
        string reference = Path.Combine(Dir, "reference"), run = Path.Combine(Dir, "run");
        Assert.That(CliRunner.Run([.. Train, "--out", reference]).Code, Is.Zero);
        int writes = 0;
        AtomicFile.SimulateFullDisk = p => Path.GetFileName(p) == file && ++writes == failOnWrite;
        var (code, _, err) = CliRunner.Run([.. Train, "--out", run]);
        AtomicFile.SimulateFullDisk = null;
        UserError.Assert(code, "", err, Path.Combine(run, file) + ": not written: the disk is full");
        var (_, meta) = SafeTensors.Read(Path.Combine(run, Trainer.CheckpointFile));
        Assert.That(int.Parse(meta["train.epoch"]), Is.EqualTo(checkpointEpoch), "the last checkpoint written is intact");
        Assert.DoesNotThrow(() => ModelCatalog.LoadRun(run, ReferenceDevice.Instance));
        Assert.That(RunLogs.ReadMetrics(run).Select(m => m["epoch"]!.GetValue<int>()), Has.All.LessThanOrEqualTo(checkpointEpoch));
        Assert.That(Directory.GetFiles(run, ".*.tmp"), Is.Empty, "no temporary file left behind");

        var (c2, o2, e2) = CliRunner.Run([.. Train, "--out", run, "--resume"]);
        Assert.That(c2, Is.Zero, o2 + e2);
        var want = RunLogs.ReadMetrics(reference); var got = RunLogs.ReadMetrics(run);
        Assert.That(got.Select(m => m["epoch"]!.GetValue<int>()), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(got.Select(m => m["loss"]!.GetValue<double>()), Is.EqualTo(want.Select(m => m["loss"]!.GetValue<double>())), "as if the disk had never filled");
    }

    [Test]
    public void On_a_real_full_file_system()
    {
        string mnt = Path.Combine(Dir, "small");
        Directory.CreateDirectory(mnt);
        var mount = Process.Start(new ProcessStartInfo("mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt]) { RedirectStandardError = true, RedirectStandardOutput = true });
        mount?.WaitForExit();
        if (mount is null || mount.ExitCode != 0) Assert.Ignore($"cannot mount a tmpfs here ({mount?.StandardError.ReadToEnd().Trim()}); the injected cases ran");
        try
        {
            // The classifier's checkpoint (5 MB) fits once in 6 MB; its second needs room for a new file beside the old one.
            string run = Path.Combine(mnt, "run");
            var (code, _, err) = CliRunner.Run("train", "classifier", "--epochs", "3", "--limit", "512", "--eval-images", "100", "--out", run);
            Assert.That(code, Is.EqualTo(2), err);
            Assert.That(err, Does.Contain("checkpoint.safetensors: not written: the disk is full (no space left on device); its previous version is unchanged"));
            var (_, meta) = SafeTensors.Read(Path.Combine(run, Trainer.CheckpointFile));
            Assert.That(int.Parse(meta["train.epoch"]), Is.EqualTo(1));
            Assert.That(Directory.GetFiles(run, ".*.tmp"), Is.Empty);
        }
        finally { Process.Start("umount", [mnt])?.WaitForExit(); }
    }
}
