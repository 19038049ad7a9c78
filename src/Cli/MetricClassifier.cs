using QGenEngine.Autograd;
using QGenEngine.Models;
using QGenEngine.Tensors;

namespace QGenEngine.Cli;

/// <summary>The committed metric classifier (models/classifier.safetensors), found above the program's or the current folder.</summary>
public static class MetricClassifier
{
    public const string FileName = "classifier.safetensors";

    public static string DefaultDir() =>
        Path.GetDirectoryName(Find() ?? Path.Combine(Directory.GetCurrentDirectory(), "models", FileName))!;

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

    public static Classifier Load(IDevice dev)
    {
        var path = Find() ?? throw new CliException($"models/{FileName}: the metric classifier was not found; train it with: qgen-engine train classifier");
        var model = new Classifier(dev, 0);
        Checkpoint.Load(path, model);
        return model;
    }
}
