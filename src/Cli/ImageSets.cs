using System.Globalization;
using QGenEngine.Models;
using QGenEngine.Models.Data;
using QGenEngine.Models.Metrics;
using QGenEngine.Models.Training;
using QGenEngine.Tensors;
using QGenEngine.Studies;

namespace QGenEngine.Cli;

/// <summary>
/// An image set named on the command line: `mnist:train[:N]`, `mnist:test[:N]`, `fashion:test[:N]`, an IDX
/// image file (gz or not), a folder of 28×28 PNGs, or a run directory (its model generates N images).
/// Images come back as 28×28 floats in [0, 1].
/// </summary>
public static class ImageSets
{
    /// <summary>Images, and their labels where the set has them (mnist:*, fashion:*).</summary>
    /// <param name="Dataset">the data set the images are of, where known (its metric classifier scores them)</param>
    public sealed record Set(float[] Pixels, int Count, string Description, byte[]? Labels = null, string? Dataset = null);

    public static Set Load(string spec, IDevice dev, int generate = 10_000, ulong seed = 7)
    {
        var parts = spec.Split(':');
        if (parts[0] is "mnist" or "fashion" && parts.Length is 2 or 3)
        {
            string split = parts[1] switch { "train" => "train", "test" => "t10k", var s => throw new CliException($"{spec}: unknown split '{s}'; expected train or test") };
            int n = int.MaxValue;
            if (parts.Length == 3 && (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out n) || n < 1))
                throw new CliException($"{spec}: '{parts[2]}' is not a positive image count");
            var (dir, verify) = DataSets.Resolve(parts[0], null);
            var set = DataSets.Load(dir, split, verify);
            if (n < set.Count) set = set.Take(n);
            return new Set(set.Pixels, set.Count, $"{parts[0]}:{parts[1]} ({set.Count} images)", set.Labels, parts[0]);
        }
        if (File.Exists(spec))
        {
            var raw = Idx.ReadAll(spec);
            var (px, n, rows, cols) = Idx.Images(spec, raw);
            if (rows != 28 || cols != 28) throw new CliException($"{spec}: images are {rows}×{cols}; the metric classifier takes 28×28");
            return new Set(px.Select(b => b / 255f).ToArray(), n, $"{spec} ({n} images)");
        }
        if (Directory.Exists(spec))
        {
            if (File.Exists(Path.Combine(spec, Trainer.ConfigFile)) && File.Exists(Path.Combine(spec, Trainer.CheckpointFile)))
            {
                var (model, o) = ModelCatalog.LoadRun(spec, dev);
                if (model is not IGenerative g) throw new CliException($"{spec}: a '{o.Model}' run cannot generate images, so it is no image set");
                return new Set(Evaluation.Generate(g, dev, generate, seed), generate, $"{generate} samples of {o.Model} from {spec}", null, o.Dataset);
            }
            var files = Directory.GetFiles(spec, "*.png").OrderBy(f => f, StringComparer.Ordinal).ToArray();
            if (files.Length == 0) throw new CliException($"{spec}: no PNG files, and not a run directory");
            var pixels = new float[files.Length * 784];
            for (int i = 0; i < files.Length; i++)
            {
                var (px, w, h) = ReadPng(files[i]);
                if (w != 28 || h != 28) throw new CliException($"{files[i]}: {w}×{h} pixels; an image set holds 28×28 images");
                px.CopyTo(pixels.AsSpan(i * 784, 784));
            }
            return new Set(pixels, files.Length, $"{spec} ({files.Length} PNGs)");
        }
        throw new CliException($"{spec}: not an image set; expected mnist:train[:N], mnist:test[:N], fashion:test, an IDX file, a folder of PNGs or a run directory");
    }

    /// <summary>A PNG of any size as grey values in [0, 1], with its width and height (<see cref="Imaging.ReadPng"/>).</summary>
    public static (float[] Pixels, int Width, int Height) ReadPng(string path) => Imaging.ReadPng(path);
}
