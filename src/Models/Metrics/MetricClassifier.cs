using QGenEngine.Autograd;
using QGenEngine.Tensors;

namespace QGenEngine.Models.Metrics;

/// <summary>The committed metric classifier (models/classifier.safetensors), found above the program's or the current folder.</summary>
public static class MetricClassifier
{
    public const string FileName = "classifier.safetensors";

    public static string? Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var p = Path.Combine(d.FullName, "models", FileName);
                if (File.Exists(p)) return p;
            }
        return null;
    }

    public static Classifier Load(IDevice dev) => TryLoad(dev) ??
        throw new FileNotFoundException($"models/{FileName}: the metric classifier was not found above {AppContext.BaseDirectory} or the current folder; train one with: qgen-engine train classifier");

    /// <summary>The classifier, or null where the file is not found.</summary>
    public static Classifier? TryLoad(IDevice dev)
    {
        if (Find() is not { } path) return null;
        var model = new Classifier(dev, 0);
        Checkpoint.Load(path, model);
        return model;
    }
}
