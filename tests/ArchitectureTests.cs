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
