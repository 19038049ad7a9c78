namespace QGenEngine.Models.Training;

/// <summary>
/// Sample quality during training: FID (against the whole test set), IS and modes of a fixed number of images from
/// fixed latents, under the metric classifier of the run's data set; skipped, with one note, where that classifier
/// is missing.
/// </summary>
public sealed class TrainingScores(IDevice device, ImageSet test, string dataset, int samples, Action<string>? log)
{
    private Classifier? _classifier;
    private bool _noted;

    /// <summary>The seed of the latents the images are generated from (the same images epoch after epoch).</summary>
    public ulong Seed { get; init; } = Trainer.FixedNoiseSeed + 1;

    public GenerativeScores? Score(IGenerative g)
    {
        _classifier ??= MetricClassifier.TryLoad(device, dataset);
        if (_classifier is null)
        {
            if (!_noted) log?.Invoke($"note: models/{MetricClassifier.FileFor(dataset)} not found; FID, IS and modes during training are skipped");
            _noted = true;
            return null;
        }
        var reference = Evaluation.ReferenceStats(_classifier, device, test.Source, test.Pixels, test.Count);
        var images = Evaluation.Generate(g, device, samples, Seed);
        return Evaluation.Score(_classifier, device, reference, images, samples);
    }
}
