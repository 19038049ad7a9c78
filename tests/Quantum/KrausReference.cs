using System.Numerics;
using QGenEngine.Quantum;

namespace QGenEngine.Tests.Quantum;

/// <summary>
/// The oracle for noisy circuits: one circuit at a time as an explicit 2^n × 2^n density matrix, every gate as
/// ρ → UρU† and every channel as its Kraus sum Σ_k K_k ρ K_k† (the operators written out as in Nielsen &amp; Chuang
/// 8.3), scalar loops in double precision. The engine's simulator (src/Quantum/DensityMatrix.cs) instead holds ρ as a
/// batched 2n-qubit vector and applies each wire's gates and channels as one fused 4 × 4 superoperator; this shares
/// none of that.
/// </summary>
public static class KrausReference
{
    /// <summary>The measured distribution of one circuit under the noise model.</summary>
    public static double[] Probabilities(Circuit c, ReadOnlySpan<float> input, float[] weights, NoiseModel noise)
    {
        int n = c.Qubits, dim = c.Dim;
        var rho = new Complex[dim * dim];
        if (c.Encoding == Encoding.Angle) rho[0] = 1;
        else
        {
            double norm = 0;
            foreach (float v in input) norm += (double)v * v;
            norm = Math.Sqrt(norm);
            for (int i = 0; i < dim; i++) for (int j = 0; j < dim; j++) rho[i * dim + j] = (double)input[i] * input[j] / (norm * norm);
        }
        foreach (var g in c.Gates)
        {
            if (g.IsTwoQubit) Permute(rho, n, g);
            else
            {
                double a = g.Source switch { AngleSource.Input => input[g.Index], AngleSource.Weight => weights[g.Index], _ => 0 };
                Conjugate(rho, n, g.Wire, Gates2x2.Of(g.Kind, a));
            }
            foreach (int w in g.IsTwoQubit ? new[] { g.Wire, g.Wire2 } : [g.Wire]) Channels(rho, n, w, noise);
        }
        var p = new double[dim];
        for (int i = 0; i < dim; i++) p[i] = Math.Max(0, rho[i * dim + i].Real);
        if (noise.ReadoutError > 0)
            for (int q = 0; q < n; q++)
            {
                int bit = 1 << (n - 1 - q); double e = noise.ReadoutError;
                for (int i = 0; i < dim; i++)
                    if ((i & bit) == 0) { double p0 = p[i], p1 = p[i | bit]; p[i] = (1 - e) * p0 + e * p1; p[i | bit] = e * p0 + (1 - e) * p1; }
            }
        return p;
    }

    /// <summary>ρ → U ρ U† for U on wire q.</summary>
    private static void Conjugate(Complex[] rho, int n, int q, Gates2x2 u)
    {
        int dim = 1 << n, bit = 1 << (n - 1 - q);
        Complex u00 = new(u.R00, u.I00), u01 = new(u.R01, u.I01), u10 = new(u.R10, u.I10), u11 = new(u.R11, u.I11);
        for (int j = 0; j < dim; j++)          // rows: U ρ
            for (int i = 0; i < dim; i++)
            {
                if ((i & bit) != 0) continue;
                Complex a = rho[i * dim + j], b = rho[(i | bit) * dim + j];
                rho[i * dim + j] = u00 * a + u01 * b; rho[(i | bit) * dim + j] = u10 * a + u11 * b;
            }
        Complex c00 = Complex.Conjugate(u00), c01 = Complex.Conjugate(u01), c10 = Complex.Conjugate(u10), c11 = Complex.Conjugate(u11);
        for (int i = 0; i < dim; i++)          // columns: (U ρ) U†, (ρU†)_{ij} = Σ_k ρ_ik conj(U_jk)
            for (int j = 0; j < dim; j++)
            {
                if ((j & bit) != 0) continue;
                Complex a = rho[i * dim + j], b = rho[i * dim + (j | bit)];
                rho[i * dim + j] = c00 * a + c01 * b; rho[i * dim + (j | bit)] = c10 * a + c11 * b;
            }
    }

    /// <summary>CNOT or CZ on both sides (each is its own inverse).</summary>
    private static void Permute(Complex[] rho, int n, Gate g)
    {
        int dim = 1 << n, cb = 1 << (n - 1 - g.Wire), tb = 1 << (n - 1 - g.Wire2);
        if (g.Kind == GateKind.CZ)
        {
            for (int i = 0; i < dim; i++)
                for (int j = 0; j < dim; j++)
                {
                    int s = ((i & cb) != 0 && (i & tb) != 0 ? 1 : 0) ^ ((j & cb) != 0 && (j & tb) != 0 ? 1 : 0);
                    if (s != 0) rho[i * dim + j] = -rho[i * dim + j];
                }
            return;
        }
        int Map(int i) => (i & cb) != 0 ? i ^ tb : i;
        var copy = (Complex[])rho.Clone();
        for (int i = 0; i < dim; i++) for (int j = 0; j < dim; j++) rho[Map(i) * dim + Map(j)] = copy[i * dim + j];
    }

    private static void Channels(Complex[] rho, int n, int q, NoiseModel m)
    {
        if (m.Depolarizing > 0)
        {
            double p = m.Depolarizing, s = Math.Sqrt(p / 3);
            Kraus(rho, n, q, [Scale(Gates2x2.Identity, Math.Sqrt(1 - p)), new(0, 0, s, 0, s, 0, 0, 0), new(0, 0, 0, -s, 0, s, 0, 0), new(s, 0, 0, 0, 0, 0, -s, 0)]);
        }
        if (m.AmplitudeDamping > 0)
        {
            double g = m.AmplitudeDamping;
            Kraus(rho, n, q, [new(1, 0, 0, 0, 0, 0, Math.Sqrt(1 - g), 0), new(0, 0, Math.Sqrt(g), 0, 0, 0, 0, 0)]);
        }
        if (m.Dephasing > 0)
        {
            double p = m.Dephasing;
            Kraus(rho, n, q, [Scale(Gates2x2.Identity, Math.Sqrt(1 - p)), new(Math.Sqrt(p), 0, 0, 0, 0, 0, -Math.Sqrt(p), 0)]);
        }
    }

    private static Gates2x2 Scale(Gates2x2 m, double s) => new(m.R00 * s, m.I00 * s, m.R01 * s, m.I01 * s, m.R10 * s, m.I10 * s, m.R11 * s, m.I11 * s);

    /// <summary>ρ → Σ_k K_k ρ K_k†.</summary>
    private static void Kraus(Complex[] rho, int n, int q, Gates2x2[] ks)
    {
        var sum = new Complex[rho.Length];
        foreach (var k in ks)
        {
            var t = (Complex[])rho.Clone();
            Conjugate(t, n, q, k);
            for (int i = 0; i < sum.Length; i++) sum[i] += t[i];
        }
        Array.Copy(sum, rho, rho.Length);
    }
}
