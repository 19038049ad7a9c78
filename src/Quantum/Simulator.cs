using System.Numerics;
using System.Runtime.Intrinsics;
using QGenEngine.Kernels.Cpu;

namespace QGenEngine.Quantum;

/// <summary>
/// Batched state-vector simulation on the CPU: B circuits (each with its own inputs, all sharing the
/// weights) in one pass. The batch is cut into lane groups of one SIMD vector (a row of the (2^n × lanes) state is
/// one register) that the threads take as they come. A group runs the circuit's scheduled program (Fusion.Schedule:
/// a 2×2 matrix per wire's block of one-qubit gates, a gather per entangling chain); gradients replay it backwards
/// (adjoint method, Jones &amp; Gacon 2020) from the cotangent, a block per pass with its gates' gradients taken in
/// registers, so one backward sweep gives the whole vector-Jacobian product. A single circuit (one lane) runs the
/// fused gates vectorised along its state instead, and its sweep replays the plain gate list.
/// </summary>
public static class Simulator
{
    /// <summary>
    /// Lanes per group: one SIMD vector (8 floats, 4 doubles), so that a row of the state is one register and a group's
    /// state fits L1 (8 qubits: 16 KB); groups are shared out among the threads as they come. 1 for a single circuit
    /// (its gates then vectorise along the state instead).
    /// </summary>
    private static int LanesFor<T>(int batch) where T : unmanaged, IFloatingPointIeee754<T> =>
        batch == 1 ? 1 : System.Runtime.Intrinsics.Vector256<T>.Count;

    /// <summary>Readout of every sample: (B × width) values.</summary>
    public static float[] Run(Circuit c, ReadOnlySpan<float> inputs, int batch, ReadOnlySpan<float> weights, Readout r, ulong seed = 0)
        => Run<float>(c, inputs, batch, weights, r, seed);

    public static float[] Run<T>(Circuit c, ReadOnlySpan<float> inputs, int batch, ReadOnlySpan<float> weights, Readout r, ulong seed = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(c, inputs, batch, weights);
        var job = new Job<T>(c, In<T>(inputs), batch, In<double>(weights), r, seed, null, LanesFor<T>(batch));
        CpuParallel.For(job.Groups, job, static (j, g) => j.RunGroup(g));
        return Out(job.Output);
    }

    /// <summary>
    /// Double precision throughout, inputs and outputs included: what the double-precision reference device runs, so that
    /// finite differences through a circuit see no single-precision rounding. Returns (readout, weight and input gradients
    /// of ⟨cotangent, readout⟩ if a cotangent is given, else null).
    /// </summary>
    public static (double[] Readout, double[]? WeightGrad, double[]? InputGrad) RunExact(Circuit c, double[] inputs, int batch, double[] weights, Readout r,
                                                                                      double[]? cotangent = null, ulong seed = 0)
    {
        Check(c, Out(inputs), batch, Out(weights));
        if (cotangent is not null && cotangent.Length != batch * r.Width(c.Qubits))
            throw new ArgumentException($"cotangent has {cotangent.Length} values; expected batch × width = {batch} × {r.Width(c.Qubits)}");
        var job = new Job<double>(c, inputs, batch, weights, r, seed, cotangent, LanesFor<double>(batch));
        CpuParallel.For(job.Groups, job, static (j, g) => j.RunGroup(g));
        if (cotangent is null) return (job.Output, null, null);
        var wg = new double[c.WeightCount];
        foreach (var part in job.WeightGradParts!)
            for (int k = 0; k < wg.Length; k++) wg[k] += part[k];
        return (job.Output, wg, job.InputGrad);
    }

    /// <summary>The values in the simulation's precision: one copy (a float run takes float inputs and cotangents as they are).</summary>
    private static T[] In<T>(ReadOnlySpan<float> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return (T[])(object)x.ToArray();
        var d = GC.AllocateUninitializedArray<T>(x.Length);
        for (int i = 0; i < d.Length; i++) d[i] = T.CreateTruncating(x[i]);
        return d;
    }

    /// <summary>The values as float: a float run's array itself, otherwise rounded.</summary>
    private static float[] Out<T>(T[] x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return (float[])(object)x;
        var f = GC.AllocateUninitializedArray<float>(x.Length);
        for (int i = 0; i < f.Length; i++) f[i] = float.CreateTruncating(x[i]);
        return f;
    }

    /// <summary>
    /// Readout and the vector-Jacobian product of ⟨cotangent, readout⟩ with respect to the weights and
    /// the inputs, by the adjoint method. With a shots readout, the gradient is that of the exact
    /// probabilities (the expectation of the estimate).
    /// </summary>
    public static (float[] Readout, float[] WeightGrad, float[] InputGrad) Adjoint(Circuit c, ReadOnlySpan<float> inputs, int batch,
        ReadOnlySpan<float> weights, Readout r, ReadOnlySpan<float> cotangent, ulong seed = 0)
        => Adjoint<float>(c, inputs, batch, weights, r, cotangent, seed);

    public static (float[] Readout, float[] WeightGrad, float[] InputGrad) Adjoint<T>(Circuit c, ReadOnlySpan<float> inputs, int batch,
        ReadOnlySpan<float> weights, Readout r, ReadOnlySpan<float> cotangent, ulong seed = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(c, inputs, batch, weights);
        int width = r.Width(c.Qubits);
        if (cotangent.Length != batch * width)
            throw new ArgumentException($"cotangent has {cotangent.Length} values; expected batch × width = {batch} × {width}");
        var job = new Job<T>(c, In<T>(inputs), batch, In<double>(weights), r, seed, In<T>(cotangent), LanesFor<T>(batch));
        CpuParallel.For(job.Groups, job, static (j, g) => j.RunGroup(g));
        // Sum the groups' weight gradients in a fixed order (deterministic whatever the thread count).
        var wg = new float[c.WeightCount];
        foreach (var part in job.WeightGradParts!)
            for (int k = 0; k < wg.Length; k++) wg[k] += (float)part[k];
        return (Out(job.Output), wg, Out(job.InputGrad!));
    }

    internal static void Check(Circuit c, ReadOnlySpan<float> inputs, int batch, ReadOnlySpan<float> weights)
    {
        if (batch < 1) throw new ArgumentException($"batch must be ≥ 1, got {batch}");
        if (inputs.Length != batch * c.InputCount)
            throw new ArgumentException($"inputs have {inputs.Length} values; expected batch × {c.InputCount} = {batch * c.InputCount}");
        if (weights.Length != c.WeightCount)
            throw new ArgumentException($"weights have {weights.Length} values; the circuit has {c.WeightCount} ({c.Layers} layers × {c.Qubits} qubits × 2)");
        if (c.Encoding == Encoding.Amplitude)
            for (int b = 0; b < batch; b++)
            {
                double s = 0;
                for (int i = 0; i < c.InputCount; i++) s += (double)inputs[b * c.InputCount + i] * inputs[b * c.InputCount + i];
                if (!(s > 0) || double.IsInfinity(s)) throw new ArgumentException($"amplitude input of sample {b} has norm {Math.Sqrt(s)}; it must be finite and non-zero");
            }
    }

    /// <summary>One batch's simulation: inputs, cotangent, readout and input gradients in the simulation's precision T.</summary>
    private sealed class Job<T>(Circuit c, T[] inputs, int batch, double[] weights, Readout r, ulong seed, T[]? cot, int lanes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public readonly int Groups = (batch + lanes - 1) / lanes;
        public readonly T[] Output = GC.AllocateUninitializedArray<T>(batch * r.Width(c.Qubits));   // every value written by its group
        public readonly T[]? InputGrad = cot is null ? null : new T[batch * c.InputCount];
        public readonly double[][]? WeightGradParts = cot is null ? null : Enumerable.Range(0, (batch + lanes - 1) / lanes).Select(_ => new double[c.WeightCount]).ToArray();

        /// <summary>The angle of gate g in each lane of group starting at sample b0.</summary>
        private double Angle(Gate g, int b0, int lane) => g.Source switch
        {
            AngleSource.Input => b0 + lane < batch ? double.CreateTruncating(inputs[(b0 + lane) * c.InputCount + g.Index]) : 0,
            AngleSource.Weight => weights[g.Index],
            _ => 0,
        };

        // Batched: the entangling runs as one permutation pass each; a single circuit keeps the per-gate passes, which
        // vectorise along its state (a gather would not, and would need a second state of its size).
        private readonly List<FusedOp> _ops = lanes > 1 ? c.Scheduled : c.Fused;
        private BlockPlan?[]? _plans;

        /// <summary>
        /// What a one-qubit block needs that no sample changes, worked out once a batch: the constant products between its
        /// input gates (Before[i] precedes input gate At[i], Tail follows the last), and cos/sin of half of each gate's
        /// negated angle (for the sweep; unused for input gates, whose angles differ by lane).
        /// </summary>
        private sealed record BlockPlan(Gates2x2[] Before, Gate[] At, Gates2x2 Tail, double[] NegCos, double[] NegSin);

        private BlockPlan Plan(FusedOp op)
        {
            int count = op.Block.Length, k = 0;
            var before = new Gates2x2[count]; var at = new Gate[count];
            var negCos = new double[count]; var negSin = new double[count];
            var cur = Gates2x2.Identity;
            for (int j = 0; j < count; j++)
            {
                var g = op.Block[j];
                if (g.Source == AngleSource.Input) { before[k] = cur; at[k++] = g; cur = Gates2x2.Identity; continue; }
                double a = Angle(g, 0, 0);
                cur = Gates2x2.Of(g.Kind, a) * cur;
                (negSin[j], negCos[j]) = Math.SinCos(-a / 2);
            }
            return new BlockPlan(before[..k], at[..k], cur, negCos, negSin);
        }

        /// <summary>The plans of the fused program's blocks (null for two-qubit gates), made by whichever group needs them first.</summary>
        private BlockPlan?[] Plans => LazyInitializer.EnsureInitialized(ref _plans, () => _ops.Select(o => o.Kind == FusedKind.Block ? Plan(o) : null).ToArray());

        public void RunGroup(int group)
        {
            int b0 = group * lanes, n = c.Qubits, dim = c.Dim;
            var psi = StateBatch<T>.Scratch(n, lanes, 0);   // this thread's: groups run on different threads
            var mat = new T[8 * lanes];
            var half = HalfInputAngles(b0);
            Prepare(psi, b0);
            var plans = Plans;
            for (int oi = 0; oi < _ops.Count; oi++) ApplyOp(psi, _ops[oi], plans[oi], b0, inverse: false, mat, half);

            // Readout: p_i = |ψ_i|²; expval ⟨Z_q⟩ = Σ_i p_i (1 − 2·bit_q(i)); shots sample from p.
            int width = r.Width(n), valid = Math.Min(lanes, batch - b0);
            if (r.Kind == ReadoutKind.Probs && Transposable(valid))
                unsafe
                {
                    // Eight rows of |ψ|² at a time, transposed in registers into eight samples' runs of the output.
                    float* block = stackalloc float[64];
                    fixed (T* pr = psi.Re, pi = psi.Im, po = Output)
                        for (int i0 = 0; i0 < dim; i0 += 8)
                        {
                            for (int k = 0; k < 8; k++)
                            {
                                var re = Vector256.Load((float*)pr + (i0 + k) * 8); var im = Vector256.Load((float*)pi + (i0 + k) * 8);
                                Vector256.Store(re * re + im * im, block + k * 8);
                            }
                            QGenEngine.Kernels.Cpu.Sgemm.Transpose8x8(block, 8, (float*)po + (long)b0 * width + i0, width);
                        }
                }
            else if (r.Kind == ReadoutKind.Probs)
                for (int i = 0; i < dim; i++)   // straight from the (amplitude × lane) layout, a row at a time
                    for (int lane = 0; lane < valid; lane++)
                    {
                        T re = psi.Re[i * lanes + lane], im = psi.Im[i * lanes + lane];
                        Output[(b0 + lane) * width + i] = re * re + im * im;
                    }
            else
            {
                var p = new double[dim];
                var o = new double[width];
                for (int lane = 0; lane < valid; lane++)
                {
                    for (int i = 0; i < dim; i++) { double re = double.CreateTruncating(psi.Re[i * lanes + lane]), im = double.CreateTruncating(psi.Im[i * lanes + lane]); p[i] = re * re + im * im; }
                    Readouts.FromProbabilities(p, n, r, seed, (ulong)(b0 + lane), o);
                    for (int k = 0; k < width; k++) Output[(b0 + lane) * width + k] = T.CreateTruncating(o[k]);
                }
            }
            if (cot is null) return;
            // λ = G ψ with G diagonal: g_i for probs (and shots), Σ_q g_q z_q(i) for expval; zero in padding lanes.
            var lam = StateBatch<T>.Scratch(n, lanes, 1);
            var d = lam.Re;   // the diagonal first, then λ = d ψ in place
            if (r.Kind != ReadoutKind.Expval && Transposable(valid))
                unsafe
                {
                    // Eight samples' runs of the cotangent at a time, transposed into eight rows of the lane layout.
                    fixed (T* pc = cot, pd = d)
                        for (int i0 = 0; i0 < dim; i0 += 8)
                            QGenEngine.Kernels.Cpu.Sgemm.Transpose8x8((float*)pc + (long)b0 * width + i0, width, (float*)pd + i0 * 8, 8);
                }
            else
            for (int lane = 0; lane < valid; lane++)
            {
                var g = cot.AsSpan((b0 + lane) * width, width);
                if (r.Kind == ReadoutKind.Expval)
                    for (int i = 0; i < dim; i++)
                    {
                        double e = 0;
                        for (int q = 0; q < n; q++) e += ((i & psi.Bit(q)) == 0 ? 1 : -1) * double.CreateTruncating(g[q]);
                        d[i * lanes + lane] = T.CreateTruncating(e);
                    }
                else
                    for (int i = 0; i < dim; i++) d[i * lanes + lane] = g[i];
            }
            System.Numerics.Tensors.TensorPrimitives.Multiply<T>(d, psi.Im, lam.Im);
            System.Numerics.Tensors.TensorPrimitives.Multiply<T>(d, psi.Re, lam.Re);

            var wgrad = WeightGradParts![group];
            if (psi.BlockAdjointFits)
            {
                // The scheduled program backwards, a block of one-qubit gates per pass (gates that commute were reordered by
                // the fusion and the schedule, which leaves each gate's Im⟨λ|P|φ⟩ unchanged); a chain's gather is undone
                // by its inverse, a lone two-qubit gate is its own inverse.
                int most = _ops.Max(o => o.Block.Length);
                var coef = new T[2 * most * lanes];
                var acc = new T[most * lanes];
                var kinds = new GateKind[most];
                var grads = new bool[most];
                for (int oi = _ops.Count - 1; oi >= 0; oi--)
                {
                    var op = _ops[oi];
                    if (op is { Kind: FusedKind.Permutation, Perm: { } perm })
                    {
                        var spare = StateBatch<T>.Scratch(n, lanes, 2, clear: false);
                        psi.Permute(perm.Inverse, spare); lam.Permute(perm.Inverse, spare);
                        continue;
                    }
                    if (op.Kind is FusedKind.Cnot or FusedKind.Cz)
                    {
                        if (op.Kind == FusedKind.Cnot) { psi.Cnot(op.Wire, op.Wire2); lam.Cnot(op.Wire, op.Wire2); }
                        else { psi.Cz(op.Wire, op.Wire2); lam.Cz(op.Wire, op.Wire2); }
                        continue;
                    }
                    int count = op.Block.Length;
                    for (int j = 0; j < count; j++)
                    {
                        var g = op.Block[count - 1 - j];   // reverse order
                        kinds[j] = g.Kind; grads[j] = g.Source != AngleSource.None;
                        if (g.Kind != GateKind.H) FillRotation(g, plans[oi]!, count - 1 - j, coef, j, half);
                    }
                    Array.Clear(acc, 0, count * lanes);
                    StateBatch<T>.AdjointBlock(lam, psi, op.Wire, kinds.AsSpan(0, count), grads.AsSpan(0, count), coef, acc);
                    for (int j = 0; j < count; j++)
                        if (grads[j]) AddGradient(op.Block[count - 1 - j], acc.AsSpan(j * lanes, lanes), b0, wgrad);
                }
            }
            else
            {
                var acc = new T[lanes];
                for (int gi = c.Gates.Count - 1; gi >= 0; gi--)
                {
                    var g = c.Gates[gi];
                    if (g.Source != AngleSource.None)
                    {
                        Array.Clear(acc);
                        StateBatch<T>.PauliExpectationIm(lam, psi, g.Wire, g.Kind, acc);
                        AddGradient(g, acc, b0, wgrad);
                    }
                    Unapply(psi, lam, g, b0, mat, half);
                }
            }
            if (c.Encoding == Encoding.Amplitude) AmplitudeInputGrad(psi, lam, b0);
        }

        /// <summary>
        /// cos and sin of half of every input angle of the group, per lane ([input · lanes + lane]; 1 and 0 in padding lanes):
        /// computed once a group, for the forward's block matrices and the sweep's rotations alike.
        /// </summary>
        private (double[] Cos, double[] Sin) HalfInputAngles(int b0)
        {
            if (!_inputGates) return ([], []);
            var cs = new double[c.InputCount * lanes]; var sn = new double[c.InputCount * lanes];
            for (int k = 0; k < c.InputCount; k++)
                for (int lane = 0; lane < lanes; lane++)
                    (sn[k * lanes + lane], cs[k * lanes + lane]) = b0 + lane < batch ? Math.SinCos(double.CreateTruncating(inputs[(b0 + lane) * c.InputCount + k]) / 2) : (0, 1);
            return (cs, sn);
        }

        /// <summary>Whether the readout and cotangent can move as 8 × 8 float blocks: float lanes of 8, all of them samples, 8 or more amplitudes, AVX.</summary>
        private bool Transposable(int valid) =>
            typeof(T) == typeof(float) && lanes == 8 && valid == 8 && c.Dim >= 8 && System.Runtime.Intrinsics.X86.Avx.IsSupported;

        private readonly bool _inputGates = c.Gates.Any(g => g.Source == AngleSource.Input);

        /// <summary>Gate g's matrix in one lane, input angles from the group's table.</summary>
        private Gates2x2 Matrix(Gate g, int b0, int lane, (double[] Cos, double[] Sin) half) => g.Source == AngleSource.Input
            ? Gates2x2.Of(g.Kind, half.Cos[g.Index * lanes + lane], half.Sin[g.Index * lanes + lane])
            : Gates2x2.Of(g.Kind, Angle(g, b0, lane));

        /// <summary>Rows 2j and 2j + 1 of coef: cos and sin of half the negated angle of rotation g (gate i of its block), per lane.</summary>
        private void FillRotation(Gate g, BlockPlan plan, int i, T[] coef, int j, (double[] Cos, double[] Sin) half)
        {
            var cs = coef.AsSpan(2 * j * lanes, lanes); var sn = coef.AsSpan((2 * j + 1) * lanes, lanes);
            if (g.Source != AngleSource.Input)
            {
                cs.Fill(T.CreateTruncating(plan.NegCos[i])); sn.Fill(T.CreateTruncating(plan.NegSin[i]));
                return;
            }
            for (int lane = 0; lane < lanes; lane++)
            {
                cs[lane] = T.CreateTruncating(half.Cos[g.Index * lanes + lane]);
                sn[lane] = T.CreateTruncating(-half.Sin[g.Index * lanes + lane]);   // sin(−a/2)
            }
        }

        private void AddGradient(Gate g, ReadOnlySpan<T> acc, int b0, double[] wgrad)
        {
            if (g.Source == AngleSource.Weight)
                for (int lane = 0; lane < lanes; lane++) wgrad[g.Index] += double.CreateTruncating(acc[lane]);
            else
                for (int lane = 0; lane < lanes && b0 + lane < batch; lane++) InputGrad![(b0 + lane) * c.InputCount + g.Index] += acc[lane];
        }

        private void Prepare(StateBatch<T> s, int b0)
        {
            if (c.Encoding == Encoding.Angle)
            {
                for (int lane = 0; lane < lanes; lane++) s.Re[lane] = T.One;     // |0…0⟩
                return;
            }
            for (int lane = 0; lane < lanes; lane++)
            {
                int b = Math.Min(b0 + lane, batch - 1);   // padding lanes copy a real sample (their cotangent is zero)
                double norm = Norm(b);
                for (int i = 0; i < c.Dim; i++) s.Re[i * lanes + lane] = T.CreateTruncating(double.CreateTruncating(inputs[b * c.Dim + i]) / norm);
            }
        }

        /// <summary>Through the normalisation ψ0 = a/|a|: ∂L/∂a = (v − ψ0(ψ0·v))/|a| with v = 2·Re λ0.</summary>
        private void AmplitudeInputGrad(StateBatch<T> psi0, StateBatch<T> lam0, int b0)
        {
            for (int lane = 0; lane < lanes && b0 + lane < batch; lane++)
            {
                int b = b0 + lane;
                double norm = Norm(b), dot = 0;
                for (int i = 0; i < c.Dim; i++) dot += double.CreateTruncating(psi0.Re[i * lanes + lane]) * 2 * double.CreateTruncating(lam0.Re[i * lanes + lane]);
                for (int i = 0; i < c.Dim; i++)
                {
                    double v = 2 * double.CreateTruncating(lam0.Re[i * lanes + lane]);
                    InputGrad![b * c.Dim + i] = T.CreateTruncating((v - double.CreateTruncating(psi0.Re[i * lanes + lane]) * dot) / norm);
                }
            }
        }

        /// <summary>|a| of sample b's amplitude input, in double.</summary>
        private double Norm(int b)
        {
            double s = 0;
            for (int i = 0; i < c.Dim; i++) { double v = double.CreateTruncating(inputs[b * c.Dim + i]); s += v * v; }
            return Math.Sqrt(s);
        }

        private void ApplyOp(StateBatch<T> s, FusedOp op, BlockPlan? plan, int b0, bool inverse, T[] mat, (double[] Cos, double[] Sin) half)
        {
            if (op.Kind == FusedKind.Permutation) { s.Permute(op.Perm!, StateBatch<T>.Scratch(s.Qubits, s.Lanes, 2, clear: false)); return; }
            if (op.Kind == FusedKind.Cnot) { s.Cnot(op.Wire, op.Wire2); return; }
            if (op.Kind == FusedKind.Cz) { s.Cz(op.Wire, op.Wire2); return; }
            FillMatrix(plan!, b0, inverse, mat, half);
            s.Apply1(op.Wire, mat);
        }

        /// <summary>The block's product matrix per lane (its adjoint when inverse): one 2×2 product per input gate a lane, the rest from the plan.</summary>
        private void FillMatrix(BlockPlan plan, int b0, bool inverse, T[] mat, (double[] Cos, double[] Sin) half)
        {
            int k = plan.At.Length;
            for (int lane = 0; lane < (k > 0 ? lanes : 1); lane++)
            {
                var m = Gates2x2.Identity;
                for (int i = 0; i < k; i++) m = Matrix(plan.At[i], b0, lane, half) * (plan.Before[i] * m);
                m = plan.Tail * m;
                if (inverse) m = m.Adjoint();
                if (k > 0) m.Store(mat, lane, lanes);
                else for (int l = 0; l < lanes; l++) m.Store(mat, l, lanes);
            }
        }

        /// <summary>Un-applies one gate from both the state and the adjoint state (one matrix for both).</summary>
        private void Unapply(StateBatch<T> psi, StateBatch<T> lam, Gate g, int b0, T[] mat, (double[] Cos, double[] Sin) half)
        {
            if (g.IsTwoQubit)
            {
                if (g.Kind == GateKind.CNOT) { psi.Cnot(g.Wire, g.Wire2); lam.Cnot(g.Wire, g.Wire2); }
                else { psi.Cz(g.Wire, g.Wire2); lam.Cz(g.Wire, g.Wire2); }
                return;
            }
            FillMatrix(Plan(FusedOp.OneQubit(g.Wire, [g])), b0, inverse: true, mat, half);
            psi.Apply1(g.Wire, mat);
            lam.Apply1(g.Wire, mat);
        }
    }
}
