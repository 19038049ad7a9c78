namespace QGenEngine.Models.Data;

/// <summary>
/// MNIST-style data sets: a directory holding train/t10k images and labels (gzipped or not), the copy
/// committed under data/mnist (checksums checked), or Fashion-MNIST from Debian's package.
/// </summary>
public static class DataSets
{
    public const string FashionDir = "/usr/share/datasets/fashion-mnist";

    /// <summary>SHA-256 of the uncompressed MNIST files (MODELS.md).</summary>
    public static readonly IReadOnlyDictionary<string, string> MnistSha256 = new Dictionary<string, string>
    {
        ["train-images-idx3-ubyte"] = "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ["train-labels-idx1-ubyte"] = "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ["t10k-images-idx3-ubyte"] = "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ["t10k-labels-idx1-ubyte"] = "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    };

    /// <summary>The repository's data/mnist, found by walking up from the program's folder and the working directory.</summary>
    public static string? FindEmbeddedMnist()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var p = Path.Combine(d.FullName, "data", "mnist");
                if (File.Exists(Path.Combine(p, "train-images-idx3-ubyte.gz"))) return p;
            }
        return null;
    }

    /// <summary>Resolves --dataset/--data to a directory and whether its checksums are known.</summary>
    public static (string Dir, bool Verify) Resolve(string dataset, string? dataDir)
    {
        if (dataDir is not null)
        {
            if (!Directory.Exists(dataDir)) throw new DataException($"{dataDir}: data directory not found");
            return (dataDir, false);
        }
        return dataset.ToLowerInvariant() switch
        {
            "mnist" => (FindEmbeddedMnist() ?? throw new DataException("data/mnist: the embedded MNIST copy was not found above the program's or the current folder; pass ⟨data⟩ DIR"), true),
            "fashion" => Directory.Exists(FashionDir) ? (FashionDir, false)
                : throw new DataException($"{FashionDir}: not found; install Debian's package dataset-fashion-mnist, or pass ⟨data⟩ DIR"),
            _ => throw new DataException($"unknown dataset '{dataset}'; expected mnist or fashion"),
        };
    }

    /// <summary>Loads the "train" or "t10k" split of an IDX directory (files with or without .gz).</summary>
    public static ImageSet Load(string dir, string split, bool verify)
    {
        string Find(string stem)
        {
            foreach (var name in new[] { stem + ".gz", stem })
            {
                var p = Path.Combine(dir, name);
                if (File.Exists(p)) return p;
            }
            throw new DataException($"{Path.Combine(dir, stem)}(.gz): file not found");
        }
        string imgPath = Find($"{split}-images-idx3-ubyte"), lblPath = Find($"{split}-labels-idx1-ubyte");
        var imgRaw = Idx.ReadAll(imgPath); var lblRaw = Idx.ReadAll(lblPath);
        if (verify)
            foreach (var (path, raw, stem) in new[] { (imgPath, imgRaw, $"{split}-images-idx3-ubyte"), (lblPath, lblRaw, $"{split}-labels-idx1-ubyte") })
            {
                string got = Idx.Sha256(raw);
                if (got != MnistSha256[stem]) throw new DataException($"{path}: SHA-256 {got} does not match the expected {MnistSha256[stem]} (corrupted copy?)");
            }
        var (px, n, rows, cols) = Idx.Images(imgPath, imgRaw);
        var labels = Idx.Labels(lblPath, lblRaw);
        if (labels.Length != n) throw new DataException($"{lblPath}: {labels.Length} labels for {n} images in {imgPath}");
        var pixels = new float[px.Length];
        for (int i = 0; i < px.Length; i++) pixels[i] = px[i] / 255f;
        return new ImageSet(pixels, labels, rows, cols, $"{dir}:{split}");
    }
}
