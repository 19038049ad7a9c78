using System.Globalization;
using System.Text.Json.Nodes;
using QGenEngine.Quantum;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Cli;

/// <summary>`qgen-engine landscape`: the grid it measures, the files it writes, and its answers to bad input.</summary>
[TestFixture]
public class LandscapeCliTests : TempDirTest
{
    [Test]
    public void Writes_every_point_of_the_grid_the_fits_and_the_plots()
    {
        var (code, o, e) = CliRunner.Run("landscape", "--qubits", "2,3", "--layers", "1..3", "--draws", "20", "--seed", "4", "--out", Dir);
        Assert.That(code, Is.Zero, o + e);
        var j = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "landscape.json")))!.AsObject();
        var points = j["points"]!.AsArray();
        Assert.That(points, Has.Count.EqualTo(2 * 2 * 3), "2 costs × 2 widths × 3 depths");
        // Each point is what the library measures for that shape with the same seed.
        var p = points.Single(x => x!["cost"]!.GetValue<string>() == "global" && x["qubits"]!.GetValue<int>() == 3 && x["layers"]!.GetValue<int>() == 2)!;
        var m = GradientLandscape.Measure(3, 2, Entangler.Linear, LandscapeCost.Global, 20, 4);
        Assert.That(p["first_variance"]!.GetValue<double>(), Is.EqualTo(m.FirstVariance));
        Assert.That(p["mean_variance"]!.GetValue<double>(), Is.EqualTo(m.MeanVariance));
        // A fit along the qubits at each depth, along the layers at each width, per cost.
        Assert.That(j["fits"]!.AsArray(), Has.Count.EqualTo(2 * (3 + 2)));
        Assert.That(File.ReadAllLines(Path.Combine(Dir, "landscape.csv")), Has.Length.EqualTo(1 + 12));
        foreach (var png in new[] { "landscape-layers.png", "landscape-qubits.png" })
            Assert.That(new FileInfo(Path.Combine(Dir, png)).Length, Is.GreaterThan(1000), png);
        // The printed grid shows the measured value.
        Assert.That(o, Does.Contain(m.FirstVariance.ToString("0.00E+0", CultureInfo.InvariantCulture)));
    }

    [TestCase("--qubits", "4..x", "'4..x' is not a range")]
    [TestCase("--qubits", "12..4", "'12..4' is not a range")]
    [TestCase("--qubits", "2,40", "40 is outside [1, 16]")]
    [TestCase("--layers", "0,1", "0 is outside [1, 64]")]
    [TestCase("--layers", "one", "'one' is not a whole number")]
    [TestCase("--cost", "energy", "unknown cost 'energy'")]
    [TestCase("--draws", "1", "1 is outside [2, 1000000]")]
    [TestCase("--entangler", "star", "unknown entangler 'star'")]
    public void Bad_input_is_one_line_naming_the_option_and_the_value(string option, string value, string says)
    {
        var args = new Dictionary<string, string> { ["--qubits"] = "2", ["--layers"] = "1", ["--draws"] = "2" };
        args[option] = value;   // the bad value; the rest small
        var (code, o, e) = CliRunner.Run(args.SelectMany(kv => new[] { kv.Key, kv.Value }).Prepend("landscape").ToArray());
        UserError.Assert(code, o, e, option, says);
    }
}
