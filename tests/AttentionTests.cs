using QGenEngine.Autograd;
using QGenEngine.Kernels;
using QGenEngine.Models;
using QGenEngine.Tensors;

namespace QGenEngine.Tests;

/// <summary>The attention block's expval readout when the qubit count does not divide h's 256 units (the 10- and 12-qubit ablations).</summary>
[TestFixture]
public class AttentionTests
{
    [TestCase(10)]
    [TestCase(12)]
    [TestCase(8)]
    public void Expval_groups_cover_h_as_evenly_as_possible(int qubits)
    {
        var dev = Backends.Cpu;
        var attn = new Attention(dev, new Generator(3), new VaeConfig(Attention: AttentionKind.Quantum, Qubits: qubits, Layers: 1, Readout: "expval"));
        float[] a;
        using (Graph.NoGrad()) a = attn.Forward(Tensor.FromArray(dev, Enumerable.Repeat(1f, 2 * 256).ToArray(), 2, 256)).ToArray();
        for (int s = 0; s < 2; s++)
        {
            var w = a.AsSpan(s * 256, 256).ToArray();
            // Unit u is in group ⌊u·n/256⌋; a weight is the same across a group.
            var groups = Enumerable.Range(0, 256).GroupBy(u => u * qubits / 256).ToList();
            Assert.That(groups, Has.Count.EqualTo(qubits));
            Assert.That(groups.Select(g => g.Count()), Has.All.InRange(256 / qubits, (256 + qubits - 1) / qubits));
            foreach (var g in groups) Assert.That(g.Select(u => w[u]), Has.All.EqualTo(w[g.First()]));
            // The group weights are n·softmax of the n expectations: they average to 1 over groups and are positive.
            Assert.That(groups.Average(g => (double)w[g.First()]), Is.EqualTo(1.0).Within(1e-5));
            Assert.That(w, Has.All.GreaterThan(0f));
        }
    }
}
