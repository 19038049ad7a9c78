using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using QGenEngine.Cli.Commands;
using QGenEngine.Models;
using QGenEngine.Models.Training;
using QGenEngine.Tests.Support;
using static QGenEngine.Tests.Support.CliRunner;

namespace QGenEngine.Tests.Cli;

/// <summary>
/// Options declared by each model (issue #24, item 3): the catalogue entry lists its settings, and `train MODEL`'s flags,
/// --help, config.json and a study spec's checks are all made from them.
/// </summary>
public class SettingsTests : TempDirTest
{
    private static IEnumerable<string> Models => ModelCatalog.All.Select(e => e.Name);

    [TestCaseSource(nameof(Models))]
    public void Config_json_round_trips_every_setting_of_a_model(string model)
    {
        var entry = ModelCatalog.Get(model);
        Assert.That(entry.Settings.Select(s => s.Key), Is.Unique, "one key, one setting");
        var json = entry.Defaults.ToJson();
        Assert.That(json.Select(kv => kv.Key), Is.EqualTo(new[] { "model" }.Concat(entry.Settings.Select(s => s.Key))), "config.json holds exactly the model's settings, in order");
        var back = TrainOptions.FromJson(JsonNode.Parse(json.ToJsonString())!.AsObject(), "config.json");
        Assert.That(back, Is.EqualTo(entry.Defaults));
        Assert.That(back.ToJson().ToJsonString(), Is.EqualTo(json.ToJsonString()));
    }

    [TestCaseSource(nameof(Models))]
    public void Train_help_lists_the_models_own_options_with_its_defaults(string model)
    {
        var entry = ModelCatalog.Get(model);
        var (code, o, e) = Run("train", model, "--help");
        Assert.That(code, Is.Zero, e);
        foreach (var s in entry.Settings.Where(s => s.Flag != SettingFlag.None))
            Assert.That(o, Does.Contain(TrainCommand.FlagOf(s)), $"{model} --help lists {s.Key}");
        var others = ModelCatalog.All.SelectMany(x => x.Settings).Except(entry.Settings).Where(s => s.Flag == SettingFlag.Value).Select(TrainCommand.FlagOf);
        foreach (var flag in others.Distinct())
            Assert.That(Regex.IsMatch(o, Regex.Escape(flag) + @"\b(?!-)"), Is.False, $"{model} --help must not offer {flag}");
        Assert.That(o, Does.Contain($"(default {Setting.Show(entry.Defaults.Lr)})"), "the learning rate's default is this model's");
    }

    [Test]
    public void Dry_run_gives_the_models_defaults_and_the_given_values()
    {
        var (code, o, e) = Run("train", "gan", "--dry-run", "--latent", "64", "--no-augment");
        Assert.That(code, Is.Zero, e);
        var j = JsonNode.Parse(o)!;
        Assert.That(j["latent"]!.GetValue<int>(), Is.EqualTo(64));
        Assert.That(j["lr"]!.GetValue<float>(), Is.EqualTo(2e-4f), "gan's default, from its entry");
        Assert.That(j["augment"]!.GetValue<bool>(), Is.False);
        Assert.That(j["qubits"], Is.Null, "the gan takes no circuit settings, so its config.json has none");
        var (c2, o2, e2) = Run("train", "vqvae", "--dry-run", "--ema", "false", "--kmeans-init", "--clip-norm", "0.5");
        Assert.That(c2, Is.Zero, e2);
        var v = JsonNode.Parse(o2)!;
        Assert.That((v["ema"]!.GetValue<bool>(), v["kmeans_init"]!.GetValue<bool>(), v["clip_norm"]!.GetValue<float>()), Is.EqualTo((false, true, 0.5f)));
    }

    [Test]
    public void A_flag_of_another_model_is_refused_naming_whose_it_is()
    {
        var (code, o, e) = Run("train", "vae", "--qubits", "4", "--dry-run");
        UserError.Assert(code, o, e, "train vae: --qubits is not one of its options", "qvae", "train vae --help");
        var (c2, o2, e2) = Run("train", "router", "--quantum", "x", "--dry-run");
        UserError.Assert(c2, o2, e2, "--quantum is not one of its options (it is qgan's)");
        var (c3, o3, e3) = Run("train", "gan", "--frobnicate", "--dry-run");
        UserError.Assert(c3, o3, e3, "train gan: unknown option --frobnicate");
        var (c4, o4, e4) = Run("train", "vaee");
        UserError.Assert(c4, o4, e4, "unknown model 'vaee'", "qvae");
    }

    [TestCase("--epochs", "0", "--epochs: 0 must be ≥ 1")]
    [TestCase("--epochs", "abc", "--epochs: 'abc' is not an integer")]
    [TestCase("--lr", "-1", "--lr: -1 must be a positive number")]
    [TestCase("--qubits", "13", "--qubits: 13 is outside [1, 12]")]
    [TestCase("--entangler", "ring", "--entangler: unknown entangler 'ring'")]
    [TestCase("--encoding", "phase", "--encoding: 'phase'; expected angle or amplitude")]
    [TestCase("--grad", "fd", "--grad: 'fd'; expected adjoint or shift")]
    [TestCase("--readout", "shots:10", "--grad adjoint: a shots:10 readout is a sample")]
    public void A_bad_value_names_its_flag(string flag, string value, string message)
    {
        var (code, o, e) = Run("train", "qvae", flag, value, "--dry-run");
        UserError.Assert(code, o, e, message);
    }

    [TestCase("prior", "--vqvae", "--vqvae: '' is not a path; expected the run directory of a trained vqvae")]
    [TestCase("router", "--classical-run", "--classical-run: '' is not a path; expected a vae, qvae or vae-attn run directory")]
    [TestCase("router", "--quantum-run", "--quantum-run: '' is not a path")]
    [TestCase("qgan", "--noise-model", "--noise-model: '' is not a path; expected a calibration JSON file")]
    [TestCase("vae", "--data", "--data: '' is not a path; expected a directory of IDX files")]
    public void An_empty_path_is_refused_by_a_dry_run_not_first_by_the_run(string model, string flag, string message)
    {
        var (code, o, e) = Run("train", model, flag, "", "--dry-run");
        UserError.Assert(code, o, e, message);
    }

    [Test]
    public void A_config_json_with_an_empty_or_nul_path_is_refused_naming_the_key()
    {
        var json = ModelCatalog.Get("vae").Defaults.ToJson();
        foreach (var bad in new[] { "", "mnist\0" })
        {
            json["data"] = bad;
            var ex = Assert.Throws<FormatException>(() => TrainOptions.FromJson(JsonNode.Parse(json.ToJsonString())!.AsObject(), "run/config.json"));
            Assert.That(ex!.Message, Does.StartWith("run/config.json: 'data': '").And.Contain("is not a path; expected a directory of IDX files"), bad);
        }
    }

    [Test]
    public void A_resumed_run_keeps_its_settings_and_says_which_flags_it_ignores()
    {
        string run = Path.Combine(Dir, "run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, Trainer.ConfigFile), (ModelCatalog.Get("qvae").Defaults with { Epochs = 3 }).ToJson().ToJsonString());
        var (code, o, e) = Run("train", "qvae", "--out", run, "--resume", "--dry-run");
        Assert.That(code, Is.Zero, e);
        Assert.That(o, Does.Not.Contain("ignoring"), "no flag given, none ignored");
        Assert.That(JsonNode.Parse(o)!["epochs"]!.GetValue<int>(), Is.EqualTo(3));
        (code, o, e) = Run("train", "qvae", "--out", run, "--resume", "--dry-run", "--lr", "0.1", "--no-augment", "--epochs", "5");
        Assert.That(code, Is.Zero, e);
        Assert.That(o, Does.Contain("ignoring --lr, --no-augment"));
        var j = JsonNode.Parse(o[o.IndexOf('{')..])!;
        Assert.That((j["epochs"]!.GetValue<int>(), j["lr"]!.GetValue<float>(), j["augment"]!.GetValue<bool>()), Is.EqualTo((5, 1e-3f, true)), "--epochs extends it; the rest stays");
    }

    [Test]
    public void A_config_json_names_the_key_not_the_flag()
    {
        var json = ModelCatalog.Get("qvae").Defaults.ToJson();
        json["qubits"] = 40;
        var e = Assert.Throws<FormatException>(() => TrainOptions.FromJson(json, "run/config.json"));
        Assert.That(e!.Message, Is.EqualTo("run/config.json: 'qubits': 40 is outside [1, 12]"));
        json.Remove("qubits");
        e = Assert.Throws<FormatException>(() => TrainOptions.FromJson(json, "run/config.json"));
        Assert.That(e!.Message, Is.EqualTo("run/config.json: 'qubits' is missing"));
    }

    [Test]
    public void A_config_json_of_the_old_every_setting_format_still_reads()
    {
        // Before item 3 every config.json held every setting of every model; a vae's "qubits" meant nothing and is ignored,
        // and a setting added later ("encoding") takes the value runs had before it existed.
        var old = JsonNode.Parse("""
            {"model":"qvae","epochs":20,"batch_size":32,"lr":0.001,"latent":32,"qubits":8,"layers":3,"entangler":"linear","readout":"probs",
             "device":"cpu","seed":"1","limit":0,"augment":true,"dataset":"mnist","data":null,"eval_images":1000,"cosine":true,"clip_norm":1,
             "codebook_size":512,"code_dim":64,"vqvae":null,"quantum":"generator","classical_run":null,"quantum_run":null,"estimator":"cnn"}
            """)!.AsObject();
        var o = TrainOptions.FromJson(old, "config.json");
        Assert.That(o.Get(VaeSettings.Encoding), Is.EqualTo("angle"));
        Assert.That(o.FidEvery, Is.Zero, "a run from before FID during training never scored it");
        Assert.That(o.Beta1, Is.EqualTo(0.9f), "the model's default");
        Assert.That(o.ToJson()["quantum"], Is.Null, "qvae has no quantum setting");
    }

    [Test]
    public void Messages_below_the_cli_name_settings_and_the_cli_shows_flags()
    {
        string m = $"{CircuitSettings.Qubits.Ref}: 3; use {VqVaeSettings.RestartDead.Ref} 100";
        Assert.That(m, Is.EqualTo("⟨qubits⟩: 3; use ⟨restart_dead⟩ 100"));
        Assert.That(Setting.AsFlags(m), Is.EqualTo("--qubits: 3; use --restart-dead 100"));
        Assert.That(Setting.AsKeys(m), Is.EqualTo("'qubits': 3; use 'restart_dead' 100"));
    }

    [Test]
    public void No_flag_spellings_below_the_cli()
    {
        // Models (and the layers under them) name a setting as ⟨key⟩ (Setting.Ref); only src/Cli writes "--flag".
        string src = Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", "src");
        var found = new List<string>();
        foreach (var dir in new[] { "Tensors", "Kernels", "Autograd", "Quantum", "Models" })
            foreach (var file in Directory.EnumerateFiles(Path.Combine(src, dir), "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/")))
                foreach (var (line, i) in File.ReadLines(file).Select((l, i) => (l, i)))
                    if (!line.TrimStart().StartsWith("//", StringComparison.Ordinal) && Regex.IsMatch(line, "\"[^\"]*(?<![a-z0-9-])--[a-z]"))
                        found.Add($"{Path.GetRelativePath(src, file)}:{i + 1}");
        Assert.That(found, Is.Empty);
    }

    [Test]
    public void A_study_spec_is_checked_against_the_models_settings()
    {
        string spec = Path.Combine(Dir, "s.yaml");
        // The spec's options go to the models that take them; a model entry's options must be that model's.
        File.WriteAllText(spec, "name: s\nmodels: [vae, qvae]\noptions: {qubits: 4, readout: expval, epochs: 1}\n");
        var (c0, o0, e0) = Run("study", "plan", spec, "--dir", Path.Combine(Dir, "st"));
        Assert.That(c0, Is.Zero, e0);
        Assert.That(o0, Does.Match(@"train vae --epochs 1 --seed 1 --out").And.Match(@"train qvae --epochs 1 --qubits 4 --readout expval --seed 1 --out"));
        File.WriteAllText(spec, "name: s\nmodels: [vae]\noptions: {qubits: 4, epochs: 1}\n");
        var (code, o, e) = Run("study", "plan", spec, "--dir", Path.Combine(Dir, "st"));
        UserError.Assert(code, o, e, "'qubits' is an option of none of the study's models (vae)");
        File.WriteAllText(spec, "name: s\nmodels: [{model: vae, options: {qubits: 4}}]\n");
        var (c1, o1, e1) = Run("study", "plan", spec, "--dir", Path.Combine(Dir, "st"));
        UserError.Assert(c1, o1, e1, "train vae: --qubits is not one of its options");
        File.WriteAllText(spec, "name: s\nmodels: [vae]\noptions: {qbits: 4}\n");
        var (c2, o2, e2) = Run("study", "plan", spec, "--dir", Path.Combine(Dir, "st"));
        UserError.Assert(c2, o2, e2, "'qbits' is not an option of `train`");
    }

    [Test]
    public void A_finished_run_says_what_to_do_next_where_its_entry_says_so()
    {
        var (code, o, e) = Run("train", "classifier", "--epochs", "1", "--limit", "128", "--eval-images", "10", "--out", Path.Combine(Dir, "clf"));
        Assert.That(code, Is.Zero, e);
        Assert.That(o, Does.Contain($"to make it the metric classifier: cp {Path.Combine(Dir, "clf", Trainer.CheckpointFile)} models/classifier.safetensors"));
        string? fashion = ModelCatalog.Get("classifier").Afterwards!(TrainOptions.Defaults("classifier") with { Dataset = "fashion" }, "ckpt");
        Assert.That(fashion, Does.EndWith("cp ckpt models/classifier-fashion.safetensors"), "the data set's own metric classifier");
        Assert.That(ModelCatalog.Get("vae").Afterwards, Is.Null);
    }
}
