namespace QGenEngine.Models.Metrics;

/// <summary>
/// The committed metric classifiers, one per data set - models/classifier.safetensors (MNIST) and
/// models/classifier-fashion.safetensors (Fashion-MNIST) - found above the program's or the current folder. FID, IS
/// and modes of a set are taken with the classifier of its data set.
/// </summary>
public static class MetricClassifier
{
    public const string FileName = "classifier.safetensors";

    /// <summary>The classifier file of a data set ("mnist", "fashion").</summary>
    public static string FileFor(string dataset) => dataset switch
    {
        "mnist" => FileName,
        "fashion" => "classifier-fashion.safetensors",
        _ => throw new ArgumentException($"no metric classifier for data set '{dataset}'; expected mnist or fashion"),
    };

    public static string? Find(string dataset = "mnist")
    {
        string file = FileFor(dataset);
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var p = Path.Combine(d.FullName, "models", file);
                if (File.Exists(p)) return p;
            }
        return null;
    }

    public static Classifier Load(IDevice dev, string dataset = "mnist") => TryLoad(dev, dataset) ??
        throw new FileNotFoundException($"models/{FileFor(dataset)}: the {dataset} metric classifier was not found above {AppContext.BaseDirectory} or the current folder; " +
                                        $"train one with: qgen-engine train classifier{(dataset == "mnist" ? "" : $" ⟨dataset⟩ {dataset}")}");

    /// <summary>The classifier of a data set, or null where its file is not found.</summary>
    public static Classifier? TryLoad(IDevice dev, string dataset = "mnist")
    {
        if (Find(dataset) is not { } path) return null;
        var model = new Classifier(dev, 0);
        Checkpoint.Load(path, model);
        return model;
    }
}
