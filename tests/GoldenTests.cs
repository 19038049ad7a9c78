using System.Text.Json;
using QGenEngine.Kernels;
using QGenEngine.Models;

namespace QGenEngine.Tests;

/// <summary>
/// Conventions against PyTorch: fixtures made by tools/golden/make_fixtures.py (Debian's python3-torch,
/// float64) and committed. The op cases run on every backend in the conformance suite
/// (<see cref="Conformance.BackendConformance"/>); here, the VAE's parameter count and state_dict names.
/// </summary>
[TestFixture]
public class GoldenTests
{
    private static readonly Lazy<JsonDocument> Doc = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "torch_ops.json"))));

    [Test]
    public void Vae_has_pytorchs_parameter_count_and_state_dict_names()
    {
        var vae = Doc.Value.RootElement.GetProperty("vae");
        var model = new Vae(Backends.Cpu, 1);
        Assert.That(model.ParameterCount, Is.EqualTo(vae.GetProperty("parameters").GetInt64()));
        Assert.That(model.ParameterCount, Is.EqualTo(3_499_585), "MODELS.md's exact count");
        var want = vae.GetProperty("state_dict").EnumerateArray()
            .Select(e => (e.GetProperty("name").GetString(), string.Join("x", e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32())))).ToList();
        var got = model.StateDict().Select(s => (s.Name, string.Join("x", s.T.Shape))).ToList();
        Assert.That(got, Is.EquivalentTo(want));
    }
}
