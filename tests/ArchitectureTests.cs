using System.Reflection;
using System.Text.Json.Nodes;
using QGenEngine.Models;
using QGenEngine.Models.Training;

namespace QGenEngine.Tests;

/// <summary>The layers (README, Architecture): each project depends only on those above it, and the CLI only parses, calls and prints.</summary>
public class ArchitectureTests
{
    private static readonly string[] Order =
        ["QGenEngine.Tensors", "QGenEngine.Kernels", "QGenEngine.Autograd", "QGenEngine.Quantum", "QGenEngine.Models", "QGenEngine.Studies", "qgen-engine"];

    [Test]
    public void Each_project_references_only_those_above_it()
    {
        foreach (var name in Order)
        {
            var asm = Assembly.Load(name);
            var ours = asm.GetReferencedAssemblies().Select(a => a.Name!).Where(Order.Contains).ToList();
            var above = Order.TakeWhile(n => n != name).ToHashSet();
            Assert.That(ours.Where(r => !above.Contains(r)), Is.Empty, $"{name} points down or sideways: {string.Join(", ", ours)}");
        }
        Assert.That(Assembly.Load("QGenEngine.Autograd").GetReferencedAssemblies().Select(a => a.Name), Does.Not.Contain("QGenEngine.Kernels"),
                    "Autograd works through IDevice; a backend is chosen above it");
    }

    /// <summary>
    /// A doc comment belongs to the member under it: code inserted between a summary and its member leaves two summaries
    /// in a row, the first of them now describing the wrong thing (it happened three times in src/Studies alone).
    /// </summary>
    [Test]
    public void No_doc_comment_is_left_above_another()
    {
        string repo = QGenEngine.Tests.Support.TorchScript.Repo();
        var found = new List<string>();
        foreach (var folder in new[] { "src", "tests", "bench" })
            foreach (var f in Directory.EnumerateFiles(Path.Combine(repo, folder), "*.cs", SearchOption.AllDirectories))
            {
                if (f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ||
                    f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)) continue;
                var lines = File.ReadAllLines(f);
                for (int i = 0; i + 1 < lines.Length; i++)
                    if (lines[i].TrimStart().StartsWith("///", StringComparison.Ordinal) && lines[i].TrimEnd().EndsWith("</summary>", StringComparison.Ordinal) &&
                        lines[i + 1].TrimStart().StartsWith("/// <summary>", StringComparison.Ordinal))
                        found.Add($"{Path.GetRelativePath(repo, f)}:{i + 2}");
            }
        Assert.That(found, Is.Empty, "a summary directly after another summary");
    }

    [Test]
    public void The_epoch_line_shows_each_scalar_as_its_model_says()
    {
        var gan = new Gan(QGenEngine.Kernels.Backends.Cpu, 1, new GanConfig(Latent: 4, Width: 2));
        var em = new EpochMetrics(3, new JsonObject
        {
            ["epoch"] = 3, ["d_loss"] = 1.23456, ["d_real"] = 0.50512, ["circuit_grad_norm"] = 0.000123456, ["modes"] = 9, ["lr"] = 0.1,
            ["seconds"] = 2.0, ["samples_per_s"] = 100.0, ["device"] = "cpu",
        }, []);
        string line = EpochLine.Format(em, 20, gan);
        Assert.That(line, Is.EqualTo("epoch 3/20  d loss 1.23 d real 0.505 circuit grad norm 0.000123 modes 9/10  2.0s (100 img/s)"));
        Assert.That(((ITrainable)gan).StabilityScalars, Is.EqualTo(new[] { "d_loss", "g_loss" }), "what eval's stability line shows for a GAN");
    }
}
