using System.Globalization;
using System.Text.Json.Nodes;
using QGenEngine.Autograd;
using QGenEngine.Models;
using QGenEngine.Models.Data;
using QGenEngine.Models.Training;
using QGenEngine.Tensors;
using SkiaSharp;

namespace QGenEngine.Cli;

/// <summary>
/// An image set named on the command line: `mnist:train[:N]`, `mnist:test[:N]`, `fashion:test[:N]`, an IDX
/// image file (gz or not), a folder of 28×28 PNGs, or a run directory (its model generates N images).
/// Images come back as 28×28 floats in [0, 1].
/// </summary>
public static class ImageSets
{
    public sealed record Set(float[] Pixels, int Count, string Description);

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
            return new Set(set.Pixels, set.Count, $"{parts[0]}:{parts[1]} ({set.Count} images)");
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
            if (File.Exists(Path.Combine(spec, VaeTrainer.ConfigFile)) && File.Exists(Path.Combine(spec, VaeTrainer.CheckpointFile)))
            {
                var (model, o) = LoadRun(spec, dev);
                return new Set(VaeTrainer.Sample(model, dev, generate, seed), generate, $"{generate} samples of {o.Model} from {spec}");
            }
            var files = Directory.GetFiles(spec, "*.png").OrderBy(f => f, StringComparer.Ordinal).ToArray();
            if (files.Length == 0) throw new CliException($"{spec}: no PNG files, and not a run directory");
            var pixels = new float[files.Length * 784];
            for (int i = 0; i < files.Length; i++) ReadPng(files[i], pixels.AsSpan(i * 784, 784));
            return new Set(pixels, files.Length, $"{spec} ({files.Length} PNGs)");
        }
        throw new CliException($"{spec}: not an image set; expected mnist:train[:N], mnist:test[:N], fashion:test, an IDX file, a folder of PNGs or a run directory");
    }

    /// <summary>A 28×28 PNG as grey values in [0, 1] (colour is converted by luminance).</summary>
    public static void ReadPng(string path, Span<float> dst)
    {
        using var bmp = SKBitmap.Decode(path) ?? throw new CliException($"{path}: not a readable PNG");
        if (bmp.Width != 28 || bmp.Height != 28) throw new CliException($"{path}: {bmp.Width}×{bmp.Height} pixels; expected 28×28");
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
            {
                var c = bmp.GetPixel(x, y);
                dst[y * 28 + x] = (0.299f * c.Red + 0.587f * c.Green + 0.114f * c.Blue) / 255f;
            }
    }

    public static (Vae Model, TrainOptions Options) LoadRun(string dir, IDevice dev)
    {
        var cfg = Path.Combine(dir, VaeTrainer.ConfigFile);
        if (!File.Exists(cfg)) throw new CliException($"{cfg}: not found; expected a directory made by `qgen-engine train`");
        var o = TrainOptions.FromJson(JsonNode.Parse(File.ReadAllText(cfg))!.AsObject(), cfg);
        var model = new Vae(dev, o.Seed, o.ModelConfig());
        Checkpoint.Load(Path.Combine(dir, VaeTrainer.CheckpointFile), model);
        return (model, o);
    }
}
