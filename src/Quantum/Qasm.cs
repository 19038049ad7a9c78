using System.Globalization;
using System.Text;

namespace QGenEngine.Quantum;

/// <summary>
/// Which OpenQASM 3 a device loads (issue #26), because no one file loads in both: <c>qiskit</c> (`include "stdgates.inc";`,
/// `cx`; read by qiskit.qasm3.loads) and <c>braket</c> (no include, Braket's built-in `cnot`). Each also fixes how a device
/// prints a measured bitstring - the classic trap (<see cref="Bitstrings"/>).
/// </summary>
public enum QasmDialect { Qiskit, Braket }

/// <summary>
/// OpenQASM 3 programs of our circuits, and a reader for the subset we write (tests and `circuit --qasm` use it): one
/// register `qubit[n] q;` whose wire q is our wire q, gates h, rx, ry, rz, cx/cnot, cz with every angle bound as a float
/// literal that round-trips exactly (the shortest text of the float32 the simulator uses), and every qubit measured into
/// `bit[n] c` at the end (`c = measure q;`, so c[i] holds q[i]).
/// </summary>
public static class Qasm
{
    public static QasmDialect ParseDialect(string s) => s.ToLowerInvariant() switch
    {
        "qiskit" => QasmDialect.Qiskit,
        "braket" => QasmDialect.Braket,
        _ => throw new ArgumentException($"unknown dialect '{s}'; expected qiskit or braket"),
    };

    /// <summary>An angle as a float literal that round-trips (the shortest "R" form of the float32) and always reads as a float: 2 → 2.0.</summary>
    public static string Literal(float a)
    {
        string t = a.ToString("R", CultureInfo.InvariantCulture);
        return t.Contains('.') || t.Contains('E') ? t : t + ".0";
    }

    /// <summary>One circuit with one sample's inputs and the weights bound. Amplitude encoding has no gate list and is refused.</summary>
    public static string Write(Circuit c, ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, QasmDialect dialect, string? comment = null)
    {
        if (c.Encoding != Encoding.Angle)
            throw new ArgumentException("an amplitude-encoded circuit starts from a prepared state, not a gate list; only angle-encoded circuits export to OpenQASM");
        if (inputs.Length != c.InputCount) throw new ArgumentException($"{inputs.Length} inputs given; the circuit takes {c.InputCount}");
        if (weights.Length != c.WeightCount) throw new ArgumentException($"{weights.Length} weights given; the circuit takes {c.WeightCount}");
        var sb = new StringBuilder();
        sb.Append("OPENQASM 3.0;\n");
        if (comment is not null)
            foreach (var line in comment.Split('\n')) sb.Append("// ").Append(line).Append('\n');
        if (dialect == QasmDialect.Qiskit) sb.Append("include \"stdgates.inc\";\n");
        sb.Append(CultureInfo.InvariantCulture, $"qubit[{c.Qubits}] q;\nbit[{c.Qubits}] c;\n");
        foreach (var g in c.Gates)
        {
            switch (g.Kind)
            {
                case GateKind.H: sb.Append(CultureInfo.InvariantCulture, $"h q[{g.Wire}];\n"); break;
                case GateKind.CNOT: sb.Append(CultureInfo.InvariantCulture, $"{(dialect == QasmDialect.Qiskit ? "cx" : "cnot")} q[{g.Wire}], q[{g.Wire2}];\n"); break;
                case GateKind.CZ: sb.Append(CultureInfo.InvariantCulture, $"cz q[{g.Wire}], q[{g.Wire2}];\n"); break;
                default:
                    float a = g.Source switch
                    {
                        AngleSource.Input => inputs[g.Index],
                        AngleSource.Weight => weights[g.Index],
                        _ => 0f,
                    };
                    if (!float.IsFinite(a)) throw new ArgumentException($"the angle of {g.Kind} on wire {g.Wire} is {a}, not a finite number");
                    sb.Append(CultureInfo.InvariantCulture, $"{g.Kind.ToString().ToLowerInvariant()}({Literal(a)}) q[{g.Wire}];\n");
                    break;
            }
        }
        sb.Append("c = measure q;\n");
        return sb.ToString();
    }

    /// <summary>A program read back: its circuit, whose every rotation takes its own weight (weight k is the k-th angle written).</summary>
    public sealed record Program(Circuit Circuit, float[] Weights, QasmDialect Dialect, bool MeasuresAll);

    /// <summary>
    /// Reads the subset <see cref="Write"/> produces (either dialect; `//` comments; one statement per line). Anything
    /// else is refused with the line number: this is a reader for our own programs, not a general OpenQASM 3 parser.
    /// </summary>
    public static Program Parse(string text)
    {
        int n = -1; bool include = false, measured = false, sawCx = false, sawCnot = false;
        var gates = new List<Gate>(); var angles = new List<float>();
        var lines = text.Split('\n');
        for (int li = 0; li < lines.Length; li++)
        {
            string s = lines[li];
            int cm = s.IndexOf("//", StringComparison.Ordinal);
            if (cm >= 0) s = s[..cm];
            s = s.Trim();
            if (s.Length == 0) continue;
            string Where() => $"line {li + 1} '{lines[li].Trim()}'";
            if (!s.EndsWith(';')) throw new FormatException($"{Where()}: a statement ends with ';'");
            s = s[..^1].Trim();
            if (s.StartsWith("OPENQASM", StringComparison.Ordinal))
            {
                if (s != "OPENQASM 3.0" && s != "OPENQASM 3") throw new FormatException($"{Where()}: expected OPENQASM 3.0");
                continue;
            }
            if (s == "include \"stdgates.inc\"") { include = true; continue; }
            if (s.StartsWith("qubit[", StringComparison.Ordinal) || s.StartsWith("bit[", StringComparison.Ordinal))
            {
                int close = s.IndexOf(']');
                if (close < 0 || !int.TryParse(s.AsSpan(s.IndexOf('[') + 1, close - s.IndexOf('[') - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size is < 1 or > 30)
                    throw new FormatException($"{Where()}: expected a register of 1 to 30 bits");
                string name = s[(close + 1)..].Trim();
                if (s[0] == 'q')
                {
                    if (name != "q" || n >= 0) throw new FormatException($"{Where()}: expected one register 'qubit[n] q'");
                    n = size;
                }
                else if (name != "c" || size != n) throw new FormatException($"{Where()}: expected 'bit[{n}] c' after the qubits");
                continue;
            }
            if (n < 0) throw new FormatException($"{Where()}: a gate before 'qubit[n] q;'");
            if (s.Replace(" ", "", StringComparison.Ordinal) == "c=measureq") { measured = true; continue; }
            if (measured) throw new FormatException($"{Where()}: a gate after the measurement");
            int sp = s.IndexOfAny([' ', '(']);
            if (sp < 0) throw new FormatException($"{Where()}: expected a gate");
            string gate = s[..sp];
            float angle = 0; string rest = s[sp..].Trim();
            if (rest.StartsWith('('))
            {
                int close = rest.IndexOf(')');
                if (close < 0 || !float.TryParse(rest.AsSpan(1, close - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out angle) || !float.IsFinite(angle))
                    throw new FormatException($"{Where()}: expected a finite angle in parentheses");
                rest = rest[(close + 1)..].Trim();
            }
            var wires = rest.Split(',', StringSplitOptions.TrimEntries).Select(w => Wire(w, n, Where)).ToArray();
            switch (gate)
            {
                case "h" when wires.Length == 1 && !s.Contains('('): gates.Add(new Gate(GateKind.H, wires[0])); break;
                case "rx" or "ry" or "rz" when wires.Length == 1 && s.Contains('('):
                    var kind = gate == "rx" ? GateKind.RX : gate == "ry" ? GateKind.RY : GateKind.RZ;
                    gates.Add(new Gate(kind, wires[0], -1, AngleSource.Weight, angles.Count)); angles.Add(angle); break;
                case "cx" or "cnot" when wires.Length == 2 && wires[0] != wires[1]:
                    sawCx |= gate == "cx"; sawCnot |= gate == "cnot";
                    gates.Add(new Gate(GateKind.CNOT, wires[0], wires[1])); break;
                case "cz" when wires.Length == 2 && wires[0] != wires[1]: gates.Add(new Gate(GateKind.CZ, wires[0], wires[1])); break;
                default: throw new FormatException($"{Where()}: not a gate of the subset (h, rx, ry, rz, cx, cnot, cz on distinct wires of q)");
            }
        }
        if (n < 0) throw new FormatException("no 'qubit[n] q;' declaration");
        if (sawCx && sawCnot) throw new FormatException("both 'cx' (qiskit) and 'cnot' (braket) appear: one program is one dialect");
        var dialect = sawCnot || (!include && !sawCx) ? QasmDialect.Braket : QasmDialect.Qiskit;
        if (sawCx && !include) throw new FormatException("'cx' comes from stdgates.inc, which the program does not include");
        return new Program(new Circuit(n, 0, Entangler.Linear, Encoding.Angle, gates, angles.Count), angles.ToArray(), dialect, measured);
    }

    private static int Wire(string w, int n, Func<string> where)
    {
        if (w.StartsWith("q[", StringComparison.Ordinal) && w.EndsWith(']') &&
            int.TryParse(w.AsSpan(2, w.Length - 3), NumberStyles.None, CultureInfo.InvariantCulture, out int q) && q < n)
            return q;
        throw new FormatException($"{where()}: '{w}' is not a qubit q[0] .. q[{n - 1}]");
    }
}

/// <summary>
/// Measured bitstrings to basis indices, per dialect. Our index has wire 0 as its most significant bit (QUANTUM.md).
/// Qiskit prints a register with its highest bit leftmost, so a key's last character is c[0] = q[0]; Braket prints
/// qubit 0 leftmost. The two orders are each other's reverse: the same key read in the wrong one is another basis state.
/// </summary>
public static class Bitstrings
{
    /// <summary>The basis index of a key; null when it is not n characters of 0 and 1.</summary>
    public static int? Index(string key, int n, QasmDialect dialect)
    {
        if (key.Length != n) return null;
        int index = 0;
        for (int q = 0; q < n; q++)
        {
            char ch = dialect == QasmDialect.Qiskit ? key[n - 1 - q] : key[q];
            if (ch is not ('0' or '1')) return null;
            if (ch == '1') index |= 1 << (n - 1 - q);
        }
        return index;
    }

    /// <summary>The key a device of the dialect prints for basis index i.</summary>
    public static string Key(int index, int n, QasmDialect dialect)
    {
        var chars = new char[n];
        for (int q = 0; q < n; q++)
        {
            char bit = (index & (1 << (n - 1 - q))) != 0 ? '1' : '0';
            chars[dialect == QasmDialect.Qiskit ? n - 1 - q : q] = bit;
        }
        return new string(chars);
    }
}
