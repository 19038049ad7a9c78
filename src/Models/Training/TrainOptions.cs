using System.Globalization;
using System.Text.Json.Nodes;
using QGenEngine.Models;

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
    /// <summary>qvae: how h enters the circuit, angle (MODELS.md) or amplitude.</summary>
    public string Encoding { get; init; } = "angle";
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
    /// <summary>Adam's β1 (the GAN's --beta1; 0.9, PyTorch's default, elsewhere).</summary>
    public float Beta1 { get; init; } = 0.9f;
    /// <summary>FID, IS and modes of FidSamples generated images every FidEvery epochs (0: never); generative models only.</summary>
    public int FidEvery { get; init; } = 1;
    public int FidSamples { get; init; } = 2000;
    /// <summary>The VQ-VAE's codebook (MODELS.md: K = 512 codes of D = 64) and commitment weight β; the prior copies K and D from its VQ-VAE.</summary>
    public int CodebookSize { get; init; } = 512;
    public int CodeDim { get; init; } = 64;
    public float Commitment { get; init; } = 0.25f;
    /// <summary>Codebook health: EMA codebook updates, k-means initialisation, restart of codes unused for RestartDead steps (0: never).</summary>
    public bool Ema { get; init; }
    public bool KMeansInit { get; init; }
    public int RestartDead { get; init; }
    /// <summary>qgan: which parts are circuits (generator | discriminator | both).</summary>
    public string Quantum { get; init; } = "generator";
    /// <summary>The circuits' gradient method (adjoint | shift) and noise model ("" for none; "depolarizing=..,damping=..,dephasing=..,readout=..").</summary>
    public string Grad { get; init; } = "adjoint";
    public string Noise { get; init; } = "";
    /// <summary>A device's calibration (JSON, ours or IBM's backend properties; docs/noise-model.md) as the circuits' noise, instead of <see cref="Noise"/>.</summary>
    public string? NoiseModelFile { get; init; }
    /// <summary>The prior's VQ-VAE run directory (train prior --vqvae RUN).</summary>
    public string? VqVae { get; init; }
    /// <summary>The router's two VAE-family runs (train router --classical RUN --quantum RUN) and its estimator (cnn | linear).</summary>
    public string? ClassicalRun { get; init; }
    public string? QuantumRun { get; init; }
    public string Estimator { get; init; } = "cnn";

    public VqVaeConfig VqVaeConfig() => new(CodebookSize, CodeDim, Commitment, Ema, KMeansInit, RestartDead);

    /// <summary>The model's defaults (MODELS.md), from the catalogue.</summary>
    public static TrainOptions Defaults(string model) => ModelCatalog.Get(model).Defaults;

    public VaeConfig VaeConfig() =>
        Models.VaeConfig.For(Model) with
        {
            Latent = Latent, Qubits = Qubits, Layers = Layers, Entangler = QGenEngine.Quantum.Circuit.ParseEntangler(Entangler), Readout = Readout,
            Grad = GradMethod(), Noise = NoiseModel(), Encoding = ParseEncoding(),
        };

    public QGenEngine.Quantum.Encoding ParseEncoding() => Encoding switch
    {
        "angle" => QGenEngine.Quantum.Encoding.Angle, "amplitude" => QGenEngine.Quantum.Encoding.Amplitude,
        _ => throw new ArgumentException($"--encoding: '{Encoding}'; expected angle or amplitude"),
    };

    public CircuitConfig CircuitConfig() => new(Qubits, Layers, QGenEngine.Quantum.Circuit.ParseEntangler(Entangler), Readout, GradMethod(), NoiseModel());

    public GanConfig GanConfig() => new(Latent, Quantum: Model == "qgan" ? Models.GanConfig.ParseQuantum(Quantum) : QuantumParts.None, Circuit: CircuitConfig());

    public QGenEngine.Quantum.GradMethod GradMethod() => Grad switch
    {
        "adjoint" => QGenEngine.Quantum.GradMethod.Adjoint, "shift" => QGenEngine.Quantum.GradMethod.Shift,
        _ => throw new ArgumentException($"--grad: '{Grad}'; expected adjoint or shift"),
    };

    public QGenEngine.Quantum.NoiseModel? NoiseModel()
    {
        if (NoiseModelFile is { } file)
        {
            if (!string.IsNullOrEmpty(Noise)) throw new ArgumentException($"--noise '{Noise}' and --noise-model {file}: give one (a device's calibration already holds its channels)");
            return QGenEngine.Quantum.NoiseModel.Of(QGenEngine.Quantum.DeviceNoise.Load(file));
        }
        if (string.IsNullOrEmpty(Noise)) return null;
        try { return QGenEngine.Quantum.NoiseModel.Parse(Noise); }
        catch (Exception e) when (e is ArgumentException or FormatException) { throw new ArgumentException($"--noise: {e.Message}"); }
    }

    public JsonObject ToJson() => new()
    {
        ["model"] = Model, ["epochs"] = Epochs, ["batch_size"] = BatchSize, ["lr"] = Lr, ["latent"] = Latent,
        ["qubits"] = Qubits, ["layers"] = Layers, ["entangler"] = Entangler, ["readout"] = Readout, ["encoding"] = Encoding, ["device"] = Device,
        ["seed"] = Seed.ToString(CultureInfo.InvariantCulture), ["limit"] = Limit, ["augment"] = Augment, ["dataset"] = Dataset,
        ["data"] = DataDir, ["eval_images"] = EvalImages, ["cosine"] = Cosine, ["clip_norm"] = ClipNorm,
        ["beta1"] = Beta1, ["fid_every"] = FidEvery, ["fid_samples"] = FidSamples,
        ["codebook_size"] = CodebookSize, ["code_dim"] = CodeDim, ["commitment"] = Commitment, ["ema"] = Ema, ["kmeans_init"] = KMeansInit,
        ["restart_dead"] = RestartDead, ["vqvae"] = VqVae, ["quantum"] = Quantum, ["grad"] = Grad, ["noise"] = Noise, ["noise_model"] = NoiseModelFile,
        ["classical_run"] = ClassicalRun, ["quantum_run"] = QuantumRun, ["estimator"] = Estimator,
    };

    public static TrainOptions FromJson(JsonObject j, string path)
    {
        T Get<T>(string k)
        {
            try { return j[k] is { } v ? v.GetValue<T>() : throw new FormatException($"{path}: '{k}' is missing"); }
            catch (InvalidOperationException) { throw new FormatException($"{path}: '{k}' has the wrong type"); }
        }
        T Opt<T>(string k, T fallback) => j[k] is null ? fallback : Get<T>(k);   // keys added after round 1
        var d = ModelCatalog.Find(Get<string>("model"))?.Defaults ?? throw new FormatException($"{path}: unknown model '{Get<string>("model")}'");
        TrainOptions o;
        try
        {
            o = Read();
            o.ValidateRanges();
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or InvalidOperationException)
        {
            throw new FormatException(e.Message.StartsWith(path, StringComparison.Ordinal) ? e.Message : $"{path}: {e.Message}");
        }
        return o;

        TrainOptions Read() => new TrainOptions
        {
            Model = Get<string>("model"), Epochs = Get<int>("epochs"), BatchSize = Get<int>("batch_size"), Lr = Get<float>("lr"),
            Latent = Get<int>("latent"), Qubits = Get<int>("qubits"), Layers = Get<int>("layers"), Entangler = Get<string>("entangler"),
            Readout = Get<string>("readout"), Encoding = Opt("encoding", "angle"), Device = Get<string>("device"), Seed = ulong.Parse(Get<string>("seed"), CultureInfo.InvariantCulture),
            Limit = Get<int>("limit"), Augment = Get<bool>("augment"), Dataset = Get<string>("dataset"), DataDir = j["data"]?.GetValue<string>(),
            EvalImages = Get<int>("eval_images"), Cosine = Get<bool>("cosine"), ClipNorm = Get<float>("clip_norm"),
            Beta1 = Opt("beta1", d.Beta1), FidEvery = Opt("fid_every", 0), FidSamples = Opt("fid_samples", d.FidSamples),
            CodebookSize = Opt("codebook_size", d.CodebookSize), CodeDim = Opt("code_dim", d.CodeDim), Commitment = Opt("commitment", d.Commitment),
            Ema = Opt("ema", d.Ema), KMeansInit = Opt("kmeans_init", d.KMeansInit), RestartDead = Opt("restart_dead", d.RestartDead),
            VqVae = j["vqvae"]?.GetValue<string>(), Quantum = Opt("quantum", d.Quantum), Grad = Opt("grad", d.Grad), Noise = Opt("noise", d.Noise), NoiseModelFile = j["noise_model"]?.GetValue<string>(),
            ClassicalRun = j["classical_run"]?.GetValue<string>(), QuantumRun = j["quantum_run"]?.GetValue<string>(), Estimator = Opt("estimator", d.Estimator),
        };
    }

    /// <summary>Checks ranges and the noise model's file; the message names the option and the value.</summary>
    public void Validate()
    {
        ValidateRanges();
        var noise = NoiseModel();
        QGenEngine.Quantum.QuantumLayer.Check(QGenEngine.Quantum.Readout.Parse(Readout), GradMethod(), noise);
        if (noise?.Device is { } device)
            try { device.Check(QGenEngine.Quantum.Circuit.Template(Qubits, Layers, QGenEngine.Quantum.Circuit.ParseEntangler(Entangler))); }
            catch (ArgumentException e) { throw new ArgumentException($"--noise-model {NoiseModelFile}: {e.Message}"); }
    }

    /// <summary>Checks every value on its own (not the files it names): what a config.json read back must hold.</summary>
    public void ValidateRanges()
    {
        if (Epochs < 1) throw new ArgumentException($"--epochs: {Epochs} must be ≥ 1");
        if (BatchSize < 2) throw new ArgumentException($"--batch-size: {BatchSize} must be ≥ 2");
        if (!(Lr > 0) || float.IsInfinity(Lr)) throw new ArgumentException($"--lr: {Lr.ToString(CultureInfo.InvariantCulture)} must be a positive number");
        if (Latent is < 1 or > 4096) throw new ArgumentException($"--latent: {Latent} is outside [1, 4096]");
        if (BatchSize > 65536) throw new ArgumentException($"--batch-size: {BatchSize} is more than 65536");
        if (EvalImages > 1_000_000) throw new ArgumentException($"--eval-images: {EvalImages} is more than 1000000");
        if (FidSamples > 1_000_000) throw new ArgumentException($"--fid-samples: {FidSamples} is more than 1000000");
        if (Qubits is < 1 or > 12) throw new ArgumentException($"--qubits: {Qubits} is outside [1, 12]");
        if (Layers is < 0 or > 50) throw new ArgumentException($"--layers: {Layers} is outside [0, 50]");
        if (EvalImages < 1) throw new ArgumentException($"--eval-images: {EvalImages} must be ≥ 1");
        if (Limit < 0) throw new ArgumentException($"--limit: {Limit} must be ≥ 0");
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new ArgumentException($"--beta1: {Beta1.ToString(CultureInfo.InvariantCulture)} is outside [0, 1)");
        if (FidEvery < 0) throw new ArgumentException($"--fid-every: {FidEvery} must be ≥ 0 (0: never)");
        if (FidSamples < 10) throw new ArgumentException($"--fid-samples: {FidSamples} must be ≥ 10");
        if (CodebookSize is < 2 or > 65536) throw new ArgumentException($"--codebook-size: {CodebookSize} is outside [2, 65536]");
        if (CodeDim is < 1 or > 4096) throw new ArgumentException($"--code-dim: {CodeDim} is outside [1, 4096]");
        if (!(Commitment >= 0) || float.IsInfinity(Commitment)) throw new ArgumentException($"--commitment: {Commitment.ToString(CultureInfo.InvariantCulture)} must be a number ≥ 0");
        if (RestartDead < 0) throw new ArgumentException($"--restart-dead: {RestartDead} must be ≥ 0 (0: never)");
        if (Limit > 0 && Limit < BatchSize) throw new ArgumentException($"--limit: {Limit} images do not fill one batch of {BatchSize}");
        QGenEngine.Quantum.Circuit.ParseEntangler(Entangler);
        var r = QGenEngine.Quantum.Readout.Parse(Readout);
        if (ParseEncoding() == QGenEngine.Quantum.Encoding.Amplitude)
        {
            if (Model != "qvae") throw new ArgumentException($"--encoding amplitude: only qvae's circuit encodes h, not {Model}'s");
            if (Qubits != 8) throw new ArgumentException($"--encoding amplitude: h's 256 units are the amplitudes of 8 qubits, not {Qubits}; use --qubits 8");
        }
        if (Model == "qgan")
        {
            Models.GanConfig.ParseQuantum(Quantum);
            if (Quantum == "none") throw new ArgumentException("--quantum: 'none' is the classical gan: train gan");
            if (r.Kind == QGenEngine.Quantum.ReadoutKind.Expval) throw new ArgumentException("--readout: the quantum GAN reads probabilities (probs or shots:N); expval is the attention block's");
            if ((1 << Qubits) > 4096) throw new ArgumentException($"--qubits: {Qubits} gives 2^{Qubits} probabilities; the quantum GAN takes at most 12 qubits");
        }
        if (Model is "qgan-control" or "gan-uniform")
        {
            if (Quantum != "none") throw new ArgumentException($"--quantum: {Model} has no circuit (it is qgan's classical control); train qgan for circuits");
        }
        if (NoiseModelFile is null) NoiseModel();   // --noise's own syntax (a calibration file is checked by Validate)
        GradMethod();
        ModelCatalog.Get(Model);
    }
}
