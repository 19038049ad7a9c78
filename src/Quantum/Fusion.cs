namespace QGenEngine.Quantum;

/// <summary>What a step of a fused program is.</summary>
internal enum FusedKind
{
    /// <summary>Single-qubit gates on one wire (<see cref="FusedOp.Block"/>), applied in order.</summary>
    Block,
    /// <summary>One two-qubit gate on (<see cref="FusedOp.Wire"/>, <see cref="FusedOp.Wire2"/>).</summary>
    Cnot, Cz,
    /// <summary>A run of CNOT/CZ gates composed into one signed permutation of the basis (<see cref="FusedOp.Perm"/>).</summary>
    Permutation,
}

/// <summary>A step of a fused program (<see cref="FusedKind"/>); the fields a kind does not use are -1, empty or null.</summary>
internal readonly record struct FusedOp(FusedKind Kind, int Wire, int Wire2, Gate[] Block, Permutation? Perm = null)
{
    public static FusedOp OneQubit(int wire, Gate[] block) => new(FusedKind.Block, wire, -1, block);

    public static FusedOp TwoQubit(Gate g) => new(g.Kind == GateKind.CNOT ? FusedKind.Cnot : FusedKind.Cz, g.Wire, g.Wire2, []);

    public static FusedOp Permuting(Permutation p) => new(FusedKind.Permutation, -1, -1, [], p);

    /// <summary>The two-qubit gate of a <see cref="FusedKind.Cnot"/> or <see cref="FusedKind.Cz"/> step.</summary>
    public Gate Gate => new(Kind == FusedKind.Cnot ? GateKind.CNOT : GateKind.CZ, Wire, Wire2);
}

/// <summary>
/// A signed permutation of the 2^n basis states as a gather: the new amplitude i is Sign[i] · old[Gather[i]]
/// (Sign null: all +1). CNOT(c, t) gathers from i with bit t flipped where bit c is set; CZ negates where both are set.
/// </summary>
internal sealed class Permutation(int[] gather, sbyte[]? sign)
{
    public int[] Gather { get; } = gather;
    public sbyte[]? Sign { get; } = sign;

    public static Permutation Of(IEnumerable<Gate> gates, int qubits)
    {
        int dim = 1 << qubits;
        var gather = Enumerable.Range(0, dim).ToArray();
        var sign = new sbyte[dim]; Array.Fill(sign, (sbyte)1);
        bool signed = false;
        foreach (var g in gates)
        {
            int cb = 1 << (qubits - 1 - g.Wire), tb = 1 << (qubits - 1 - g.Wire2);
            // After (gather, sign) comes gate (π, σ): new[i] = σ(i)·mid[π(i)] = σ(i)·sign[π(i)]·old[gather[π(i)]].
            var ng = new int[dim]; var ns = new sbyte[dim];
            for (int i = 0; i < dim; i++)
            {
                int pi = g.Kind == GateKind.CNOT && (i & cb) != 0 ? i ^ tb : i;
                int sigma = g.Kind == GateKind.CZ && (i & cb) != 0 && (i & tb) != 0 ? -1 : 1;
                ng[i] = gather[pi]; ns[i] = (sbyte)(sigma * sign[pi]);
            }
            gather = ng; sign = ns;
            signed |= g.Kind == GateKind.CZ;
        }
        return new Permutation(gather, signed ? sign : null);
    }

    private Permutation? _inverse;

    /// <summary>The inverse (for the adjoint sweep), made once: old[j] = Sign[π⁻¹(j)] · new[π⁻¹(j)] (signs are ±1).</summary>
    public Permutation Inverse => _inverse ??= Invert();

    private Permutation Invert()
    {
        var inv = new int[Gather.Length];
        for (int i = 0; i < inv.Length; i++) inv[Gather[i]] = i;
        sbyte[]? sign = Sign is null ? null : inv.Select(i => Sign[i]).ToArray();
        return new Permutation(inv, sign);
    }
}

/// <summary>
/// The fusion pass (qsim): single-qubit gates on the same wire with no two-qubit gate touching that
/// wire in between are merged into one 2×2 block. Single-qubit gates on different wires commute, so
/// a wire's pending block is flushed only when a two-qubit gate touches it (or at the end).
/// </summary>
internal static class Fusion
{
    public static List<FusedOp> Fuse(IReadOnlyList<Gate> gates)
    {
        var ops = new List<FusedOp>();
        var pending = new Dictionary<int, List<Gate>>();
        void Flush(int w)
        {
            if (pending.Remove(w, out var b) && b.Count > 0) ops.Add(FusedOp.OneQubit(w, b.ToArray()));
        }
        foreach (var g in gates)
        {
            if (g.IsTwoQubit)
            {
                Flush(g.Wire); Flush(g.Wire2);
                ops.Add(FusedOp.TwoQubit(g));
            }
            else
            {
                if (!pending.TryGetValue(g.Wire, out var b)) pending[g.Wire] = b = [];
                b.Add(g);
            }
        }
        foreach (var w in pending.Keys.Order().ToList()) Flush(w);
        return ops;
    }

    /// <summary>
    /// The fused program reordered for a batched simulation, and its runs of two-qubit gates composed into permutations:
    /// list scheduling that emits every ready one-qubit block, then every ready two-qubit gate (again and again while
    /// new ones become ready), so that a layer's entangling chain becomes one run - one gather pass over the state instead
    /// of a pass per gate. An op is ready when every earlier op on one of its wires has been emitted, so each wire keeps
    /// its order and only ops on disjoint wires (which commute) change places.
    /// </summary>
    public static List<FusedOp> Schedule(IReadOnlyList<Gate> gates, int qubits)
    {
        var ops = Fuse(gates);
        var done = new bool[ops.Count];
        var last = new int[qubits];   // per wire: how many of its ops are emitted
        var onWire = Enumerable.Range(0, qubits).Select(w => ops.Select((o, i) => (o, i)).Where(x => Wires(x.o).Contains(w)).Select(x => x.i).ToList()).ToArray();
        bool Ready(int i) => Wires(ops[i]).All(w => onWire[w][last[w]] == i);
        int emitted = 0;
        void Emit(int i, List<FusedOp> to) { done[i] = true; emitted++; foreach (var w in Wires(ops[i])) last[w]++; to.Add(ops[i]); }
        var order = new List<FusedOp>();
        var run = new List<FusedOp>();
        void EndRun()
        {
            if (run.Count == 1) order.Add(run[0]);
            else if (run.Count > 1) order.Add(FusedOp.Permuting(Permutation.Of(run.Select(o => o.Gate), qubits)));
            run.Clear();
        }
        while (emitted < ops.Count)
        {
            bool any = false;
            for (int i = 0; i < ops.Count; i++)
                if (!done[i] && ops[i].Kind == FusedKind.Block && Ready(i)) { EndRun(); Emit(i, order); any = true; }
            for (bool more = true; more;)
            {
                more = false;
                for (int i = 0; i < ops.Count; i++)
                    if (!done[i] && ops[i].Kind != FusedKind.Block && Ready(i)) { Emit(i, run); more = any = true; }
            }
            EndRun();
            if (!any) throw new InvalidOperationException("fusion schedule stalled");   // cannot happen: the first unemitted op is always ready
        }
        return order;
    }

    private static int[] Wires(FusedOp o) => o.Kind == FusedKind.Block ? [o.Wire] : [o.Wire, o.Wire2];
}
