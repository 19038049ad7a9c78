using System.Numerics;
using QGenEngine.Quantum;

namespace QGenEngine.Tests.Quantum;

/// <summary>
/// The independent oracle: each gate as the full 2^n × 2^n matrix built by Kronecker products
/// (I ⊗ … ⊗ U ⊗ … ⊗ I) or, for CNOT/CZ, from its action on basis states, multiplied onto a
/// double-precision state vector. Written from QUANTUM.md, sharing no code with the simulator.
/// </summary>
public static class DenseReference
{
    private static Complex[,] Single(GateKind k, double a)
    {
        double c = Math.Cos(a / 2), s = Math.Sin(a / 2), h = 1 / Math.Sqrt(2);
        var i = Complex.ImaginaryOne;
        return k switch
        {
            GateKind.H => new Complex[,] { { h, h }, { h, -h } },
            GateKind.RX => new Complex[,] { { c, -i * s }, { -i * s, c } },
            GateKind.RY => new Complex[,] { { c, -s }, { s, c } },
            GateKind.RZ => new Complex[,] { { Complex.Exp(-i * a / 2), 0 }, { 0, Complex.Exp(i * a / 2) } },
            _ => throw new ArgumentException(k.ToString()),
        };
    }

    private static Complex[,] Kron(Complex[,] a, Complex[,] b)
    {
        int ra = a.GetLength(0), rb = b.GetLength(0);
        var r = new Complex[ra * rb, ra * rb];
        for (int i = 0; i < ra; i++) for (int j = 0; j < ra; j++)
            for (int k = 0; k < rb; k++) for (int l = 0; l < rb; l++) r[i * rb + k, j * rb + l] = a[i, j] * b[k, l];
        return r;
    }

    private static Complex[,] Eye(int d) { var m = new Complex[d, d]; for (int i = 0; i < d; i++) m[i, i] = 1; return m; }

    public static Complex[,] Matrix(Gate g, int n, double angle)
    {
        int dim = 1 << n;
        if (g.IsTwoQubit)
        {
            var m = new Complex[dim, dim];
            for (int b = 0; b < dim; b++)
            {
                int cbit = (b >> (n - 1 - g.Wire)) & 1, tbit = (b >> (n - 1 - g.Wire2)) & 1;
                if (g.Kind == GateKind.CNOT) m[cbit == 1 ? b ^ (1 << (n - 1 - g.Wire2)) : b, b] = 1;
                else m[b, b] = cbit == 1 && tbit == 1 ? -1 : 1;
            }
            return m;
        }
        var u = new Complex[,] { { 1 } };
        for (int q = 0; q < n; q++) u = Kron(u, q == g.Wire ? Single(g.Kind, angle) : Eye(2));   // wire 0 most significant
        return u;
    }

    public static Complex[] State(Circuit c, float[] input, float[] weights) =>
        State(c, input.Select(v => (double)v).ToArray(), weights.Select(v => (double)v).ToArray());

    /// <summary>The final state in double, inputs and angles too (for finite differences that are not rounded to float).</summary>
    public static Complex[] State(Circuit c, double[] input, double[] weights)
    {
        int dim = c.Dim;
        var psi = new Complex[dim];
        if (c.Encoding == Encoding.Angle) psi[0] = 1;
        else
        {
            double norm = Math.Sqrt(input.Sum(v => (double)v * v));
            for (int i = 0; i < dim; i++) psi[i] = input[i] / norm;
        }
        foreach (var g in c.Gates)
        {
            double a = g.Source switch { AngleSource.Input => input[g.Index], AngleSource.Weight => weights[g.Index], _ => 0 };
            var m = Matrix(g, c.Qubits, a);
            var next = new Complex[dim];
            for (int i = 0; i < dim; i++) for (int j = 0; j < dim; j++) next[i] += m[i, j] * psi[j];
            psi = next;
        }
        return psi;
    }

    public static double[] Readout(Circuit c, float[] input, float[] weights, Readout r) =>
        Readout(c, input.Select(v => (double)v).ToArray(), weights.Select(v => (double)v).ToArray(), r);

    public static double[] Readout(Circuit c, double[] input, double[] weights, Readout r)
    {
        var p = State(c, input, weights).Select(a => a.Magnitude * a.Magnitude).ToArray();
        if (r.Kind != ReadoutKind.Expval) return p;
        return Enumerable.Range(0, c.Qubits).Select(q => p.Select((v, i) => ((i >> (c.Qubits - 1 - q)) & 1) == 0 ? v : -v).Sum()).ToArray();
    }
}
