using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using QGenEngine.Autograd;
using QGenEngine.Autograd.Nn;
using QGenEngine.Kernels;
using QGenEngine.Models;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

/// <summary>
/// The checkpoint contract as the README states it ("Loading in PyTorch"): drop every tensor under the
/// training prefix and what is left is exactly the model's state_dict - for every model in the catalogue, with its
/// optimisers and training state saved beside it. The README's own python block is run on each.
/// </summary>
[TestFixture]
public class CheckpointContractTests : TempDirTest
{
    public static IEnumerable<string> Models => ModelCatalog.All.Select(e => e.Name);

    private static string Readme => Path.Combine(TorchScript.Repo(), "README.md");

    /// <summary>The README's loading snippet (the python block after its marker).</summary>
    private static string Snippet()
    {
        var m = Regex.Match(File.ReadAllText(Readme), @"<!-- loading snippet -->\s*```python\n(.*?)```", RegexOptions.Singleline);
        Assert.That(m.Success, "README.md has a python block after '<!-- loading snippet -->'");
        return m.Groups[1].Value;
    }

    /// <summary>A checkpoint of the model as the trainer writes it: weights, every part's optimiser, its training state.</summary>
    private (string Path, Module Model) Save(string name)
    {
        var entry = ModelCatalog.Get(name);
        var model = entry.Create(Backends.Cpu, entry.Defaults with { Seed = 1 });
        var parts = Parts.For((ITrainable)model, entry.Defaults);
        var path = System.IO.Path.Combine(Dir, name + ".safetensors");
        Checkpoint.Save(path, model, parts.All.Select(p => (p.Name, p.Optimizer)).ToList(), new Dictionary<string, string> { ["model"] = name });
        return (path, model);
    }

    [Test]
    public void The_readme_states_the_prefix_the_engine_writes()
    {
        var drop = Regex.Match(Snippet(), @"if not k\.startswith\(""([^""]+)""\)");
        Assert.That(drop.Success, "the snippet drops keys by one prefix");
        Assert.That(drop.Groups[1].Value, Is.EqualTo(Checkpoint.TrainingPrefix));
    }

    [TestCaseSource(nameof(Models))]
    public void Dropping_the_training_prefix_leaves_exactly_the_state_dict(string name)
    {
        var (path, model) = Save(name);
        var (tensors, _) = SafeTensors.Read(path);
        var kept = tensors.Where(kv => !kv.Key.StartsWith(Checkpoint.TrainingPrefix, StringComparison.Ordinal)).ToDictionary();
        var stateDict = model.StateDict().ToList();
        Assert.That(kept.Keys, Is.EquivalentTo(stateDict.Select(s => s.Name)));
        foreach (var (n, t) in stateDict) Assert.That(kept[n].Shape, Is.EqualTo(t.Shape), n);
        Assert.That(tensors.Keys, Has.Some.StartWith(Checkpoint.TrainingPrefix + "optimizer."), "the optimisers' state is saved too");
        foreach (var (n, _) in model.NamedTrainingState())
            Assert.That(tensors.Keys, Has.Member(Checkpoint.TrainingPrefix + "state." + n));
    }

    [Test]
    public void A_state_dict_name_under_the_training_prefix_is_refused()
    {
        var model = new Clash();
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Save(System.IO.Path.Combine(Dir, "c.safetensors"), model))!;
        Assert.That(e.Message, Does.Contain("train.w"));
    }

    private sealed class Clash : Module
    {
        public Clash() { Child("train", new Holder()); }
        private sealed class Holder : Module { public Holder() { Parameter("w", QGenEngine.Tensors.Tensor.Zeros(Backends.Cpu, 2)); } }
    }

    /// <summary>PyTorch (Debian's python3-torch) runs the README's block verbatim on each model's checkpoint (skipped without it).</summary>
    [TestCaseSource(nameof(Models))]
    public void Pytorch_runs_the_readmes_loading_snippet(string name)
    {
        var (path, model) = Save(name);
        var buffers = model.NamedBuffers().Select(b => b.Item1).ToHashSet();
        JsonObject Shapes(bool wantBuffers) => new(model.StateDict().Where(s => buffers.Contains(s.Name) == wantBuffers)
            .Select(s => KeyValuePair.Create(s.Name, (JsonNode?)new JsonArray(s.T.Shape.Select(d => (JsonNode?)d).ToArray()))));
        var names = System.IO.Path.Combine(Dir, name + ".json");
        File.WriteAllText(names, new JsonObject { ["parameters"] = Shapes(false), ["buffers"] = Shapes(true) }.ToJsonString());
        var (code, o, e) = TorchScript.Run("readme_load_check.py", Readme, path, name, names);
        Assert.That(code, Is.Zero, o + e);
        Assert.That(JsonNode.Parse(o)!["keys"]!.GetValue<int>(), Is.EqualTo(model.StateDict().Count()), o);
    }
}
