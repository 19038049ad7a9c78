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

    [Test]
    public void Amplitude_encoding_weights_h_by_the_probabilities_of_its_own_normalised_amplitudes()
    {
        var dev = Backends.Cpu;
        var cfg = new VaeConfig(Attention: AttentionKind.Quantum, Layers: 2, Encoding: QGenEngine.Quantum.Encoding.Amplitude);
        var attn = new Attention(dev, new Generator(4), cfg);
        Assert.That(attn.NamedParameters().Select(p => p.Name), Is.EquivalentTo(new[] { "circuit.weight" }), "no angle projection: h itself is the input");
        var h = Support.Data.Make(7, 2 * 256, Support.Dist.Unit);
        h[3] = 0;   // ReLU zeros are fine: 1e-3 is added
        float[] got;
        using (Graph.NoGrad()) got = attn.Forward(Tensor.FromArray(dev, h, 2, 256)).ToArray();
        var circuit = QGenEngine.Quantum.Circuit.Template(8, 2, QGenEngine.Quantum.Entangler.Linear, QGenEngine.Quantum.Encoding.Amplitude);
        var w = attn.NamedParameters().Single().Param.ToArray();
        var probs = QGenEngine.Quantum.Simulator.Run(circuit, h.Select(v => v + 1e-3f).ToArray(), 2, w, QGenEngine.Quantum.Readout.Probs);
        for (int i = 0; i < 2 * 256; i++) Assert.That(got[i], Is.EqualTo(h[i] * 256 * probs[i]).Within(1e-5 * Math.Max(1, Math.Abs(got[i]))));
        // Its gradients flow to h through the amplitudes (the simulator's adjoint input gradients).
        var x = Tensor.FromArray(dev, h, 2, 256); x.RequiresGrad = true;
        Graph.Backward(attn.Forward(x).Sum());
        Assert.That(x.Grad!.ToArray().Any(g => g != 0));
        Assert.Throws<ArgumentException>(() => new Attention(dev, new Generator(1), cfg with { Qubits = 6 }));
    }
}
