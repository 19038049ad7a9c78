using QGenEngine.Autograd.Nn;
using QGenEngine.Autograd.Optim;
using QGenEngine.Tensors;

namespace QGenEngine.Autograd;

/// <summary>A checkpoint file that is missing, damaged or does not match the model.</summary>
public sealed class CheckpointException(string message) : Exception(message);

/// <summary>
/// A training checkpoint. One rule (README, "Loading in PyTorch"): every tensor whose name does not start with
/// <see cref="TrainingPrefix"/> ("train.") is the model's state_dict under PyTorch's names, so
/// <c>load_state_dict(strict=True)</c> takes what is left once those are dropped. PyTorch can never have a state_dict
/// key starting with "train." (<c>nn.Module.train</c> is a method, so no submodule or parameter can be named so).
/// Under the prefix: each optimiser's state as "train.optimizer.&lt;part&gt;.&lt;state&gt;.&lt;param&gt;" and the modules'
/// training-only state as "train.state.&lt;name&gt;" (<see cref="Module.NamedTrainingState"/>). Metadata: each
/// optimiser's settings and step count ("train.optimizer.&lt;part&gt;.*"), every random stream's seed and position
/// ("rng.&lt;stream&gt;.*"), and whatever the caller adds (the trainer's place in the run, "train.epoch", ...).
/// Formats v2 ("optimizer.&lt;part&gt;." and "state.") and v1 (one optimiser under "optimizer.", one stream under
/// "rng.") still load.
/// </summary>
public static class Checkpoint
{
    public const string Format = "qgen-engine checkpoint v3", FormatV2 = "qgen-engine checkpoint v2", FormatV1 = "qgen-engine checkpoint v1";

    /// <summary>What every tensor outside the state_dict is named under (optimiser and training state).</summary>
    public const string TrainingPrefix = "train.";

    /// <summary>True for a tensor of the model's state_dict, false for training state (the README's rule).</summary>
    public static bool IsStateDict(string tensorName) => !tensorName.StartsWith(TrainingPrefix, StringComparison.Ordinal);

    private const string OptimizerPrefix = TrainingPrefix + "optimizer.", StatePrefix = TrainingPrefix + "state.";

    private static string Str(long v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
    private static ulong U64(string s) => ulong.Parse(s, System.Globalization.CultureInfo.InvariantCulture);

    public static void Save(string path, Module model, IReadOnlyList<(string Part, Optimizer Optimizer)>? optimizers = null,
                            IReadOnlyDictionary<string, string>? extra = null)
    {
        var tensors = model.StateDict().ToList();
        var meta = new Dictionary<string, string> { ["format"] = Format };
        foreach (var (part, opt) in optimizers ?? [])
        {
            tensors.AddRange(opt.State().Select(s => ($"{OptimizerPrefix}{part}.{s.Name}", s.State)));
            foreach (var (k, v) in opt.Describe()) meta[$"{OptimizerPrefix}{part}.{k}"] = v;
            meta[$"{OptimizerPrefix}{part}.step"] = Str(opt.StepCount);
        }
        tensors.AddRange(model.NamedTrainingState().Select(s => (StatePrefix + s.Name, s.State)));
        if (model.StateDict().Select(t => t.Name).FirstOrDefault(n => !IsStateDict(n)) is { } clash)
            throw new CheckpointException($"{path}: the model's state_dict has a tensor '{clash}' under the training prefix '{TrainingPrefix}'; rename the module");
        foreach (var (name, g) in model.NamedStreams())
        {
            meta[$"rng.{name}.seed"] = g.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
            meta[$"rng.{name}.position"] = g.Position.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (extra is not null) foreach (var (k, v) in extra) meta[k] = v;
        SafeTensors.Write(path, tensors, meta);
    }

    /// <summary>
    /// Restores into an existing model (and its optimisers and random streams); every name and shape must
    /// match (and the metadata's "model" equal <paramref name="expectModel"/> if given); nothing is changed unless all do. Returns the metadata.
    /// </summary>
    public static Dictionary<string, string> Load(string path, Module model, IReadOnlyList<(string Part, Optimizer Optimizer)>? optimizers = null,
                                                  string? expectModel = null)
    {
        var (tensors, meta) = SafeTensors.Read(path);
        if (expectModel is not null && meta.TryGetValue("model", out var held) && held != expectModel)
            throw new CheckpointException($"{path}: holds a '{held}' model, not '{expectModel}'");
        meta.TryGetValue("format", out var f);
        bool v1 = f == FormatV1, v2 = f == FormatV2;
        optimizers ??= [];
        if (v1 && optimizers.Count > 1) throw new CheckpointException($"{path}: a v1 checkpoint holds one optimiser; this model has {optimizers.Count}");
        string Prefix(string part) => v1 ? "optimizer." : v2 ? $"optimizer.{part}." : $"{OptimizerPrefix}{part}.";
        string statePrefix = v1 || v2 ? "state." : StatePrefix;
        var targets = model.StateDict().ToList();
        foreach (var (part, opt) in optimizers) targets.AddRange(opt.State().Select(s => (Prefix(part) + s.Name, s.State)));
        // Training state goes with the optimisers: needed to resume, not to use the weights. A checkpoint from before a
        // statistic existed lacks it: the statistic starts afresh.
        if (optimizers.Count > 0)
            targets.AddRange(model.NamedTrainingState().Select(s => (statePrefix + s.Name, s.State)).Where(s => tensors.ContainsKey(s.Item1)));
        foreach (var (name, t) in targets)
        {
            if (!tensors.TryGetValue(name, out var e)) throw new CheckpointException($"{path}: tensor '{name}' is missing");
            if (!Shape.Equal(e.Shape, t.Shape)) throw new CheckpointException($"{path}: tensor '{name}' has shape {Shape.Format(e.Shape)}, the model expects {Shape.Format(t.Shape)}");
        }
        foreach (var (name, t) in targets) t.CopyFrom(tensors[name].Data);
        foreach (var (part, opt) in optimizers)
            if (meta.TryGetValue(Prefix(part) + "step", out var step)) opt.StepCount = int.Parse(step, System.Globalization.CultureInfo.InvariantCulture);
        var streams = model.NamedStreams().ToList();
        foreach (var (name, g) in streams)
        {
            // v1 saved the VAE's one noise stream as rng.seed / rng.position.
            string key = v1 && streams.Count == 1 ? "rng" : $"rng.{name}";
            if (meta.TryGetValue(key + ".seed", out var seed) && meta.TryGetValue(key + ".position", out var pos)) g.Restore(U64(seed), U64(pos));
        }
        return meta;
    }
}
