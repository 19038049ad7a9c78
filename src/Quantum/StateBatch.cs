using System.Numerics;
using System.Runtime.CompilerServices;
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
    public T[] Re { get; private set; }
    public T[] Im { get; private set; }

    public StateBatch(int qubits, int lanes)
    {
        Qubits = qubits; Lanes = lanes; Dim = 1 << qubits;
        Re = new T[(long)Dim * lanes]; Im = new T[(long)Dim * lanes];
    }

    [ThreadStatic] private static StateBatch<T>?[]? _scratch;

    /// <summary>
    /// A zeroed batch from this thread's two scratch slots, reused from call to call when small (a batch of the report's
    /// circuit is 2 × 64 KB: allocating it per call made the collector run every few calls); a new one when large. The
    /// caller must be done with it before it asks for the same slot again.
    /// </summary>
    public static StateBatch<T> Scratch(int qubits, int lanes, int slot, bool clear = true)
    {
        if (((long)lanes << qubits) > 1 << 16) return new StateBatch<T>(qubits, lanes);
        var cache = _scratch ??= new StateBatch<T>?[3];
        var s = cache[slot];
        if (s is null || s.Qubits != qubits || s.Lanes != lanes) return cache[slot] = new StateBatch<T>(qubits, lanes);
        if (clear) { Array.Clear(s.Re); Array.Clear(s.Im); }
        return s;
    }

    /// <summary>
    /// Applies a signed permutation of the basis (a run of CNOT/CZ gates) in one pass: row i becomes Sign[i] · row
    /// Gather[i], gathered into <paramref name="spare"/>'s arrays, which this batch then takes (the spare gets the old ones).
    /// </summary>
    public unsafe void Permute(Permutation p, StateBatch<T> spare)
    {
        int L = Lanes, W = Vector256<T>.Count;
        fixed (T* re = Re, im = Im, ore = spare.Re, oim = spare.Im)
            for (int i = 0; i < Dim; i++)
            {
                long to = (long)i * L, from = (long)p.Gather[i] * L;
                bool neg = p.Sign is { } sg && sg[i] < 0;
                int v = 0;
                if (Vector256.IsHardwareAccelerated)
                    for (; v <= L - W; v += W)
                    {
                        var a = Vector256.Load(re + from + v); var b = Vector256.Load(im + from + v);
                        if (neg) { a = -a; b = -b; }
                        Vector256.Store(a, ore + to + v); Vector256.Store(b, oim + to + v);
                    }
                for (; v < L; v++) { ore[to + v] = neg ? -re[from + v] : re[from + v]; oim[to + v] = neg ? -im[from + v] : im[from + v]; }
            }
        (Re, spare.Re) = (spare.Re, Re);
        (Im, spare.Im) = (spare.Im, Im);
    }

    public void CopyFrom(StateBatch<T> o) { o.Re.CopyTo(Re, 0); o.Im.CopyTo(Im, 0); }

    /// <summary>Bit of wire q in a basis index (wire 0 is the most significant).</summary>
    public int Bit(int q) => 1 << (Qubits - 1 - q);

    /// <summary>
    /// Applies per-lane 2×2 matrices to wire q. m holds 8 rows of <see cref="Lanes"/> values:
    /// re/im of u00, u01, u10, u11. For a pair block (hi, bit) the rows i0 = hi..hi+bit and
    /// i1 = i0 + bit are contiguous runs of bit·lanes values, which the SIMD loops walk straight through.
    /// </summary>
    public unsafe void Apply1(int q, T[] m)
    {
        int bit = Bit(q), L = Lanes, W = Vector256<T>.Count;
        fixed (T* re = Re, im = Im, mp = m)
        {
            if (L == W && Vector256.IsHardwareAccelerated)
            {
                // One vector a row (the simulator's lane groups): the matrix stays in registers for the whole pass.
                var u00r = Vector256.Load(mp); var u00i = Vector256.Load(mp + W); var u01r = Vector256.Load(mp + 2 * W); var u01i = Vector256.Load(mp + 3 * W);
                var u10r = Vector256.Load(mp + 4 * W); var u10i = Vector256.Load(mp + 5 * W); var u11r = Vector256.Load(mp + 6 * W); var u11i = Vector256.Load(mp + 7 * W);
                long off = (long)bit * W;
                for (int hi = 0; hi < Dim; hi += 2 * bit)
                {
                    T* ar = re + (long)hi * W, ai = im + (long)hi * W, end = ar + off;
                    for (; ar < end; ar += W, ai += W)
                        PairVec(ar, ai, ar + off, ai + off, u00r, u00i, u01r, u01i, u10r, u10i, u11r, u11i);
                }
                return;
            }
            if (L == 1 && bit >= W && Vector256.IsHardwareAccelerated)
            {
                // One state: the matrix is the same for every pair; vectorise along the run.
                int chunks = Dim >= 1 << 14 ? Math.Min(64, Dim / (1 << 12)) : 1;
                var st = new UniformJob(re, im, mp, bit, Dim, chunks);
                if (chunks > 1) QGenEngine.Kernels.Cpu.CpuParallel.For(chunks, st, static (j, c) => j.Run(c));
                else st.Run(0);
                return;
            }
            for (int hi = 0; hi < Dim; hi += 2 * bit)
            {
                T* ar = re + (long)hi * L, ai = im + (long)hi * L, br = ar + (long)bit * L, bi = ai + (long)bit * L;
                for (int lo = 0; lo < bit; lo++, ar += L, ai += L, br += L, bi += L)
                {
                    int v = 0;
                    if (Vector256.IsHardwareAccelerated)
                        for (; v <= L - W; v += W) PairVec(ar + v, ai + v, br + v, bi + v,
                            Vector256.Load(mp + v), Vector256.Load(mp + L + v), Vector256.Load(mp + 2 * L + v), Vector256.Load(mp + 3 * L + v),
                            Vector256.Load(mp + 4 * L + v), Vector256.Load(mp + 5 * L + v), Vector256.Load(mp + 6 * L + v), Vector256.Load(mp + 7 * L + v));
                    for (; v < L; v++)
                    {
                        T xr = ar[v], xi = ai[v], yr = br[v], yi = bi[v];
                        T u00r = mp[v], u00i = mp[L + v], u01r = mp[2 * L + v], u01i = mp[3 * L + v];
                        T u10r = mp[4 * L + v], u10i = mp[5 * L + v], u11r = mp[6 * L + v], u11i = mp[7 * L + v];
                        ar[v] = u00r * xr - u00i * xi + u01r * yr - u01i * yi;
                        ai[v] = u00r * xi + u00i * xr + u01r * yi + u01i * yr;
                        br[v] = u10r * xr - u10i * xi + u11r * yr - u11i * yi;
                        bi[v] = u10r * xi + u10i * xr + u11r * yi + u11i * yr;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PairVec(T* ar, T* ai, T* br, T* bi,
        Vector256<T> u00r, Vector256<T> u00i, Vector256<T> u01r, Vector256<T> u01i,
        Vector256<T> u10r, Vector256<T> u10i, Vector256<T> u11r, Vector256<T> u11i)
    {
        var xr = Vector256.Load(ar); var xi = Vector256.Load(ai); var yr = Vector256.Load(br); var yi = Vector256.Load(bi);
        Vector256.Store(u00r * xr - u00i * xi + u01r * yr - u01i * yi, ar);
        Vector256.Store(u00r * xi + u00i * xr + u01r * yi + u01i * yr, ai);
        Vector256.Store(u10r * xr - u10i * xi + u11r * yr - u11i * yi, br);
        Vector256.Store(u10r * xi + u10i * xr + u11r * yi + u11i * yr, bi);
    }

    /// <summary>A single state's gate, split into chunks of the flat pair index for threads.</summary>
    private readonly unsafe struct UniformJob(T* re, T* im, T* m, int bit, int dim, int chunks)
    {
        public void Run(int chunk)
        {
            int total = dim / 2, n = chunks;
            long s = (long)total * chunk / n, e = (long)total * (chunk + 1) / n;
            var u00r = Vector256.Create(m[0]); var u00i = Vector256.Create(m[1]); var u01r = Vector256.Create(m[2]); var u01i = Vector256.Create(m[3]);
            var u10r = Vector256.Create(m[4]); var u10i = Vector256.Create(m[5]); var u11r = Vector256.Create(m[6]); var u11i = Vector256.Create(m[7]);
            // Flat pair index k → i0 = (k / bit)·2·bit + k % bit; runs of W pairs never cross a block (bit ≥ W, chunk ends multiples of W).
            s = s / Vector256<T>.Count * Vector256<T>.Count; e = chunk == n - 1 ? total : e / Vector256<T>.Count * Vector256<T>.Count;
            for (long k = s; k < e; k += Vector256<T>.Count)
            {
                long i0 = k / bit * 2 * bit + k % bit;
                PairVec(re + i0, im + i0, re + i0 + bit, im + i0 + bit, u00r, u00i, u01r, u01i, u10r, u10i, u11r, u11i);
            }
        }
    }

    /// <summary>
    /// CNOT(c, t): swaps the rows of |…1_c…0_t…⟩ and |…1_c…1_t…⟩. Rows whose index differs only below the target bit
    /// are adjacent, so the swap runs over blocks of (rows below t) × lanes contiguous values, a vector at a time.
    /// </summary>
    public unsafe void Cnot(int c, int t)
    {
        int cb = Bit(c), tb = Bit(t), L = Lanes;
        long run = (long)tb * L;                    // rows i .. i + tb − 1 share their bits above t
        fixed (T* re = Re, im = Im)
            for (int i = 0; i < Dim; i += tb)
            {
                if ((i & tb) != 0 || (cb > tb && (i & cb) == 0)) continue;
                // Within the run, rows where the control is 0 (control below the target) are left alone.
                if (cb < tb)
                    for (int r = 0; r < tb; r++)
                    {
                        if (((i + r) & cb) == 0) continue;
                        Swap(re + (long)(i + r) * L, re + (long)(i + r + tb) * L, L);
                        Swap(im + (long)(i + r) * L, im + (long)(i + r + tb) * L, L);
                    }
                else
                {
                    Swap(re + (long)i * L, re + (long)(i + tb) * L, run);
                    Swap(im + (long)i * L, im + (long)(i + tb) * L, run);
                }
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Swap(T* a, T* b, long n)
    {
        long v = 0, W = Vector256<T>.Count;
        if (Vector256.IsHardwareAccelerated)
            for (; v <= n - W; v += W)
            {
                var x = Vector256.Load(a + v); var y = Vector256.Load(b + v);
                Vector256.Store(y, a + v); Vector256.Store(x, b + v);
            }
        for (; v < n; v++) (a[v], b[v]) = (b[v], a[v]);
    }

    /// <summary>CZ(c, t): negates the rows where both wires are 1.</summary>
    public void Cz(int c, int t)
    {
        int cb = Bit(c), tb = Bit(t), L = Lanes;
        for (int i = 0; i < Dim; i++)
        {
            if ((i & cb) == 0 || (i & tb) == 0) continue;
            var re = Re.AsSpan(i * L, L); var im = Im.AsSpan(i * L, L);
            System.Numerics.Tensors.TensorPrimitives.Negate<T>(re, re);
            System.Numerics.Tensors.TensorPrimitives.Negate<T>(im, im);
        }
    }

    /// <summary>Per lane: Im⟨λ|P_q|φ⟩ for the Pauli P (X, Y or Z: the generator of RX, RY, RZ) on wire q, added into acc.</summary>
    public static unsafe void PauliExpectationIm(StateBatch<T> lam, StateBatch<T> phi, int q, GateKind pauliOf, Span<T> acc)
    {
        int bit = phi.Bit(q), L = phi.Lanes, W = Vector256<T>.Count;
        bool vec = Vector256.IsHardwareAccelerated && L % W == 0;
        fixed (T* lr = lam.Re, li = lam.Im, pr = phi.Re, pi = phi.Im, ac = acc)
            for (int hi = 0; hi < phi.Dim; hi += 2 * bit)
                for (int lo = 0; lo < bit; lo++)
                {
                    long i0 = (long)(hi + lo) * L, i1 = (long)(hi + lo + bit) * L;
                    if (vec)
                        for (int v = 0; v < L; v += W)
                        {
                            var l0r = Vector256.Load(lr + i0 + v); var l0i = Vector256.Load(li + i0 + v);
                            var l1r = Vector256.Load(lr + i1 + v); var l1i = Vector256.Load(li + i1 + v);
                            var p0r = Vector256.Load(pr + i0 + v); var p0i = Vector256.Load(pi + i0 + v);
                            var p1r = Vector256.Load(pr + i1 + v); var p1i = Vector256.Load(pi + i1 + v);
                            var term = pauliOf switch
                            {
                                GateKind.RX => l0r * p1i - l0i * p1r + l1r * p0i - l1i * p0r,
                                GateKind.RY => l1r * p0r + l1i * p0i - l0r * p1r - l0i * p1i,
                                _ => l0r * p0i - l0i * p0r - l1r * p1i + l1i * p1r,
                            };
                            Vector256.Store(Vector256.Load(ac + v) + term, ac + v);
                        }
                    else
                        for (int v = 0; v < L; v++)
                        {
                            T l0r = lr[i0 + v], l0i = li[i0 + v], l1r = lr[i1 + v], l1i = li[i1 + v];
                            T p0r = pr[i0 + v], p0i = pi[i0 + v], p1r = pr[i1 + v], p1i = pi[i1 + v];
                            ac[v] += pauliOf switch
                            {
                                // X: conj(λ0)φ1 + conj(λ1)φ0;  Im(conj(a)b) = a_r b_i − a_i b_r
                                GateKind.RX => l0r * p1i - l0i * p1r + l1r * p0i - l1i * p0r,
                                // Y: conj(λ0)(−iφ1) + conj(λ1)(iφ0);  Im(−i·conj(a)b) = −Re(conj(a)b)
                                GateKind.RY => l1r * p0r + l1i * p0i - l0r * p1r - l0i * p1i,
                                // Z: conj(λ0)φ0 − conj(λ1)φ1
                                _ => l0r * p0i - l0i * p0r - l1r * p1i + l1i * p1r,
                            };
                        }
                }
    }

    /// <summary>
    /// One fused block of the adjoint sweep in a single pass over the amplitude pairs of wire q, for lane groups of one
    /// SIMD vector (a row of the state is one register): each pair of φ and of λ is loaded once, and the block's gates are
    /// taken in reverse order in registers - for gate j, Im⟨λ|P_j|φ⟩ per lane is added into acc[j·Lanes …] when grads[j]
    /// (P the generator of kinds[j], as in <see cref="PauliExpectationIm"/>), then the gate is un-applied to both with the
    /// arithmetic of its kind (H, or R(a) with c = cos(a/2), s = sin(a/2) per lane in coef rows 2j and 2j + 1, a the
    /// negated angle): a rotation costs 12 FLOPs a state instead of a general 2×2 matrix's 28. The coefficients and the
    /// gradient sums sit in a small stack array for the whole pass; the sums run over the pairs in the order
    /// <see cref="PauliExpectationIm"/> uses. Needs <see cref="BlockAdjointFits"/>.
    /// </summary>
    public static unsafe void AdjointBlock(StateBatch<T> lam, StateBatch<T> phi, int q, ReadOnlySpan<GateKind> kinds, ReadOnlySpan<bool> grads,
                                               T[] coef, T[] acc)
    {
        int bit = phi.Bit(q), W = Vector256<T>.Count, count = kinds.Length;
        long off = (long)bit * W;
        var h = Vector256.Create(T.CreateTruncating(0.70710678118654752));
        Span<int> kind = stackalloc int[count];
        Span<Vector256<T>> cs = stackalloc Vector256<T>[2 * count];
        Span<Vector256<T>> sums = stackalloc Vector256<T>[count];
        for (int j = 0; j < count; j++)
        {
            kind[j] = grads[j] ? (int)kinds[j] : -1 - (int)kinds[j];   // negative: no gradient wanted
            cs[2 * j] = Vector256.Create(coef.AsSpan(2 * j * W, W)); cs[2 * j + 1] = Vector256.Create(coef.AsSpan((2 * j + 1) * W, W));
            sums[j] = Vector256.Create(acc.AsSpan(j * W, W));
        }
        fixed (T* lr = lam.Re, li = lam.Im, pr = phi.Re, pi = phi.Im)
            for (int hi = 0; hi < phi.Dim; hi += 2 * bit)
            {
                long start = (long)hi * W;
                for (long i0 = start; i0 < start + off; i0 += W)
                {
                    long i1 = i0 + off;
                    var l0r = Vector256.Load(lr + i0); var l0i = Vector256.Load(li + i0);
                    var l1r = Vector256.Load(lr + i1); var l1i = Vector256.Load(li + i1);
                    var p0r = Vector256.Load(pr + i0); var p0i = Vector256.Load(pi + i0);
                    var p1r = Vector256.Load(pr + i1); var p1i = Vector256.Load(pi + i1);
                    for (int j = 0; j < count; j++)
                    {
                        int k = kind[j];
                        if (k >= 0)
                            sums[j] += k == (int)GateKind.RX ? l0r * p1i - l0i * p1r + l1r * p0i - l1i * p0r
                                     : k == (int)GateKind.RY ? l1r * p0r + l1i * p0i - l0r * p1r - l0i * p1i
                                     : l0r * p0i - l0i * p0r - l1r * p1i + l1i * p1r;
                        else k = -1 - k;
                        if (k == (int)GateKind.H)
                        {
                            (p0r, p1r) = (h * (p0r + p1r), h * (p0r - p1r)); (p0i, p1i) = (h * (p0i + p1i), h * (p0i - p1i));
                            (l0r, l1r) = (h * (l0r + l1r), h * (l0r - l1r)); (l0i, l1i) = (h * (l0i + l1i), h * (l0i - l1i));
                            continue;
                        }
                        var c = cs[2 * j]; var s = cs[2 * j + 1];
                        if (k == (int)GateKind.RY)
                        {
                            (p0r, p1r) = (c * p0r - s * p1r, s * p0r + c * p1r); (p0i, p1i) = (c * p0i - s * p1i, s * p0i + c * p1i);
                            (l0r, l1r) = (c * l0r - s * l1r, s * l0r + c * l1r); (l0i, l1i) = (c * l0i - s * l1i, s * l0i + c * l1i);
                        }
                        else if (k == (int)GateKind.RZ)
                        {
                            (p0r, p0i) = (c * p0r + s * p0i, c * p0i - s * p0r); (p1r, p1i) = (c * p1r - s * p1i, c * p1i + s * p1r);
                            (l0r, l0i) = (c * l0r + s * l0i, c * l0i - s * l0r); (l1r, l1i) = (c * l1r - s * l1i, c * l1i + s * l1r);
                        }
                        else
                        {
                            (p0r, p0i, p1r, p1i) = (c * p0r + s * p1i, c * p0i - s * p1r, c * p1r + s * p0i, c * p1i - s * p0r);
                            (l0r, l0i, l1r, l1i) = (c * l0r + s * l1i, c * l0i - s * l1r, c * l1r + s * l0i, c * l1i - s * l0r);
                        }
                    }
                    Vector256.Store(p0r, pr + i0); Vector256.Store(p0i, pi + i0);
                    Vector256.Store(p1r, pr + i1); Vector256.Store(p1i, pi + i1);
                    Vector256.Store(l0r, lr + i0); Vector256.Store(l0i, li + i0);
                    Vector256.Store(l1r, lr + i1); Vector256.Store(l1i, li + i1);
                }
            }
        for (int j = 0; j < count; j++) sums[j].CopyTo(acc.AsSpan(j * W, W));
    }

    /// <summary>Whether <see cref="AdjointBlock"/> applies: SIMD hardware and one vector of lanes.</summary>
    public bool BlockAdjointFits => Vector256.IsHardwareAccelerated && Lanes == Vector256<T>.Count;
}
