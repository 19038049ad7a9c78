namespace QGenEngine.Quantum;

public enum GateKind { H, RX, RY, RZ, CNOT, CZ }

public enum Entangler { Linear, Circular, All }

public enum Encoding { Angle, Amplitude }

/// <summary>Where a rotation's angle comes from: a per-sample input, or a trainable weight shared by the batch.</summary>
public enum AngleSource { None, Input, Weight }

/// <summary>
/// One gate as data: its kind, wires, and (for rotations) the index of its angle among the inputs or
/// the weights. Wire 0 is the most significant bit of a basis index (QUANTUM.md).
/// </summary>
public readonly record struct Gate(GateKind Kind, int Wire, int Wire2 = -1, AngleSource Source = AngleSource.None, int Index = -1)
{
    public bool IsRotation => Kind is GateKind.RX or GateKind.RY or GateKind.RZ;
    public bool IsTwoQubit => Kind is GateKind.CNOT or GateKind.CZ;
}

/// <summary>
/// A compiled circuit: a gate list over <see cref="Qubits"/> wires with <see cref="InputCount"/> per-sample
/// values (angles, or 2^n amplitudes for amplitude encoding) and <see cref="WeightCount"/> trainable angles.
/// </summary>
public sealed class Circuit
{
    public int Qubits { get; }
    public int Layers { get; }
    public Entangler Entangler { get; }
    public Encoding Encoding { get; }
    public IReadOnlyList<Gate> Gates { get; }
    public int InputCount => Encoding == Encoding.Angle ? Qubits : 1 << Qubits;
    public int WeightCount { get; }
    public int Dim => 1 << Qubits;

    /// <summary>Gate layers on the critical path, as hardware runs them: each gate starts when all its wires are free (ASAP schedule).</summary>
    public int Depth
    {
        get
        {
            var free = new int[Qubits];
            foreach (var g in Gates)
            {
                int t = g.IsTwoQubit ? Math.Max(free[g.Wire], free[g.Wire2]) + 1 : free[g.Wire] + 1;
                free[g.Wire] = t;
                if (g.IsTwoQubit) free[g.Wire2] = t;
            }
            return Qubits == 0 ? 0 : free.Max();
        }
    }

    public Circuit(int qubits, int layers, Entangler entangler, Encoding encoding, IReadOnlyList<Gate> gates, int weightCount)
    {
        Qubits = qubits; Layers = layers; Entangler = entangler; Encoding = encoding; Gates = Array.AsReadOnly(gates.ToArray()); WeightCount = weightCount;
        foreach (var g in gates)
        {
            if ((uint)g.Wire >= (uint)qubits || (g.IsTwoQubit && ((uint)g.Wire2 >= (uint)qubits || g.Wire2 == g.Wire)))
                throw new ArgumentException($"gate {g.Kind} on wires ({g.Wire}, {g.Wire2}) does not fit {qubits} qubits");
        }
    }

    private List<FusedOp>? _fused;
    private List<FusedOp>? _scheduled;

    /// <summary>The fused program (<see cref="Fusion.Fuse"/>), worked out once per circuit (its gates are a private, read-only copy, so a cached program stays true).</summary>
    internal List<FusedOp> Fused => _fused ??= Fusion.Fuse(Gates);

    /// <summary>The program for batched simulation (<see cref="Fusion.Schedule"/>), once per circuit.</summary>
    internal List<FusedOp> Scheduled => _scheduled ??= Fusion.Schedule(Gates, Qubits);

    /// <summary>
    /// The report's `attention` / `generator` template (QUANTUM.md): H and RY(x_q) on every qubit (angle
    /// encoding) or an amplitude-encoded initial state, then L layers of RY(θ_lq), RZ(φ_lq) on every
    /// qubit and the entangler. Weight index of (l, q, k) is (l·n + q)·2 + k, k = 0 for θ, 1 for φ.
    /// </summary>
    public static Circuit Template(int qubits, int layers = 3, Entangler entangler = Entangler.Linear, Encoding encoding = Encoding.Angle)
    {
        if (qubits < 1 || qubits > 30) throw new ArgumentOutOfRangeException(nameof(qubits), $"qubits must be in [1, 30], got {qubits}");
        if (layers < 0) throw new ArgumentOutOfRangeException(nameof(layers), $"layers must be ≥ 0, got {layers}");
        var g = new List<Gate>();
        if (encoding == Encoding.Angle)
        {
            for (int q = 0; q < qubits; q++) g.Add(new Gate(GateKind.H, q));
            for (int q = 0; q < qubits; q++) g.Add(new Gate(GateKind.RY, q, -1, AngleSource.Input, q));
        }
        for (int l = 0; l < layers; l++)
        {
            for (int q = 0; q < qubits; q++)
            {
                g.Add(new Gate(GateKind.RY, q, -1, AngleSource.Weight, (l * qubits + q) * 2));
                g.Add(new Gate(GateKind.RZ, q, -1, AngleSource.Weight, (l * qubits + q) * 2 + 1));
            }
            foreach (var (c, t) in EntanglerPairs(qubits, entangler)) g.Add(new Gate(GateKind.CNOT, c, t));
        }
        return new Circuit(qubits, layers, entangler, encoding, g, layers * qubits * 2);
    }

    public static IEnumerable<(int Control, int Target)> EntanglerPairs(int n, Entangler e)
    {
        if (e == Entangler.All)
        {
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) yield return (i, j);
            yield break;
        }
        for (int q = 0; q + 1 < n; q++) yield return (q, q + 1);
        if (e == Entangler.Circular && n > 2) yield return (n - 1, 0);
    }

    public static Entangler ParseEntangler(string s) => s.ToLowerInvariant() switch
    {
        "linear" => Entangler.Linear,
        "circular" => Entangler.Circular,
        "all" => Entangler.All,
        _ => throw new ArgumentException($"unknown entangler '{s}'; expected linear, circular or all"),
    };
}

/// <summary>What a circuit returns per sample: the 2^n probabilities, the n ⟨Z_q⟩, or probabilities estimated from N shots.</summary>
public readonly record struct Readout(ReadoutKind Kind, int Shots = 0)
{
    public static readonly Readout Probs = new(ReadoutKind.Probs);
    public static readonly Readout Expval = new(ReadoutKind.Expval);

    public int Width(int qubits) => Kind == ReadoutKind.Expval ? qubits : 1 << qubits;

    public static Readout Parse(string s)
    {
        var l = s.ToLowerInvariant();
        if (l == "probs") return Probs;
        if (l == "expval") return Expval;
        if (l.StartsWith("shots:", StringComparison.Ordinal) && int.TryParse(l.AsSpan(6), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n > 0)
            return new Readout(ReadoutKind.Shots, n);
        throw new ArgumentException($"unknown readout '{s}'; expected probs, expval or shots:N with N > 0");
    }

    public override string ToString() => Kind == ReadoutKind.Shots ? $"shots:{Shots}" : Kind.ToString().ToLowerInvariant();
}

public enum ReadoutKind { Probs, Expval, Shots }

public enum GradMethod { Adjoint, Shift, Fd }
