using System.Numerics;
using QGenEngine.Quantum;

namespace QGenEngine.Tests.Quantum;

/// <summary>The one gate table against the gates' definitions (QUANTUM.md): R_P(θ) = exp(−iθP/2) = cos(θ/2)·I − i·sin(θ/2)·P, H = (X + Z)/√2.</summary>
public class GateTableTests
{
    private static readonly Complex I = Complex.ImaginaryOne;
    private static readonly Complex[,] Id = { { 1, 0 }, { 0, 1 } }, X = { { 0, 1 }, { 1, 0 } }, Y = { { 0, -I }, { I, 0 } }, Z = { { 1, 0 }, { 0, -1 } };

    private static Complex[,] Definition(GateKind k, double theta)
    {
        var m = new Complex[2, 2];
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 2; c++)
                m[r, c] = k == GateKind.H ? (X[r, c] + Z[r, c]) / Math.Sqrt(2)
                    : Math.Cos(theta / 2) * Id[r, c] - I * Math.Sin(theta / 2) * (k == GateKind.RX ? X : k == GateKind.RY ? Y : Z)[r, c];
        return m;
    }

    [Test]
    public void Every_single_qubit_gate_is_its_definition_in_double_and_in_float([Values(GateKind.H, GateKind.RX, GateKind.RY, GateKind.RZ)] GateKind k,
                                                                              [Values(-2.7, 0.0, 0.3, 1.9, 3.1)] double theta)
    {
        var d = Definition(k, theta);
        var g = Gates2x2.Of(k, theta);
        double[] table = [g.R00, g.I00, g.R01, g.I01, g.R10, g.I10, g.R11, g.I11];
        double[] want = [d[0, 0].Real, d[0, 0].Imaginary, d[0, 1].Real, d[0, 1].Imaginary, d[1, 0].Real, d[1, 0].Imaginary, d[1, 1].Real, d[1, 1].Imaginary];
        Assert.That(table, Is.EqualTo(want).Within(1e-15), "double (the CPU simulators)");
        int row = GateTable.Row(k);
        float c = MathF.Cos((float)theta / 2), s = MathF.Sin((float)theta / 2);
        var single = Enumerable.Range(0, 8).Select(e => (double)GateTable.Value(GateTable.Entry(row, e), c, s)).ToArray();
        Assert.That(single, Is.EqualTo(want).Within(1e-6), "float (the ILGPU kernels)");
    }

    [Test]
    public void A_two_qubit_kind_is_not_a_single_qubit_gate()
    {
        Assert.Throws<ArgumentException>(() => Gates2x2.Of(GateKind.CNOT, 0.5));
    }
}
