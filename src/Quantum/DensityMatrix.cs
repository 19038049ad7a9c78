using System.Globalization;
using System.Runtime.Intrinsics;
using QGenEngine.Kernels.Cpu;

namespace QGenEngine.Quantum;

/// <summary>
/// Hardware noise (off by default), one of two kinds: uniform (`--noise`) - after every gate, on each wire it touches, a
/// depolarising channel (p), amplitude damping (γ) and dephasing (p); at measurement, a symmetric readout bit flip per
/// qubit - or a device's calibration (`--noise-model FILE`, <see cref="DeviceNoise"/>): per qubit and gate. Shot noise is
/// the `shots:N` readout.
/// </summary>
public sealed record NoiseModel(double Depolarizing = 0, double AmplitudeDamping = 0, double Dephasing = 0, double ReadoutError = 0, DeviceNoise? Device = null)
{
    public bool IsNoiseless => Device is null && Depolarizing == 0 && AmplitudeDamping == 0 && Dephasing == 0 && ReadoutError == 0;

    /// <summary>A device's calibration as the noise model.</summary>
    public static NoiseModel Of(DeviceNoise device) => new(Device: device);

    /// <summary>What happens after each gate of c.</summary>
    internal GateNoise[] Compile(Circuit c)
    {
        if (Device is { } d) return d.Compile(c);
        var ch = PairChannel.Of(this);
        return c.Gates.Select(_ => new GateNoise(ch, ch, 0)).ToArray();
    }

    /// <summary>Per wire: (p(1|0), p(0|1)).</summary>
    internal (double P1Given0, double P0Given1)[] ReadoutConfusion(int qubits) =>
        Device is { } d ? d.Readout(qubits) : Enumerable.Repeat((ReadoutError, ReadoutError), qubits).ToArray();

    /// <summary>Parses "depolarizing=0.01,damping=0.02,dephasing=0.01,readout=0.03" (any subset).</summary>
    public static NoiseModel Parse(string s)
    {
        var m = new NoiseModel();
        foreach (var part in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=');
            if (kv.Length != 2 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v < 0 || v > 1)
                throw new ArgumentException($"noise term '{part}' is not NAME=P with P in [0, 1]");
            m = kv[0].ToLowerInvariant() switch
            {
                "depolarizing" or "depolarising" => m with { Depolarizing = v },
                "damping" or "amplitude_damping" => m with { AmplitudeDamping = v },
                "dephasing" => m with { Dephasing = v },
                "readout" => m with { ReadoutError = v },
                _ => throw new ArgumentException($"unknown noise channel '{kv[0]}'; expected depolarizing, damping, dephasing or readout"),
            };
        }
        return m;
    }
}

/// <summary>
/// A one-wire channel on the entries x_ab = ρ[(…a…), (…b…)] of a pair (a, b the wire's row and column bits):
/// (x00, x11) → M (x00, x11), x01 → f x01, x10 → f x10, real M and f. Depolarising, amplitude damping, dephasing and
/// thermal relaxation are all of this form, and so is any composition of them.
/// </summary>
internal readonly record struct PairChannel(double M00, double M01, double M10, double M11, double F)
{
    public static readonly PairChannel Identity = new(1, 0, 0, 1, 1);

    public bool IsIdentity => this == Identity;

    /// <summary>this after a (apply a, then this).</summary>
    public PairChannel After(PairChannel a) => new(M00 * a.M00 + M01 * a.M10, M00 * a.M01 + M01 * a.M11,
                                                   M10 * a.M00 + M11 * a.M10, M10 * a.M01 + M11 * a.M11, F * a.F);

    /// <summary>Process fidelity with the identity: the superoperator's trace over d² = 4.</summary>
    public double ProcessFidelity => (M00 + M11 + 2 * F) / 4;

    /// <summary>ρ → (1 − λ) ρ + λ tr(ρ) I/2.</summary>
    public static PairChannel Depolarizing(double lambda) =>
        lambda == 0 ? Identity : new(1 - lambda / 2, lambda / 2, lambda / 2, 1 - lambda / 2, 1 - lambda);

    /// <summary>The uniform model's channel after every gate: depolarising (p), amplitude damping (γ), dephasing (p), in that order.</summary>
    public static PairChannel Of(NoiseModel m)
    {
        var ch = Identity;
        // (1−p)ρ + p/3 (XρX + YρY + ZρZ) = (1 − 4p/3) ρ + (2p/3) tr(ρ) I on every 2 × 2 block.
        if (m.Depolarizing > 0) { double p = m.Depolarizing; ch = new PairChannel(1 - 2 * p / 3, 2 * p / 3, 2 * p / 3, 1 - 2 * p / 3, 1 - 4 * p / 3).After(ch); }
        // K0 = diag(1, √(1−γ)), K1 = √γ |0⟩⟨1|.
        if (m.AmplitudeDamping > 0) { double g = m.AmplitudeDamping; ch = new PairChannel(1, g, 0, 1 - g, Math.Sqrt(1 - g)).After(ch); }
        // (1−p)ρ + p ZρZ.
        if (m.Dephasing > 0) { double p = m.Dephasing; ch = new PairChannel(1, 0, 0, 1, 1 - 2 * p).After(ch); }
        return ch;
    }
}

/// <summary>
/// Noisy circuits, batched: each circuit's density matrix ρ (2^n × 2^n) is held vectorised, |ρ⟩⟩ with index i·2^n + j,
/// as a state of 2n "qubits" - the row wires 0..n−1, then the column wires n..2n−1 - in a <see cref="StateBatch{T}"/>
/// whose lanes are circuits of the batch (the state-vector simulator's layout, so one SIMD instruction updates
/// four circuits). A gate U on wire q is then U on q and conj(U) on n+q (ρ → UρU†), a CNOT or CZ the same permutation
/// on the rows and the columns, and a channel on wire q a map on the pair (q, n+q). Everything that acts on one wire
/// between two two-qubit gates - its gates and the channels after each - is multiplied into one 4 × 4 superoperator
/// per circuit and applied in one pass (the fusion of <see cref="Fusion"/>, valid because gates and channels on other
/// wires commute with it). Double precision throughout.
/// </summary>
public static class DensityMatrix
{
    /// <summary>Circuits per group: one SIMD vector of doubles.</summary>
    private static int Lanes => Vector256<double>.Count;

    public static float[] Run(Circuit c, float[] inputs, int batch, float[] weights, Readout r, NoiseModel noise, ulong seed = 0)
    {
        var p = RunProbabilities(c, inputs, batch, weights, noise);
        int width = r.Width(c.Qubits), dim = c.Dim;
        var output = new float[batch * width];
        for (int b = 0; b < batch; b++)
            Readouts.FromProbabilities(p.AsSpan(b * dim, dim), c.Qubits, r, seed, (ulong)b, output.AsSpan(b * width, width));
        return output;
    }

    /// <summary>The measured distribution of one circuit under the noise model.</summary>
    public static double[] Probabilities(Circuit c, ReadOnlySpan<float> input, float[] weights, NoiseModel noise) =>
        RunProbabilities(c, input.ToArray(), 1, weights, noise);

    /// <summary>Every circuit's measured distribution (readout error included): (batch × 2^n) values.</summary>
    public static double[] RunProbabilities(Circuit c, float[] inputs, int batch, float[] weights, NoiseModel noise)
    {
        Simulator.Check(c, inputs, batch, weights);
        if (c.Qubits > 10) throw new ArgumentException($"noisy simulation keeps a 2^n × 2^n density matrix; {c.Qubits} qubits is too many (at most 10)");
        var job = new Job(c, inputs, batch, weights, noise, Lanes);
        CpuParallel.For(job.Groups, job, static (j, g) => j.RunGroup(g));
        return job.P;
    }

    /// <summary>
    /// 4 × 4 complex superoperators on the pair entries (x00, x01, x10, x11) (index 2a + b), one per lane: 16 entries, re and
    /// im, each a row of <c>lanes</c> values (m[(2e + 0|1)·lanes + lane], e = 4·row + column).
    /// </summary>
    private static class Super
    {
        /// <summary>U ⊗ conj(U) followed by the channel: S[(ab),(cd)] = U_ac conj(U_bd), then the channel's rows mixed.</summary>
        public static void OfGate(Gates2x2 u, PairChannel ch, Span<double> s16re, Span<double> s16im)
        {
            Span<double> ur = [u.R00, u.R01, u.R10, u.R11], ui = [u.I00, u.I01, u.I10, u.I11];
            for (int a = 0; a < 2; a++) for (int b = 0; b < 2; b++)
                for (int cc = 0; cc < 2; cc++) for (int d = 0; d < 2; d++)
                {
                    double xr = ur[2 * a + cc], xi = ui[2 * a + cc], yr = ur[2 * b + d], yi = -ui[2 * b + d];
                    int e = (2 * a + b) * 4 + 2 * cc + d;
                    s16re[e] = xr * yr - xi * yi; s16im[e] = xr * yi + xi * yr;
                }
            for (int col = 0; col < 4; col++)
            {
                double r0 = s16re[col], r3 = s16re[12 + col], i0 = s16im[col], i3 = s16im[12 + col];
                s16re[col] = ch.M00 * r0 + ch.M01 * r3; s16im[col] = ch.M00 * i0 + ch.M01 * i3;
                s16re[12 + col] = ch.M10 * r0 + ch.M11 * r3; s16im[12 + col] = ch.M10 * i0 + ch.M11 * i3;
                s16re[4 + col] *= ch.F; s16im[4 + col] *= ch.F; s16re[8 + col] *= ch.F; s16im[8 + col] *= ch.F;
            }
        }

        /// <summary>m (per lane) ← s · m in one lane.</summary>
        public static void LeftMultiply(double[] m, ReadOnlySpan<double> sre, ReadOnlySpan<double> sim, int lane, int lanes)
        {
            Span<double> tr = stackalloc double[16], ti = stackalloc double[16];
            for (int row = 0; row < 4; row++)
                for (int col = 0; col < 4; col++)
                {
                    double accR = 0, accI = 0;
                    for (int k = 0; k < 4; k++)
                    {
                        double ar = sre[row * 4 + k], ai = sim[row * 4 + k];
                        double br = m[(2 * (k * 4 + col)) * lanes + lane], bi = m[(2 * (k * 4 + col) + 1) * lanes + lane];
                        accR += ar * br - ai * bi; accI += ar * bi + ai * br;
                    }
                    tr[row * 4 + col] = accR; ti[row * 4 + col] = accI;
                }
            for (int e = 0; e < 16; e++) { m[2 * e * lanes + lane] = tr[e]; m[(2 * e + 1) * lanes + lane] = ti[e]; }
        }

        /// <summary>The identity in every lane.</summary>
        public static double[] Identity(int lanes)
        {
            var m = new double[32 * lanes];
            for (int d = 0; d < 4; d++) m.AsSpan(2 * (d * 4 + d) * lanes, lanes).Fill(1);
            return m;
        }
    }

    private sealed class Job(Circuit c, float[] inputs, int batch, float[] weights, NoiseModel noise, int lanes)
    {
        public readonly int Groups = (batch + lanes - 1) / lanes;
        public readonly double[] P = new double[batch * c.Dim];
        private readonly GateNoise[] _noise = noise.Compile(c);
        private readonly (double P1Given0, double P0Given1)[] _readout = noise.ReadoutConfusion(c.Qubits);

        public void RunGroup(int group)
        {
            int n = c.Qubits, dim = c.Dim, b0 = group * lanes;
            var rho = new StateBatch<double>(2 * n, lanes);
            Prepare(rho, b0);
            // The pending superoperator of each wire (null: none yet), applied when a two-qubit gate touches the wire or at the end.
            var pending = new double[]?[n];
            var sre = new double[16]; var sim = new double[16];
            void Flush(int w)
            {
                if (pending[w] is { } m) { ApplySuper(rho, w, n + w, m); pending[w] = null; }
            }
            // Multiplies the gate u, then the channel, into wire w's pending superoperator: in one lane, or in all (-1).
            void Push(int w, Gates2x2 u, PairChannel channel, int lane)
            {
                var m = pending[w] ??= Super.Identity(lanes);
                Super.OfGate(u, channel, sre, sim);
                if (lane >= 0) Super.LeftMultiply(m, sre, sim, lane, lanes);
                else for (int l = 0; l < lanes; l++) Super.LeftMultiply(m, sre, sim, l, lanes);
            }
            for (int gi = 0; gi < c.Gates.Count; gi++)
            {
                var g = c.Gates[gi]; var gn = _noise[gi];
                if (g.IsTwoQubit)
                {
                    Flush(g.Wire); Flush(g.Wire2);
                    if (g.Kind == GateKind.CNOT) { rho.Cnot(g.Wire, g.Wire2); rho.Cnot(n + g.Wire, n + g.Wire2); }
                    else { rho.Cz(g.Wire, g.Wire2); rho.Cz(n + g.Wire, n + g.Wire2); }
                    if (gn.Depolarizing2 != 0) Depolarize2(rho, n, g.Wire, g.Wire2, gn.Depolarizing2);
                    if (!gn.A.IsIdentity) Push(g.Wire, Gates2x2.Identity, gn.A, -1);
                    if (!gn.B.IsIdentity) Push(g.Wire2, Gates2x2.Identity, gn.B, -1);
                    continue;
                }
                if (g.Source == AngleSource.Input)
                    for (int l = 0; l < lanes; l++)   // each lane its own angle (padding lanes repeat the last sample)
                        Push(g.Wire, Gates2x2.Of(g.Kind, inputs[Math.Min(b0 + l, batch - 1) * c.InputCount + g.Index]), gn.A, l);
                else Push(g.Wire, Gates2x2.Of(g.Kind, g.Source == AngleSource.Weight ? weights[g.Index] : 0), gn.A, -1);
            }
            for (int w = 0; w < n; w++) Flush(w);

            // p_i = ρ_ii, then each qubit's readout confusion: p(read 0) = (1 − p(1|0)) p0 + p(0|1) p1, p(read 1) = p(1|0) p0 + (1 − p(0|1)) p1.
            var p = new double[dim];
            for (int lane = 0; lane < lanes && b0 + lane < batch; lane++)
            {
                for (int i = 0; i < dim; i++) p[i] = Math.Max(0, rho.Re[((long)i * dim + i) * lanes + lane]);
                for (int q = 0; q < n; q++)
                {
                    var (e10, e01) = _readout[q];
                    if (e10 == 0 && e01 == 0) continue;
                    int bit = 1 << (n - 1 - q);
                    for (int i = 0; i < dim; i++)
                        if ((i & bit) == 0) { double p0 = p[i], p1 = p[i | bit]; p[i] = (1 - e10) * p0 + e01 * p1; p[i | bit] = e10 * p0 + (1 - e01) * p1; }
                }
                p.CopyTo(P.AsSpan((b0 + lane) * dim, dim));
            }
        }

        /// <summary>ρ = |0…0⟩⟨0…0| (angle encoding) or aa†/|a|² (amplitude; padding lanes copy a real sample).</summary>
        private void Prepare(StateBatch<double> rho, int b0)
        {
            int dim = c.Dim;
            for (int lane = 0; lane < lanes; lane++)
            {
                if (c.Encoding == Encoding.Angle) { rho.Re[lane] = 1; continue; }
                int b = Math.Min(b0 + lane, batch - 1);
                var a = inputs.AsSpan(b * dim, dim);
                double norm2 = 0;
                foreach (float v in a) norm2 += (double)v * v;
                for (int i = 0; i < dim; i++)
                    for (int j = 0; j < dim; j++) rho.Re[((long)i * dim + j) * lanes + lane] = (double)a[i] * a[j] / norm2;
            }
        }
    }

    /// <summary>
    /// The two-qubit depolarising channel on wires (a, b): ρ → (1 − λ) ρ + λ (I/4 ⊗ tr_ab ρ). On the vectorised ρ, for every
    /// index with the four bits (a, b, n+a, n+b) clear, the 16 entries of the block scale by (1 − λ) and its four diagonal
    /// entries (row bits = column bits) gain λ/4 of their sum.
    /// </summary>
    private static void Depolarize2(StateBatch<double> s, int n, int a, int b, double lambda)
    {
        int L = s.Lanes;
        int[] bits = [s.Bit(a), s.Bit(b), s.Bit(n + a), s.Bit(n + b)];
        int mask = bits[0] | bits[1] | bits[2] | bits[3];
        Span<long> offsets = stackalloc long[16];
        for (int k = 0; k < 16; k++)
        {
            int o = 0;
            for (int j = 0; j < 4; j++) if ((k & (1 << j)) != 0) o |= bits[j];
            offsets[k] = (long)o * L;
        }
        // Diagonal blocks: row bits (a, b) equal to column bits (n+a, n+b), i.e. k = ab·(1 + 4) with ab in 0..3.
        ReadOnlySpan<int> diag = [0, 1 | 4, 2 | 8, 3 | 12];
        double keep = 1 - lambda, share = lambda / 4;
        for (int i = 0; i < s.Dim; i++)
        {
            if ((i & mask) != 0) continue;
            long i0 = (long)i * L;
            for (int lane = 0; lane < L; lane++)
            {
                double tr = 0, ti = 0;
                foreach (int k in diag) { tr += s.Re[i0 + offsets[k] + lane]; ti += s.Im[i0 + offsets[k] + lane]; }
                for (int k = 0; k < 16; k++) { s.Re[i0 + offsets[k] + lane] *= keep; s.Im[i0 + offsets[k] + lane] *= keep; }
                foreach (int k in diag) { s.Re[i0 + offsets[k] + lane] += share * tr; s.Im[i0 + offsets[k] + lane] += share * ti; }
            }
        }
    }

    /// <summary>
    /// Applies per-lane 4 × 4 superoperators to the pairs (row wire qa, column wire qb): for every index with both bits
    /// clear, the four entries at +0, +col bit, +row bit, +both. The inner runs (indices below the column bit) are
    /// contiguous, lanes a whole SIMD vector.
    /// </summary>
    private static unsafe void ApplySuper(StateBatch<double> s, int qa, int qb, double[] m)
    {
        int A = s.Bit(qa), B = s.Bit(qb), L = s.Lanes, W = Vector256<double>.Count;
        fixed (double* re = s.Re, im = s.Im, mp = m)
            for (int hi = 0; hi < s.Dim; hi += 2 * A)
                for (int mid = 0; mid < A; mid += 2 * B)
                    for (int lo = 0; lo < B; lo++)
                    {
                        long i0 = (long)(hi + mid + lo) * L;
                        long o1 = (long)B * L, o2 = (long)A * L, o3 = o1 + o2;
                        for (int v = 0; v < L; v += W)
                            Quad(re + i0 + v, im + i0 + v, o1, o2, o3, mp + v, L);
                    }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static unsafe void Quad(double* re, double* im, long o1, long o2, long o3, double* m, int L)
    {
        var x0r = Vector256.Load(re); var x0i = Vector256.Load(im);
        var x1r = Vector256.Load(re + o1); var x1i = Vector256.Load(im + o1);
        var x2r = Vector256.Load(re + o2); var x2i = Vector256.Load(im + o2);
        var x3r = Vector256.Load(re + o3); var x3i = Vector256.Load(im + o3);
        Row(re, im, 0, x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i, m, L);
        Row(re + o1, im + o1, 1, x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i, m, L);
        Row(re + o2, im + o2, 2, x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i, m, L);
        Row(re + o3, im + o3, 3, x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i, m, L);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static unsafe void Row(double* re, double* im, int row,
        Vector256<double> x0r, Vector256<double> x0i, Vector256<double> x1r, Vector256<double> x1i,
        Vector256<double> x2r, Vector256<double> x2i, Vector256<double> x3r, Vector256<double> x3i, double* m, int L)
    {
        double* p = m + 8 * row * L;   // entries 4·row .. 4·row + 3, re and im rows each
        var ar = Vector256.Load(p); var ai = Vector256.Load(p + L);
        var rr = ar * x0r - ai * x0i; var ri = ar * x0i + ai * x0r;
        ar = Vector256.Load(p + 2 * L); ai = Vector256.Load(p + 3 * L);
        rr += ar * x1r - ai * x1i; ri += ar * x1i + ai * x1r;
        ar = Vector256.Load(p + 4 * L); ai = Vector256.Load(p + 5 * L);
        rr += ar * x2r - ai * x2i; ri += ar * x2i + ai * x2r;
        ar = Vector256.Load(p + 6 * L); ai = Vector256.Load(p + 7 * L);
        rr += ar * x3r - ai * x3i; ri += ar * x3i + ai * x3r;
        Vector256.Store(rr, re); Vector256.Store(ri, im);
    }
}
