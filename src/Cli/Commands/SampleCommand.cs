using System.CommandLine;
using QGenEngine.Models;
using QGenEngine.Models.Data;
using QGenEngine.Models.Metrics;

namespace QGenEngine.Cli.Commands;

/// <summary>`qgen-engine sample --run DIR`: images from any generative run, from seeded or given latents, as PNG or .npy.</summary>
public static class SampleCommand
{
    public static Command Build(TextWriter stdout)
    {
        var run = new Option<string>("--run") { Description = "a run directory made by `train`", Required = true };
        var n = new Option<int?>("--n") { Description = "how many images (default 64; with --latents, all of them)" };
        var outFile = new Option<string?>("--out") { Description = "output file (default DIR/samples-N.png or .npy)" };
        var seed = new Option<ulong>("--seed") { Description = "seed of the latent draws", DefaultValueFactory = _ => 7 };
        var latents = new Option<string?>("--latents") { Description = "a .npy file of float32 latents (N, latent size) to decode instead of random draws" };
        var format = new Option<string>("--format") { Description = "png (a grid) | npy (float32 (N, 1, 28, 28) in [0, 1])", DefaultValueFactory = _ => "png" };
        var device = DeviceOption.Create();
        var cmd = new Command("sample", "Generate images from a trained run") { run, n, outFile, seed, latents, format, device };
        cmd.SetAction(p =>
        {
            string dir = p.GetValue(run)!, fmt = p.GetValue(format)!;
            if (fmt is not ("png" or "npy")) throw new CliException($"--format: '{fmt}'; expected png or npy");
            var dev = DeviceOption.Resolve(p.GetValue(device));
            var (model, o) = ModelCatalog.LoadRun(dir, dev);
            if (model is not IGenerative g)
                throw new CliException(ModelCatalog.Get(o.Model).HowToGenerate is { } how
                    ? $"{dir}: {how.Replace("{run}", dir, StringComparison.Ordinal)}"
                    : $"{dir}: a '{o.Model}' run cannot generate images (it can {string.Join(", ", ModelEntry.Capabilities(model))})");
            float[] images;
            int count;
            if (p.GetValue(latents) is { } file)
            {
                var (z, shape) = Npy.Read(file);
                if (shape.Length != 2 || shape[1] != g.LatentSize || shape[0] < 1)
                    throw new CliException($"{file}: latents of shape ({string.Join(", ", shape)}); this {o.Model} expects (N, {g.LatentSize}) float32");
                count = p.GetValue(n) is { } k ? k : shape[0];
                if (count < 1 || count > shape[0]) throw new CliException($"--n: {count} is outside [1, {shape[0]}] (the latents in {file})");
                try { images = Evaluation.Generate(g, dev, z.AsSpan(0, count * g.LatentSize), count); }
                catch (ArgumentException e) { throw new CliException($"{file}: {e.Message}"); }
            }
            else
            {
                count = p.GetValue(n) ?? 64;
                if (count < 1 || count > 100_000) throw new CliException($"--n: {count} is outside [1, 100000]");
                images = Evaluation.Generate(g, dev, count, p.GetValue(seed));
            }
            string path = p.GetValue(outFile) ?? Path.Combine(dir, $"samples-{count}.{fmt}");
            if (fmt == "npy") Npy.Write(path, images, count, 1, 28, 28);
            else Imaging.SaveGrid(path, images, count, (int)Math.Ceiling(Math.Sqrt(count)));
            stdout.WriteLine($"wrote {count} samples of {o.Model} to {path}");
            return 0;
        });
        return cmd;
    }
}
