using System.CommandLine;
using System.Text.Json.Nodes;
using QGenEngine.Autograd;
using QGenEngine.Kernels;
using QGenEngine.Models;
using QGenEngine.Models.Training;

namespace QGenEngine.Cli.Commands;

/// <summary>`qgen-engine sample --run DIR`: draws new digits from a trained run's checkpoint.</summary>
public static class SampleCommand
{
    public static Command Build(TextWriter stdout)
    {
        var run = new Option<string>("--run") { Description = "a run directory made by `train`", Required = true };
        var n = new Option<int>("--n") { Description = "how many images", DefaultValueFactory = _ => 64 };
        var outFile = new Option<string?>("--out") { Description = "PNG file (default DIR/samples-N.png)" };
        var seed = new Option<ulong>("--seed") { Description = "seed of the latent draws", DefaultValueFactory = _ => 7 };
        var device = DeviceOption.Create();
        var cmd = new Command("sample", "Generate images from a trained run") { run, n, outFile, seed, device };
        cmd.SetAction(p =>
        {
            string dir = p.GetValue(run)!;
            int count = p.GetValue(n);
            if (count < 1 || count > 4096) throw new CliException($"--n: {count} is outside [1, 4096]");
            var cfg = Path.Combine(dir, VaeTrainer.ConfigFile);
            if (!File.Exists(cfg)) throw new CliException($"{cfg}: not found; --run needs a directory made by `qgen-engine train`");
            var o = TrainOptions.FromJson(JsonNode.Parse(File.ReadAllText(cfg))!.AsObject(), cfg);
            var dev = DeviceOption.Resolve(p.GetValue(device));
            var model = new Vae(dev, o.Seed, o.ModelConfig());
            Checkpoint.Load(Path.Combine(dir, VaeTrainer.CheckpointFile), model);
            var images = VaeTrainer.Sample(model, dev, count, p.GetValue(seed));
            string path = p.GetValue(outFile) ?? Path.Combine(dir, $"samples-{count}.png");
            Imaging.SaveGrid(path, images, count, (int)Math.Ceiling(Math.Sqrt(count)));
            stdout.WriteLine($"wrote {count} samples of {o.Model} to {path}");
            return 0;
        });
        return cmd;
    }
}
