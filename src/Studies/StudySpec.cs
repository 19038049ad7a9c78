using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace QGenEngine.Studies;

/// <summary>One training run of a study: its `train` arguments and its run directory.</summary>
/// <param name="Needs">indices of runs whose directories this one's options name (a prior's --vqvae), which must finish first</param>
/// <param name="Epochs">the epochs its configuration trains (a run is finished when its metrics hold as many)</param>
public sealed record PlannedRun(int Index, string Name, string Model, int Seed, string Variation, IReadOnlyList<string> Args, string Dir, IReadOnlyList<int> Needs, int Epochs)
{
    /// <summary>Other variations that resolve to this same configuration (the base value of each varied option is one run).</summary>
    public List<string> Aliases { get; } = [];

    /// <summary>Whether this run stands for the variation (its own, or one of its aliases).</summary>
    public bool Is(string variation) => Variation == variation || Aliases.Contains(variation);

    /// <summary>The full command line, as a user would type it.</summary>
    public string CommandLine => "qgen-engine " + string.Join(' ', Args.Select(a => a.Contains(' ') ? $"'{a}'" : a));
}

/// <summary>
/// A pair the report tests, first − second (`comparisons:`), and, where the spec says it, what differs between them. Each
/// side names a configuration: a model (its base configuration, "qgan") or a model and one of its variations as the
/// plan labels them ("qgan d-lr=0.0008").
/// </summary>
public sealed record Comparison(string A, string B, string? Change)
{
    /// <summary>How a side names a model's configuration: the model alone for its base, else the model and the variation.</summary>
    public static string Side(string model, string variation) => variation == "base" ? model : $"{model} {variation}";

    /// <summary>The model a side names ("qgan" of "qgan d-lr=0.0008").</summary>
    public static string ModelOf(string side) => side.Split(' ', 2)[0];

    /// <summary>Whether <paramref name="r"/> is a run of the configuration <paramref name="side"/> names.</summary>
    public static bool Selects(string side, PlannedRun r)
    {
        var parts = side.Split(' ', 2);
        return r.Model == parts[0] && r.Is(parts.Length == 1 ? "base" : parts[1].Trim());
    }
}

/// <summary>
/// A study spec (YAML): which runs a study holds. Keys:
/// <code>
/// name: tiny                        # the study's name (its directory: runs/studies/NAME unless --dir)
/// model: vae                        # one model, or
/// models: [vae, {model: prior, options: {vqvae: "@vqvae"}}]   # several (an entry may have its own vary:); "@M" is the run directory of model M's run
///                                   # with the same seed and variation (it must be in the study and run first)
/// options: {epochs: 1, limit: 256}  # `train` options for every run (names as on the command line, without --)
/// seeds: [1, 2]                     # every configuration once per seed (default [1])
/// vary: {latent: [16, 32]}          # one factor at a time around the base options (the report's ablations)
/// grid: {lr: [0.001, 0.0003]}       # the full product of these (combined with each vary value)
/// profiles: {quick: {options: {epochs: 1}, seeds: [1]}}   # --profile NAME merges these over the base
/// comparisons: [[qgan, qgan-control, the circuit]]           # pairs the report tests (first − second), optionally with what differs
/// </code>
/// Errors name the file and line.
/// </summary>
public sealed class StudySpec
{
    public string Path { get; }
    public string Name { get; }
    public IReadOnlyList<(string Model, IReadOnlyDictionary<string, string> Options, IReadOnlyList<(string Option, IReadOnlyList<string> Values)>? Vary)> Models { get; }
    public IReadOnlyDictionary<string, string> Options { get; }
    public IReadOnlyList<int> Seeds { get; }
    public IReadOnlyList<(string Option, IReadOnlyList<string> Values)> Vary { get; }
    public IReadOnlyList<(string Option, IReadOnlyList<string> Values)> Grid { get; }
    public string? Profile { get; }
    /// <summary>Pairs of configurations the report compares (difference of means, its 95 % interval and Welch's p), as "a - b".</summary>
    public IReadOnlyList<Comparison> Comparisons { get; private init; } = [];
    /// <summary>Device calibrations (full paths) every finished run with a circuit is also evaluated under (`eval --noise-model`; docs/noise-model.md).</summary>
    public IReadOnlyList<string> NoiseModels { get; private init; } = [];

    private static readonly string[] TopKeys = ["name", "model", "models", "options", "seeds", "vary", "grid", "profiles", "description", "comparisons", "noise_models"];

    private StudySpec(string path, string name, IReadOnlyList<(string, IReadOnlyDictionary<string, string>, IReadOnlyList<(string, IReadOnlyList<string>)>?)> models, IReadOnlyDictionary<string, string> options,
                      IReadOnlyList<int> seeds, IReadOnlyList<(string, IReadOnlyList<string>)> vary, IReadOnlyList<(string, IReadOnlyList<string>)> grid, string? profile)
    {
        Path = path; Name = name; Models = models; Options = options; Seeds = seeds; Vary = vary; Grid = grid; Profile = profile;
    }

    /// <summary>Reads and checks a spec; <paramref name="trainOptions"/> are the names `train` accepts (without --).</summary>
    public static StudySpec Load(string path, ISet<string> trainOptions, string? profile = null)
    {
        if (!File.Exists(path)) throw new StudyException($"{path}: not found; expected a study spec (YAML)");
        var yaml = new YamlStream();
        CheckSize(path);
        try { using var r = new StreamReader(path); yaml.Load(r); }
        catch (YamlException e) { throw new StudyException($"{path}:{e.Start.Line}: not valid YAML ({e.Message})"); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            throw new StudyException($"{path}: not valid YAML ({e.Message})");   // what YamlDotNet's scanner throws on some malformed input
        }
        if (yaml.Documents.Count != 1 || yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw new StudyException($"{path}: expected one YAML mapping (name:, model:, options:, seeds:, vary:, ...)");
        string At(YamlNode n) => $"{path}:{n.Start.Line}";

        foreach (var (k, _) in root.Children)
            if (!TopKeys.Contains(Scalar(k, path)))
                throw new StudyException($"{At(k)}: unknown key '{Scalar(k, path)}'; expected one of {string.Join(", ", TopKeys)}");
        YamlNode? Get(YamlMappingNode m, string key) => m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

        string name = Get(root, "name") is { } nn ? Scalar(nn, path) : throw new StudyException($"{path}: needs 'name:' (the study's name)");
        if (name.Length == 0 || name.Any(c => !(char.IsLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw new StudyException($"{At(Get(root, "name")!)}: name '{name}' must be letters, digits, '-', '_' or '.' (it names a directory)");

        var options = OptionMap(Get(root, "options"), path, trainOptions);
        var seeds = Get(root, "seeds") is { } sn ? Ints(sn, path, "seeds") : [1];
        var vary = Factors(Get(root, "vary"), path, trainOptions, "vary");
        var grid = Factors(Get(root, "grid"), path, trainOptions, "grid");

        if (profile is not null)
        {
            var profiles = Get(root, "profiles") as YamlMappingNode;
            var p = profiles is null ? null : Get(profiles, profile);
            if (p is not YamlMappingNode pm)
                throw new StudyException($"{path}: no profile '{profile}'" + (profiles is null ? " (the spec has no profiles:)" : $"; it has {string.Join(", ", profiles.Children.Keys.Select(k => Scalar(k, path)))}"));
            foreach (var (k, _) in pm.Children)
                if (Scalar(k, path) is not ("options" or "seeds" or "vary" or "grid"))
                    throw new StudyException($"{At(k)}: unknown key '{Scalar(k, path)}' in profile '{profile}'; expected options, seeds, vary or grid");
            foreach (var (k, v) in OptionMap(Get(pm, "options"), path, trainOptions)) options[k] = v;
            if (Get(pm, "seeds") is { } ps) seeds = Ints(ps, path, "seeds");
            if (Get(pm, "vary") is { } pv) vary = Factors(pv, path, trainOptions, "vary");
            if (Get(pm, "grid") is { } pg) grid = Factors(pg, path, trainOptions, "grid");
        }

        var models = new List<(string, IReadOnlyDictionary<string, string>, IReadOnlyList<(string, IReadOnlyList<string>)>?)>();
        if (Get(root, "model") is { } mn) models.Add((Scalar(mn, path), new Dictionary<string, string>(), null));
        if (Get(root, "models") is { } ms)
        {
            if (ms is not YamlSequenceNode seq) throw new StudyException($"{At(ms)}: 'models' must be a list");
            foreach (var item in seq)
            {
                if (item is YamlScalarNode) { models.Add((Scalar(item, path), new Dictionary<string, string>(), null)); continue; }
                if (item is not YamlMappingNode im) throw new StudyException($"{At(item)}: a model is a name or {{model: NAME, options: {{...}}}}");
                foreach (var (k, _) in im.Children)
                    if (Scalar(k, path) is not ("model" or "options" or "vary"))
                        throw new StudyException($"{At(k)}: unknown key '{Scalar(k, path)}' in a model entry; expected model, options or vary");
                string m = Get(im, "model") is { } x ? Scalar(x, path) : throw new StudyException($"{At(im)}: a model entry needs 'model:'");
                models.Add((m, OptionMap(Get(im, "options"), path, trainOptions), Get(im, "vary") is { } mv ? Factors(mv, path, trainOptions, "vary") : null));
            }
        }
        if (models.Count == 0) throw new StudyException($"{path}: names no model; add 'model: vae' or 'models: [...]'");
        foreach (var (m, _, _) in models)
            if (QGenEngine.Models.ModelCatalog.Find(m) is null)
                throw new StudyException($"{path}: unknown model '{m}'; expected one of {QGenEngine.Models.ModelCatalog.Names}");
        if (seeds.Count == 0) throw new StudyException($"{path}: 'seeds' is empty; the study would hold no runs");
        var comparisons = new List<Comparison>();
        if (Get(root, "comparisons") is { } cn)
        {
            if (cn is not YamlSequenceNode cs) throw new StudyException($"{At(cn)}: 'comparisons' must be a list of pairs, e.g. [[qvae, vae], [qgan, gan]]");
            foreach (var pair in cs)
            {
                if (pair is not YamlSequenceNode ps || ps.Children.Count is not (2 or 3))
                    throw new StudyException($"{At(pair)}: a comparison is a pair of models, e.g. [qgan, gan], or of configurations ([qgan d-lr=0.0008, qgan d-lr=0]), " +
                                             "optionally with what differs between them: [qgan, qgan-control, the circuit]");
                string a = Scalar(ps.Children[0], path).Trim(), b = Scalar(ps.Children[1], path).Trim();
                foreach (var m in new[] { a, b }.Select(Comparison.ModelOf))
                    if (!models.Any(x => x.Item1 == m))
                        throw new StudyException($"{At(pair)}: comparison names '{m}', which the study does not train; expected one of {string.Join(", ", models.Select(x => x.Item1).Distinct())}");
                if (a == b) throw new StudyException($"{At(pair)}: compares '{a}' with itself; expected two different configurations");
                comparisons.Add(new Comparison(a, b, ps.Children.Count == 3 ? Scalar(ps.Children[2], path) : null));
            }
        }
        var noiseModels = new List<string>();
        if (Get(root, "noise_models") is { } nmNode)
        {
            if (nmNode is not YamlSequenceNode ns) throw new StudyException($"{At(nmNode)}: 'noise_models' must be a list of calibration files, e.g. [../docs/devices/ibm-like-8q.json]");
            foreach (var item in ns)
            {
                // Relative to the spec's folder, as paths in a file usually are.
                string file = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, Scalar(item, path)));
                try { QGenEngine.Quantum.DeviceNoise.Load(file); }
                catch (Exception e) when (e is IOException or FormatException) { throw new StudyException($"{At(item)}: noise model {e.Message}"); }
                noiseModels.Add(file);
            }
        }
        return new StudySpec(path, name, models, options, seeds, vary, grid, profile) { Comparisons = comparisons, NoiseModels = noiseModels };
    }

    /// <summary>
    /// Refuses, before the YAML parser sees it, what would make it recurse without end (a stack overflow ends the process,
    /// past any catch) or take seconds: a spec over 1 MB, or brackets nested more than 64 deep.
    /// </summary>
    private static void CheckSize(string path)
    {
        string text;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new StudyException($"{path}: not found");
            if (info.Length > 1 << 20) throw new StudyException($"{path}: {info.Length} bytes; a study spec is at most 1 MB");
            text = File.ReadAllText(path);
        }
        catch (IOException e) { throw new StudyException($"{path}: cannot read ({e.Message})"); }
        int depth = 0, line = 1;
        char quote = '\0';
        foreach (char c in text)
        {
            if (c == '\n') { line++; quote = '\0'; continue; }   // quotes and comments end with the line here (conservative: more brackets counted, never fewer)
            if (quote != '\0') { if (c == quote) quote = '\0'; continue; }
            if (c is '"' or '\'') quote = c;
            else if (c is '[' or '{' && ++depth > 64) throw new StudyException($"{path}:{line}: brackets nested more than 64 deep");
            else if (c is ']' or '}') depth = Math.Max(0, depth - 1);
            else if (c == '#') quote = '\n';   // a comment: skip to the end of the line
        }
    }

    private static string Scalar(YamlNode n, string path) => n is YamlScalarNode s ? s.Value ?? "" : throw new StudyException($"{path}:{n.Start.Line}: expected a single value");

    private static List<int> Ints(YamlNode n, string path, string key)
    {
        if (n is not YamlSequenceNode seq) throw new StudyException($"{path}:{n.Start.Line}: '{key}' must be a list of integers, e.g. [1, 2, 3]");
        return seq.Select(v => int.TryParse(Scalar(v, path), NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) && i >= 0
            ? i : throw new StudyException($"{path}:{v.Start.Line}: '{Scalar(v, path)}' in '{key}' is not a non-negative integer")).ToList();
    }

    private static Dictionary<string, string> OptionMap(YamlNode? n, string path, ISet<string> train)
    {
        var d = new Dictionary<string, string>();
        if (n is null) return d;
        if (n is not YamlMappingNode m) throw new StudyException($"{path}:{n.Start.Line}: 'options' must be a mapping, e.g. {{epochs: 1}}");
        foreach (var (k, v) in m.Children)
        {
            string key = CheckOption(k, path, train);
            d[key] = Scalar(v, path);
        }
        return d;
    }

    private static List<(string, IReadOnlyList<string>)> Factors(YamlNode? n, string path, ISet<string> train, string what)
    {
        var f = new List<(string, IReadOnlyList<string>)>();
        if (n is null) return f;
        if (n is not YamlMappingNode m) throw new StudyException($"{path}:{n.Start.Line}: '{what}' must map options to lists of values, e.g. {{latent: [16, 32]}}");
        foreach (var (k, v) in m.Children)
        {
            string key = CheckOption(k, path, train);
            if (v is not YamlSequenceNode seq) throw new StudyException($"{path}:{v.Start.Line}: '{what}.{key}' must be a list of values");
            if (seq.Children.Count == 0) throw new StudyException($"{path}:{v.Start.Line}: '{what}.{key}' is empty; the study would hold no runs");
            f.Add((key, seq.Select(x => Scalar(x, path)).ToList()));
        }
        return f;
    }

    private static string CheckOption(YamlNode k, string path, ISet<string> train)
    {
        string key = Scalar(k, path);
        if (key is "out" or "resume" or "dry-run")
            throw new StudyException($"{path}:{k.Start.Line}: '{key}' is the study's to set, not the spec's");
        if (!train.Contains(key))
            throw new StudyException($"{path}:{k.Start.Line}: '{key}' is not an option of `train`; expected one of {string.Join(", ", train.Order(StringComparer.Ordinal))}");
        return key;
    }

    // ---- the plan --------------------------------------------------------------------------------------
    /// <summary>The configurations of one model entry: the base, or each vary value one at a time, each crossed with the grid.</summary>
    private List<(string Label, Dictionary<string, string> Options)> Variations(IReadOnlyList<(string Option, IReadOnlyList<string> Values)> vary)
    {
        var varied = new List<(string, Dictionary<string, string>)>();
        foreach (var (opt, values) in vary)
            foreach (var v in values) varied.Add(($"{opt}={v}", new Dictionary<string, string> { [opt] = v }));
        if (varied.Count == 0) varied.Add(("base", new Dictionary<string, string>()));
        var grid = new List<(string, Dictionary<string, string>)> { ("", new Dictionary<string, string>()) };
        foreach (var (opt, values) in Grid)
            grid = grid.SelectMany(g => values.Select(v => ((g.Item1.Length > 0 ? g.Item1 + "," : "") + $"{opt}={v}",
                                                              new Dictionary<string, string>(g.Item2) { [opt] = v }))).ToList();
        var variations = new List<(string Label, Dictionary<string, string> Options)>();
        foreach (var (vl, vo) in varied)
            foreach (var (gl, go) in grid)
            {
                var o = new Dictionary<string, string>(vo);
                foreach (var (k, v) in go) o[k] = v;
                variations.Add((vl == "base" && gl.Length > 0 ? gl : gl.Length > 0 ? $"{vl},{gl}" : vl, o));
            }

        return variations;
    }

    private readonly Dictionary<string, System.Text.Json.Nodes.JsonObject> _defaults = [];

    /// <summary>
    /// A run's identity: the settings of its resolved configuration that differ from its model's defaults, as sorted
    /// JSON. Two spellings of one configuration give the same identity, and an option added to `train` later (with a
    /// default) leaves every existing run's identity - and its directory's hash - as it was. A run it depends on (an
    /// option's "@model") counts by that run's name, not its path (<paramref name="dependencies"/>: path → "@name"), so
    /// that the identity does not depend on where the study directory is: a report rebuilt from committed summaries in a
    /// clean clone, or a study moved to another machine, finds the prior's and the router's runs under the same names.
    /// </summary>
    private string Overrides(string full, string model, Func<IReadOnlyList<string>, string> resolve, IReadOnlyDictionary<string, string> dependencies)
    {
        if (!_defaults.TryGetValue(model, out var d)) _defaults[model] = d = System.Text.Json.Nodes.JsonNode.Parse(resolve(["train", model]))!.AsObject();
        var o = System.Text.Json.Nodes.JsonNode.Parse(full)!.AsObject();
        var diff = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["model"] = model };
        foreach (var (k, v) in o)
            if (!System.Text.Json.Nodes.JsonNode.DeepEquals(v, d[k]))
                diff[k] = v is System.Text.Json.Nodes.JsonValue sv && sv.TryGetValue(out string? path) && PathKey(path) is { } key && dependencies.TryGetValue(key, out var name)
                    ? System.Text.Json.Nodes.JsonValue.Create(name).ToJsonString() : v?.ToJsonString() ?? "null";
        return string.Join(";", diff.Select(kv => $"{kv.Key}={kv.Value}"));
    }

    /// <summary>A path's comparable form; null for a string that is no path (empty, or with a NUL): any option's value
    /// passes through here, and an option such as `vqvae: ""` is the train command's to refuse, not a crash of the planner.</summary>
    private static string? PathKey(string path) =>
        path.Length == 0 || path.Contains('\0') ? null : System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(path));

    /// <summary>
    /// Every run: for each model, each configuration (the base, or each vary value one at a time around it; each
    /// crossed with the grid's product) and each seed. <paramref name="resolve"/> turns a `train` argument list into
    /// its full configuration (train --dry-run: every default filled in, every value checked); runs whose
    /// configurations coincide are one run. Directories are named by the model, the variation, the seed and a hash
    /// of the configuration, so a changed spec never reuses a run that trained something else. The spec's own
    /// options, vary and grid apply to each model that <paramref name="takes"/> them (qubits to qgan, not to gan); a
    /// model entry's options and vary must be that model's.
    /// </summary>
    public IReadOnlyList<PlannedRun> Plan(string studyDir, Func<string, bool> isFlag, Func<IReadOnlyList<string>, string> resolve, Func<string, string, bool> takes)
    {
        foreach (var key in Options.Keys.Concat(Vary.Select(v => v.Option)).Concat(Grid.Select(g => g.Option)).Distinct())
            if (!Models.Any(m => takes(m.Model, key)))
                throw new StudyException($"{Path}: '{key}' is an option of none of the study's models ({string.Join(", ", Models.Select(m => m.Model).Distinct())})");
        var runs = new List<PlannedRun>();
        var byConfig = new Dictionary<string, int>();
        var byModel = new Dictionary<(string Model, int Seed, string Variation), int>();
        foreach (var (model, modelOptions, modelVary) in Models)
            foreach (var (label, vo) in Variations(modelVary ?? Vary))
                foreach (int seed in Seeds)
                {
                    var o = new SortedDictionary<string, string>(StringComparer.Ordinal);
                    foreach (var (k, v) in Options) if (takes(model, k)) o[k] = v;
                    foreach (var (k, v) in modelOptions) o[k] = v;
                    foreach (var (k, v) in vo) if (modelVary is not null || takes(model, k)) o[k] = v;
                    o["seed"] = seed.ToString(CultureInfo.InvariantCulture);
                    var needs = new List<int>();
                    var dependencies = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var (k, v) in o.ToList())
                        if (v.StartsWith('@'))
                        {
                            string dep = v[1..];
                            if (!byModel.TryGetValue((dep, seed, label), out int di))
                                throw new StudyException($"{Path}: model '{model}' option '{k}: {v}' names a run of '{dep}' (seed {seed}, {label}) that the study does not hold before it; list '{dep}' first");
                            o[k] = runs[di].Dir; needs.Add(di);
                            dependencies[PathKey(runs[di].Dir)!] = "@" + runs[di].Name;
                        }
                    var args = new List<string> { "train", model };
                    foreach (var (k, v) in o)
                    {
                        if (!isFlag(k)) { args.Add("--" + k); args.Add(v); }
                        else if (v is "true" or "True" or "yes") args.Add("--" + k);
                        else if (v is not ("false" or "False" or "no")) throw new StudyException($"{Path}: '{k}' is a switch; give true or false, not '{v}'");
                    }
                    string full;
                    try { full = resolve(args); }
                    catch (StudyException e) { throw new StudyException($"{Path}: run {model} seed {seed} ({label}): {e.Message}"); }
                    string config = Overrides(full, model, resolve, dependencies);
                    if (byConfig.TryGetValue(config, out int same))
                    {
                        byModel[(model, seed, label)] = same;
                        if (!runs[same].Is(label)) runs[same].Aliases.Add(label);
                        continue;
                    }
                    string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(config)))[..8];
                    string safe = new(label.Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' ? c : c == '=' ? '-' : '_').ToArray());
                    string dir = System.IO.Path.Combine(studyDir, $"{model}-{safe}-s{seed}-{hash}");
                    args.Add("--out"); args.Add(dir);
                    int index = runs.Count;
                    int epochs = System.Text.Json.Nodes.JsonNode.Parse(full)!["epochs"]!.GetValue<int>();
                    runs.Add(new PlannedRun(index, System.IO.Path.GetFileName(dir), model, seed, label, args, dir, needs, epochs));
                    byConfig[config] = index; byModel[(model, seed, label)] = index;
                }
        // Each side of a comparison must be a configuration the plan holds (a variation's label is known only now).
        foreach (var side in Comparisons.SelectMany(c => new[] { c.A, c.B }).Distinct())
            if (!runs.Any(r => Comparison.Selects(side, r)))
                throw new StudyException($"{Path}: comparison names '{side}', which is no configuration of the study; expected one of " +
                                         string.Join(", ", runs.SelectMany(r => r.Aliases.Prepend(r.Variation).Select(v => Comparison.Side(r.Model, v))).Distinct()));
        return runs;
    }
}
