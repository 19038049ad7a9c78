using System.Globalization;
using System.Text.Json.Nodes;

namespace QGenEngine.Models.Training;

/// <summary>Everything that defines a training run; written to config.json and read back by --resume and `sample`.</summary>
public sealed record TrainOptions
{
    public string Model { get; init; } = "qvae";
    public int Epochs { get; init; } = 20;
    public int BatchSize { get; init; } = 32;
    public float Lr { get; init; } = 1e-3f;
    public int Latent { get; init; } = 32;
    public int Qubits { get; init; } = 8;
    public int Layers { get; init; } = 3;
    public string Entangler { get; init; } = "linear";
    public string Readout { get; init; } = "probs";
    public string Device { get; init; } = "cpu";
    public ulong Seed { get; init; } = 1;
    public int Limit { get; init; }            // 0: the whole training set
    public bool Augment { get; init; } = true;
    public string Dataset { get; init; } = "mnist";
    public string? DataDir { get; init; }
    public int EvalImages { get; init; } = 1000;
    /// <summary>Cosine annealing and clipping at norm 1 (the quantum family's settings in MODELS.md).</summary>
    public bool Cosine { get; init; } = true;
    public float ClipNorm { get; init; } = 1f;

    /// <summary>MODELS.md's defaults per model: the VAE at batch 64 with constant lr; qvae and its control at 32 with cosine and clipping.</summary>
    public static TrainOptions Defaults(string model) => model switch
    {
        "vae" => new TrainOptions { Model = model, BatchSize = 64, Cosine = false, ClipNorm = 0 },
        "qvae" or "vae-attn" => new TrainOptions { Model = model },
        _ => throw new ArgumentException($"unknown model '{model}'; expected vae, qvae or vae-attn"),
    };

    public VaeConfig ModelConfig()
    {
        var c = VaeConfig.For(Model);
        return c with { Latent = Latent, Qubits = Qubits, Layers = Layers, Entangler = QGenEngine.Quantum.Circuit.ParseEntangler(Entangler), Readout = Readout };
    }

    public JsonObject ToJson() => new()
    {
        ["model"] = Model, ["epochs"] = Epochs, ["batch_size"] = BatchSize, ["lr"] = Lr, ["latent"] = Latent,
        ["qubits"] = Qubits, ["layers"] = Layers, ["entangler"] = Entangler, ["readout"] = Readout, ["device"] = Device,
        ["seed"] = Seed.ToString(CultureInfo.InvariantCulture), ["limit"] = Limit, ["augment"] = Augment, ["dataset"] = Dataset,
        ["data"] = DataDir, ["eval_images"] = EvalImages, ["cosine"] = Cosine, ["clip_norm"] = ClipNorm,
    };

    public static TrainOptions FromJson(JsonObject j, string path)
    {
        T Get<T>(string k)
        {
            try { return j[k] is { } v ? v.GetValue<T>() : throw new FormatException($"{path}: '{k}' is missing"); }
            catch (InvalidOperationException) { throw new FormatException($"{path}: '{k}' has the wrong type"); }
        }
        return new TrainOptions
        {
            Model = Get<string>("model"), Epochs = Get<int>("epochs"), BatchSize = Get<int>("batch_size"), Lr = Get<float>("lr"),
            Latent = Get<int>("latent"), Qubits = Get<int>("qubits"), Layers = Get<int>("layers"), Entangler = Get<string>("entangler"),
            Readout = Get<string>("readout"), Device = Get<string>("device"), Seed = ulong.Parse(Get<string>("seed"), CultureInfo.InvariantCulture),
            Limit = Get<int>("limit"), Augment = Get<bool>("augment"), Dataset = Get<string>("dataset"), DataDir = j["data"]?.GetValue<string>(),
            EvalImages = Get<int>("eval_images"), Cosine = Get<bool>("cosine"), ClipNorm = Get<float>("clip_norm"),
        };
    }

    /// <summary>Checks ranges; the message names the option and the value.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"--epochs: {Epochs} must be ≥ 1");
        if (BatchSize < 2) throw new ArgumentException($"--batch-size: {BatchSize} must be ≥ 2");
        if (!(Lr > 0) || float.IsInfinity(Lr)) throw new ArgumentException($"--lr: {Lr.ToString(CultureInfo.InvariantCulture)} must be a positive number");
        if (Latent < 1) throw new ArgumentException($"--latent: {Latent} must be ≥ 1");
        if (Qubits is < 1 or > 12) throw new ArgumentException($"--qubits: {Qubits} is outside [1, 12]");
        if (Layers is < 0 or > 50) throw new ArgumentException($"--layers: {Layers} is outside [0, 50]");
        if (EvalImages < 1) throw new ArgumentException($"--eval-images: {EvalImages} must be ≥ 1");
        if (Limit < 0) throw new ArgumentException($"--limit: {Limit} must be ≥ 0");
        if (Limit > 0 && Limit < BatchSize) throw new ArgumentException($"--limit: {Limit} images do not fill one batch of {BatchSize}");
        QGenEngine.Quantum.Circuit.ParseEntangler(Entangler);
        var r = QGenEngine.Quantum.Readout.Parse(Readout);
        if (r.Kind == QGenEngine.Quantum.ReadoutKind.Shots) throw new ArgumentException("--readout: the attention block uses probs or expval");
    }
}
