using System.Collections.Immutable;
using System.Text.Json.Nodes;

namespace QGenEngine.Models.Training;

/// <summary>
/// The settings every model has: the training loop's (<see cref="Trainer"/>). A model's own settings are declared in
/// its file (<see cref="ModelSettings"/>, <see cref="CircuitSettings"/>, <see cref="VqVaeSettings"/>, ...) and listed in
/// its catalogue entry; the CLI's flags, --help, config.json and a study spec's checks are made from the declarations.
/// </summary>
public static class TrainSettings
{
    private static string? AtLeast(int v, int min, string? why = null) => v < min ? $"{v} must be ≥ {min}{why}" : null;
    private static string? Within(int v, int min, int max) => v < min || v > max ? $"{v} is outside [{min}, {max}]" : null;

    public static readonly Setting<int> Epochs = new("epochs", 20, "epochs", v => AtLeast(v, 1), required: true);
    public static readonly Setting<int> BatchSize = new("batch_size", 32, "batch size", v => Within(v, 2, 65536), required: true);
    public static readonly Setting<float> Lr = new("lr", 1e-3f, "the optimiser's learning rate",
        v => v > 0 && !float.IsInfinity(v) ? null : $"{Setting.Show(v)} must be a positive number", required: true);
    /// <summary>Which backend trains (the CLI's --device, or QGEN_DEVICE); checkpoints are device-neutral.</summary>
    public static readonly Setting<string> Device = new("device", "cpu", "the backend", flag: SettingFlag.None, required: true);
    public static readonly Setting<ulong> Seed = new("seed", 1, "seed of everything random in the run", required: true);
    public static readonly Setting<int> Limit = new("limit", 0, "train on the first N training images (0: all)", v => AtLeast(v, 0), required: true);
    public static readonly Setting<bool> Augment = new("augment", true, "rotation/translation augmentation of the training digits", flag: SettingFlag.NegatedSwitch, required: true);
    public static readonly Setting<string> Dataset = new("dataset", "mnist", "mnist | fashion", required: true);
    public static readonly Setting<string?> DataDir = Setting.OfPath("data", "an IDX directory instead of the dataset", "a directory of IDX files");
    public static readonly Setting<int> EvalImages = new("eval_images", 1000, "test images scored after each epoch", v => Within(v, 1, 1_000_000), required: true);
    /// <summary>Cosine annealing and clipping at norm 1 (the quantum family's settings in MODELS.md).</summary>
    public static readonly Setting<bool> Cosine = new("cosine", true, "cosine annealing of the learning rate", required: true);
    public static readonly Setting<float> ClipNorm = new("clip_norm", 1f, "clip each part's gradient at this L2 norm (0: never)",
        v => v >= 0 && !float.IsInfinity(v) ? null : $"{Setting.Show(v)} must be a number ≥ 0", required: true);
    public static readonly Setting<float> Beta1 = new("beta1", 0.9f, "Adam's beta1", v => v >= 0 && v < 1 ? null : $"{Setting.Show(v)} is outside [0, 1)");
    /// <summary>FID, IS and modes of FidSamples generated images every FidEvery epochs (0: never); generative models only.</summary>
    public static readonly Setting<int> FidEvery = new("fid_every", 1, "FID, IS and modes of generated images every E epochs (0: never)",
        v => AtLeast(v, 0, " (0: never)"), missing: 0);   // a run from before FID during training never scored it
    public static readonly Setting<int> FidSamples = new("fid_samples", 2000, "images generated for FID during training", v => Within(v, 10, 1_000_000));

    /// <summary>The settings of every model, in config.json's order.</summary>
    public static IReadOnlyList<Setting> Common { get; } =
        [Epochs, BatchSize, Lr, Device, Seed, Limit, Augment, Dataset, DataDir, EvalImages, Cosine, ClipNorm, Beta1, FidEvery, FidSamples];
}

/// <summary>
/// Everything that defines a training run: its model and a value for each setting the model takes (the model's defaults
/// for the others); written to config.json and read back by --resume, `sample` and `eval`. The training loop's settings
/// have properties; a model reads its own with <see cref="Get{T}"/>.
/// </summary>
public sealed record TrainOptions
{
    private ImmutableDictionary<Setting, object?> _values = ImmutableDictionary<Setting, object?>.Empty;

    public string Model { get; init; } = "qvae";

    /// <summary>The setting's value: the one given, else the setting's own default.</summary>
    public T Get<T>(Setting<T> s) => _values.TryGetValue(s, out var v) ? (T)v! : s.Default;

    public object? Get(Setting s) => _values.TryGetValue(s, out var v) ? v : s.DefaultValue;

    public TrainOptions With<T>(Setting<T> s, T value) => this with { _values = _values.SetItem(s, value) };

    /// <summary>The option with an untyped value (the CLI's and config.json's way in; the value must be of the setting's type).</summary>
    public TrainOptions With(Setting s, object? value) =>
        value is null || s.ValueType.IsInstanceOfType(value) ? this with { _values = _values.SetItem(s, value) }
        : throw new ArgumentException($"{s.Ref}: a {value.GetType().Name}, not a {s.ValueType.Name}");

    public int Epochs { get => Get(TrainSettings.Epochs); init => _values = _values.SetItem(TrainSettings.Epochs, value); }
    public int BatchSize { get => Get(TrainSettings.BatchSize); init => _values = _values.SetItem(TrainSettings.BatchSize, value); }
    public float Lr { get => Get(TrainSettings.Lr); init => _values = _values.SetItem(TrainSettings.Lr, value); }
    public string Device { get => Get(TrainSettings.Device); init => _values = _values.SetItem(TrainSettings.Device, value); }
    public ulong Seed { get => Get(TrainSettings.Seed); init => _values = _values.SetItem(TrainSettings.Seed, value); }
    public int Limit { get => Get(TrainSettings.Limit); init => _values = _values.SetItem(TrainSettings.Limit, value); }
    public bool Augment { get => Get(TrainSettings.Augment); init => _values = _values.SetItem(TrainSettings.Augment, value); }
    public string Dataset { get => Get(TrainSettings.Dataset); init => _values = _values.SetItem(TrainSettings.Dataset, value); }
    public string? DataDir { get => Get(TrainSettings.DataDir); init => _values = _values.SetItem(TrainSettings.DataDir, value); }
    public int EvalImages { get => Get(TrainSettings.EvalImages); init => _values = _values.SetItem(TrainSettings.EvalImages, value); }
    public bool Cosine { get => Get(TrainSettings.Cosine); init => _values = _values.SetItem(TrainSettings.Cosine, value); }
    public float ClipNorm { get => Get(TrainSettings.ClipNorm); init => _values = _values.SetItem(TrainSettings.ClipNorm, value); }
    public float Beta1 { get => Get(TrainSettings.Beta1); init => _values = _values.SetItem(TrainSettings.Beta1, value); }
    public int FidEvery { get => Get(TrainSettings.FidEvery); init => _values = _values.SetItem(TrainSettings.FidEvery, value); }
    public int FidSamples { get => Get(TrainSettings.FidSamples); init => _values = _values.SetItem(TrainSettings.FidSamples, value); }

    /// <summary>The model's defaults (MODELS.md), from the catalogue.</summary>
    public static TrainOptions Defaults(string model) => ModelCatalog.Get(model).Defaults;

    /// <summary>The settings this run's model takes (its catalogue entry's).</summary>
    public IReadOnlyList<Setting> Settings => ModelCatalog.Get(Model).Settings;

    /// <summary>Two options are equal when they train the same model with the same value of every setting (given or default).</summary>
    public bool Equals(TrainOptions? other) =>
        other is not null && Model == other.Model && _values.Keys.Union(other._values.Keys).All(s => Equals(Get(s), other.Get(s)));

    // Equal options may hold a setting given or left at its default, so the hash is the model's alone.
    public override int GetHashCode() => Model.GetHashCode();

    public JsonObject ToJson()
    {
        var j = new JsonObject { ["model"] = Model };
        foreach (var s in Settings) j[s.Key] = s.Write(Get(s));
        return j;
    }

    /// <summary>
    /// The options a config.json holds: every setting of its model (one written before a setting existed gets the
    /// setting's value for old runs, or the model's default); keys of settings the model does not take are ignored (a
    /// run written when every model recorded every setting). Errors name the file and the key.
    /// </summary>
    public static TrainOptions FromJson(JsonObject j, string path)
    {
        try
        {
            string model = j["model"] is { } m ? new Setting<string>("model", "", "").Read(m) as string ?? "" : throw new FormatException($"{Setting.Name("model")} is missing");
            var entry = ModelCatalog.Find(model) ?? throw new FormatException($"unknown model '{model}'");
            var o = entry.Defaults;
            foreach (var s in entry.Settings)
            {
                if (j.ContainsKey(s.Key)) o = o.With(s, s.Read(j[s.Key]));
                else if (s.Required) throw new FormatException($"{s.Ref} is missing");
                else if (s.Missing is { } old) o = o.With(s, old);
            }
            o.ValidateRanges();
            return o;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or InvalidOperationException)
        {
            string m = Setting.AsKeys(e.Message);
            throw new FormatException(m.StartsWith(path, StringComparison.Ordinal) ? m : $"{path}: {m}");
        }
    }

    /// <summary>Checks ranges, then the files the options name (a device's calibration); the message names the setting and the value.</summary>
    public void Validate()
    {
        ValidateRanges();
        ModelCatalog.Get(Model).Check?.Invoke(this, true);
    }

    /// <summary>Checks every value on its own and against each other (not the files they name): what a config.json read back must hold.</summary>
    public void ValidateRanges()
    {
        var entry = ModelCatalog.Get(Model);
        foreach (var s in entry.Settings) s.Check(Get(s));
        if (Limit > 0 && Limit < BatchSize) throw new ArgumentException($"{TrainSettings.Limit.Ref}: {Limit} images do not fill one batch of {BatchSize}");
        entry.Check?.Invoke(this, false);
    }
}
