using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace QGenEngine.Quantum;

/// <summary>
/// A batch of state vectors stored as a (2^n × lanes) matrix, real and imaginary parts apart
/// (index = amplitude·lanes + lane), so that every gate updates all samples of the batch with the same
/// SIMD instructions (Yo.jl's batched register). Gate kernels only apply 2×2 matrices (one per lane)
/// to amplitude pairs, or permute/negate rows for CNOT/CZ (Lightning, qsim).
/// </summary>
internal sealed class StateBatch<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly int Qubits, Lanes, Dim;
    public readonly T[] Re, Im;

    public StateBatch(int qubits, int lanes)
    {
        Qubits = qubits; Lanes = lanes; Dim = 1 << qubits;
        Re = new T[(long)Dim * lanes]; Im = new T[(long)Dim * lanes];
    }

    public void CopyFrom(StateBatch<T> o) { o.Re.CopyTo(Re, 0); o.Im.CopyTo(Im, 0); }

    /// <summary>Bit of wire q in a basis index (wire 0 is the most significant).</summary>
    public int Bit(int q) => 1 << (Qubits - 1 - q);

    /// <summary>
    /// Applies per-lane 2×2 matrices to wire q. m holds 8 rows of <see cref="Lanes"/> values:
    /// re/im of u00, u01, u10, u11.
    /// </summary>
    public void Apply1(int q, T[] m)
    {
        int bit = Bit(q), L = Lanes;
        var mr = m.AsSpan();
        for (int hi = 0; hi < Dim; hi += 2 * bit)
            for (int lo = 0; lo < bit; lo++)
            {
                int i0 = (hi + lo) * L, i1 = (hi + lo + bit) * L;
                Pair(Re.AsSpan(i0, L), Im.AsSpan(i0, L), Re.AsSpan(i1, L), Im.AsSpan(i1, L), mr, L);
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair(Span<T> ar, Span<T> ai, Span<T> br, Span<T> bi, ReadOnlySpan<T> m, int L)
    {
        int v = 0;
        if (Vector256.IsHardwareAccelerated && L >= Vector256<T>.Count)
        {
            ref T m0 = ref MemoryMarshal.GetReference(m);
            for (; v <= L - Vector256<T>.Count; v += Vector256<T>.Count)
            {
                var xr = Vector256.Create<T>(ar.Slice(v)); var xi = Vector256.Create<T>(ai.Slice(v));
                var yr = Vector256.Create<T>(br.Slice(v)); var yi = Vector256.Create<T>(bi.Slice(v));
                var u00r = Vector256.LoadUnsafe(ref m0, (nuint)(0 * L + v)); var u00i = Vector256.LoadUnsafe(ref m0, (nuint)(1 * L + v));
                var u01r = Vector256.LoadUnsafe(ref m0, (nuint)(2 * L + v)); var u01i = Vector256.LoadUnsafe(ref m0, (nuint)(3 * L + v));
                var u10r = Vector256.LoadUnsafe(ref m0, (nuint)(4 * L + v)); var u10i = Vector256.LoadUnsafe(ref m0, (nuint)(5 * L + v));
                var u11r = Vector256.LoadUnsafe(ref m0, (nuint)(6 * L + v)); var u11i = Vector256.LoadUnsafe(ref m0, (nuint)(7 * L + v));
                (u00r * xr - u00i * xi + u01r * yr - u01i * yi).CopyTo(ar.Slice(v));
                (u00r * xi + u00i * xr + u01r * yi + u01i * yr).CopyTo(ai.Slice(v));
                (u10r * xr - u10i * xi + u11r * yr - u11i * yi).CopyTo(br.Slice(v));
                (u10r * xi + u10i * xr + u11r * yi + u11i * yr).CopyTo(bi.Slice(v));
            }
        }
        for (; v < L; v++)
        {
            T xr = ar[v], xi = ai[v], yr = br[v], yi = bi[v];
            T u00r = m[v], u00i = m[L + v], u01r = m[2 * L + v], u01i = m[3 * L + v];
            T u10r = m[4 * L + v], u10i = m[5 * L + v], u11r = m[6 * L + v], u11i = m[7 * L + v];
            ar[v] = u00r * xr - u00i * xi + u01r * yr - u01i * yi;
            ai[v] = u00r * xi + u00i * xr + u01r * yi + u01i * yr;
            br[v] = u10r * xr - u10i * xi + u11r * yr - u11i * yi;
            bi[v] = u10r * xi + u10i * xr + u11r * yi + u11i * yr;
        }
    }

    /// <summary>CNOT(c, t): swaps the rows of |…1_c…0_t…⟩ and |…1_c…1_t…⟩.</summary>
    public void Cnot(int c, int t)
    {
        int cb = Bit(c), tb = Bit(t), L = Lanes;
        for (int i = 0; i < Dim; i++)
        {
            if ((i & cb) == 0 || (i & tb) != 0) continue;
            int j = i | tb;
            Swap(Re.AsSpan(i * L, L), Re.AsSpan(j * L, L));
            Swap(Im.AsSpan(i * L, L), Im.AsSpan(j * L, L));
        }
    }

    private static void Swap(Span<T> a, Span<T> b)
    {
        for (int k = 0; k < a.Length; k++) (a[k], b[k]) = (b[k], a[k]);
    }

    /// <summary>CZ(c, t): negates the rows where both wires are 1.</summary>
    public void Cz(int c, int t)
    {
        int cb = Bit(c), tb = Bit(t), L = Lanes;
        for (int i = 0; i < Dim; i++)
        {
            if ((i & cb) == 0 || (i & tb) == 0) continue;
            foreach (ref T x in Re.AsSpan(i * L, L)) x = -x;
            foreach (ref T x in Im.AsSpan(i * L, L)) x = -x;
        }
    }

    /// <summary>Per lane: Im⟨λ|P_q|φ⟩ for the Pauli P (X, Y or Z) on wire q, added into acc.</summary>
    public static void PauliExpectationIm(StateBatch<T> lam, StateBatch<T> phi, int q, GateKind pauliOf, Span<T> acc)
    {
        int bit = phi.Bit(q), L = phi.Lanes;
        for (int hi = 0; hi < phi.Dim; hi += 2 * bit)
            for (int lo = 0; lo < bit; lo++)
            {
                int i0 = (hi + lo) * L, i1 = (hi + lo + bit) * L;
                for (int v = 0; v < L; v++)
                {
                    T l0r = lam.Re[i0 + v], l0i = lam.Im[i0 + v], l1r = lam.Re[i1 + v], l1i = lam.Im[i1 + v];
                    T p0r = phi.Re[i0 + v], p0i = phi.Im[i0 + v], p1r = phi.Re[i1 + v], p1i = phi.Im[i1 + v];
                    acc[v] += pauliOf switch
                    {
                        // X: conj(λ0)φ1 + conj(λ1)φ0;  Im(conj(a)b) = a_r b_i − a_i b_r
                        GateKind.RX => l0r * p1i - l0i * p1r + l1r * p0i - l1i * p0r,
                        // Y: conj(λ0)(−iφ1) + conj(λ1)(iφ0);  Im(−i·conj(a)b) = −Re(conj(a)b)
                        GateKind.RY => -(l0r * p1r + l0i * p1i) + (l1r * p0r + l1i * p0i),
                        // Z: conj(λ0)φ0 − conj(λ1)φ1
                        _ => l0r * p0i - l0i * p0r - (l1r * p1i - l1i * p1r),
                    };
                }
            }
    }
}
