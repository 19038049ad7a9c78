using System.Runtime.Intrinsics.X86;
using QGenEngine.Autograd;
using QGenEngine.Models.Training;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Cli;

/// <summary>
/// A seeded CPU run gives the same bits on an AVX2 machine and an AVX-512 one: each run trains twice in a child
/// process, once with the runtime's AVX-512 switched off (DOTNET_EnableAVX512=0: the code an AVX2 machine runs), and
/// every tensor of the checkpoints and every score of the epoch must agree. Before <see cref="QGenEngine.Kernels.Cpu.FixedReduce"/>
/// the VAE's first epoch differed in the 7th digit, and 20 epochs apart moved its FID from 285.0 to 293.8. On a
/// machine without AVX-512 both runs are AVX2 and this checks only that two processes agree.
/// </summary>
[TestFixture]
public class InstructionSetTests : TempDirTest
{
    private static readonly string[] Timing = ["seconds", "samples_per_s", "cpu_seconds"];

    [TestCase("vae")]    // convolutions, batch norm's sums, the reductions of the loss
    [TestCase("qgan")]   // the circuit's simulator, the GAN's losses
    [TestCase("vqvae")]  // nearest-codebook distances
    public void A_seeded_run_is_the_same_with_AVX512_on_and_off(string model)
    {
        string Train(string isa)
        {
            string dir = Path.Combine(Dir, $"{model}-avx512-{isa}");
            using var p = CliRunner.Start(new Dictionary<string, string> { ["DOTNET_EnableAVX512"] = isa },
                "train", model, "--epochs", "1", "--limit", "256", "--batch-size", "32", "--fid-every", "0", "--eval-images", "50", "--seed", "5", "--out", dir);
            string err = p.StandardError.ReadToEndAsync().Result; p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.That(p.ExitCode, Is.Zero, err);
            return dir;
        }
        string on = Train("1"), off = Train("0");
        var (a, _) = SafeTensors.Read(Path.Combine(on, Trainer.CheckpointFile));
        var (b, _) = SafeTensors.Read(Path.Combine(off, Trainer.CheckpointFile));
        Assert.That(b.Keys, Is.EquivalentTo(a.Keys));
        foreach (var (name, t) in a)
            Assert.That(b[name].Data.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(t.Data.Select(BitConverter.SingleToInt32Bits)),
                        $"{model}: tensor {name} differs between AVX-512 {(Avx512F.IsSupported ? "on" : "(not on this machine)")} and off");
        var ma = RunLogs.ReadMetrics(on).Single(); var mb = RunLogs.ReadMetrics(off).Single();
        foreach (var (key, value) in ma.Where(kv => !Timing.Contains(kv.Key)))
            Assert.That(mb[key]?.ToJsonString(), Is.EqualTo(value?.ToJsonString()), $"{model}: the epoch's {key}");
    }
}
