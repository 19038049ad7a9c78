using System.Globalization;
using System.Text.Json.Nodes;

namespace QGenEngine.Quantum;

/// <summary>One qubit's calibration: T1 and T2 in seconds (∞: none), readout p(0|1) (prepared 1, read 0) and p(1|0).</summary>
public sealed record QubitCalibration(double T1, double T2, double P0Given1, double P1Given0);

/// <summary>One gate's calibration: its duration in seconds and its error (1 − average gate fidelity, as randomised benchmarking reports it).</summary>
public sealed record GateCalibration(double Duration, double Error);

/// <summary>
/// A device's calibration turned into the density matrix's channels (issue #26; Qiskit Aer's device noise model): after
/// each gate, a depolarising channel sized so that, composed with the thermal relaxation that follows, the gate's average
/// infidelity is the calibrated error, then thermal relaxation of each of its qubits for the gate's duration (amplitude
/// damping γ = 1 − e^(−t/T1), coherences × e^(−t/T2), i.e. pure dephasing at 1/T_φ = 1/T2 − 1/(2 T1)); at measurement, each
/// qubit's readout confusion. Wire q of a circuit is the device's qubit q. The JSON forms are in docs/noise-model.md:
/// ours, and IBM's backend properties (qubits: T1, T2, readout_error, prob_meas0_prep1, prob_meas1_prep0; gates:
/// gate_error, gate_length).
/// </summary>
public sealed class DeviceNoise
{
    public string Name { get; }
    public IReadOnlyList<QubitCalibration> Qubits { get; }
    private readonly Dictionary<string, GateCalibration> _general;
    private readonly Dictionary<(string Gate, int A, int B), GateCalibration> _specific;

    /// <param name="gates">per gate name (h, rx, ry, rz, sx, x, cx, cnot, ecr, cz): its calibration on every qubit (key qubits null) or on the listed qubits</param>
    public DeviceNoise(string name, IReadOnlyList<QubitCalibration> qubits, IEnumerable<(string Gate, int[]? On, GateCalibration Calibration)> gates)
    {
        Name = name; Qubits = qubits.ToArray();
        _general = []; _specific = [];
        for (int q = 0; q < Qubits.Count; q++)
        {
            var c = Qubits[q];
            if (!(c.T1 > 0) || !(c.T2 > 0)) throw new ArgumentException($"qubit {q}: T1 {c.T1} s and T2 {c.T2} s must be > 0");
            if (c.T2 > 2 * c.T1 * (1 + 1e-12)) throw new ArgumentException($"qubit {q}: T2 = {Us(c.T2)} µs exceeds 2·T1 = {Us(2 * c.T1)} µs, which no physical qubit allows (T2 ≤ 2 T1)");
            if (c.P0Given1 is < 0 or > 1 || c.P1Given0 is < 0 or > 1 || double.IsNaN(c.P0Given1) || double.IsNaN(c.P1Given0))
                throw new ArgumentException($"qubit {q}: readout errors p(0|1) = {c.P0Given1}, p(1|0) = {c.P1Given0} must be probabilities in [0, 1]");
        }
        foreach (var (gate, on, cal) in gates)
        {
            string g = gate.ToLowerInvariant();
            if (!(cal.Duration >= 0) || double.IsInfinity(cal.Duration)) throw new ArgumentException($"gate {g}: duration {cal.Duration} s must be a number ≥ 0");
            int k = TwoQubitNames.Contains(g) ? 2 : OneQubitNames.Contains(g) ? 1 : 0;
            if (k == 0) continue;   // gates our circuits never use (measure, reset, id, ...)
            double max = (1 << k) / ((1 << k) + 1.0);
            if (!(cal.Error >= 0) || cal.Error > max) throw new ArgumentException($"gate {g}: error {cal.Error} is outside [0, {max:0.###}] (a {k}-qubit gate's largest average infidelity)");
            if (on is null) { _general[g] = cal; continue; }
            if (on.Length != k) throw new ArgumentException($"gate {g}: acts on {k} qubit(s), listed on [{string.Join(", ", on)}]");
            foreach (int q in on)
                if ((uint)q >= (uint)Qubits.Count) throw new ArgumentException($"gate {g} on qubit {q}: the device has qubits 0 .. {Qubits.Count - 1}");
            _specific[(g, on[0], k == 2 ? on[1] : -1)] = cal;
        }
    }

    private static readonly HashSet<string> OneQubitNames = ["h", "rx", "ry", "rz", "sx", "x"];
    private static readonly HashSet<string> TwoQubitNames = ["cx", "cnot", "ecr", "cz"];
    private static string Us(double s) => (s * 1e6).ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>
    /// A gate's calibration on its wires: its own name's, else what a device compiles it to - h as one sx pulse, rx and ry
    /// as two (error 1 − (1 − e)², twice the duration), rz virtual (no error, no time), cx as cnot or ecr, cz as cx.
    /// Qubit-specific entries win over general ones, for a two-qubit gate in either direction.
    /// </summary>
    public GateCalibration For(GateKind kind, int wire, int wire2 = -1)
    {
        string[] names = kind switch
        {
            GateKind.H => ["h", "sx"], GateKind.RX => ["rx", "sx2"], GateKind.RY => ["ry", "sx2"], GateKind.RZ => ["rz"],
            GateKind.CNOT => ["cx", "cnot", "ecr"], _ => ["cz", "cx", "cnot", "ecr"],
        };
        foreach (var name in names)
        {
            bool twice = name == "sx2";
            string n = twice ? "sx" : name;
            if (Find(n, wire, wire2) is { } c)
                return twice ? new GateCalibration(2 * c.Duration, 1 - (1 - c.Error) * (1 - c.Error)) : c;
        }
        if (kind == GateKind.RZ) return new GateCalibration(0, 0);
        string on = wire2 < 0 ? $"qubit {wire}" : $"qubits ({wire}, {wire2})";
        throw new ArgumentException($"noise model '{Name}' has no calibration for {kind.ToString().ToLowerInvariant()} on {on} (looked for {string.Join(", ", names.Select(x => x == "sx2" ? "sx" : x))})");
    }

    private GateCalibration? Find(string name, int a, int b) =>
        _specific.TryGetValue((name, a, b), out var c) ? c
        : b >= 0 && _specific.TryGetValue((name, b, a), out c) ? c
        : _general.TryGetValue(name, out c) ? c : null;

    /// <summary>Refuses a circuit wider than the device.</summary>
    public void Check(Circuit c)
    {
        if (c.Qubits > Qubits.Count)
            throw new ArgumentException($"noise model '{Name}' calibrates {Qubits.Count} qubits; the circuit has {c.Qubits} (wire q runs on the device's qubit q)");
        foreach (var g in c.Gates) For(g.Kind, g.Wire, g.Wire2);
    }

    /// <summary>Thermal relaxation of qubit q for t seconds, as the pair channel (no excited-state population).</summary>
    internal PairChannel Relaxation(int q, double t)
    {
        if (t == 0) return PairChannel.Identity;
        var c = Qubits[q];
        double gamma = double.IsPositiveInfinity(c.T1) ? 0 : 1 - Math.Exp(-t / c.T1);
        double f = double.IsPositiveInfinity(c.T2) ? 1 : Math.Exp(-t / c.T2);
        return new PairChannel(1, gamma, 0, 1 - gamma, f);
    }

    /// <summary>
    /// The depolarising parameter λ of ρ → (1 − λ) ρ + λ tr(ρ) I/d that, composed with the relaxation (process fidelity
    /// <paramref name="relaxProcessFidelity"/>), gives the calibrated average infidelity e: with F_r the relaxation's average
    /// gate fidelity, λ = d (e − (1 − F_r)) / (d F_r − 1), 0 when relaxation alone already accounts for e, at most 4^k/(4^k − 1).
    /// </summary>
    internal static double DepolarizingParameter(double error, double relaxProcessFidelity, int k)
    {
        int d = 1 << k;
        double fr = (d * relaxProcessFidelity + 1) / (d + 1);
        if (error <= 1 - fr) return 0;
        double lambda = d * (error - (1 - fr)) / (d * fr - 1);
        double max = (double)(d * d) / (d * d - 1);
        return Math.Min(lambda, max);
    }

    /// <summary>What happens after each gate of the circuit: the channel on each of its wires, and for a two-qubit gate the two-qubit depolarising λ first.</summary>
    internal GateNoise[] Compile(Circuit c)
    {
        Check(c);
        var r = new GateNoise[c.Gates.Count];
        for (int i = 0; i < r.Length; i++)
        {
            var g = c.Gates[i];
            var cal = For(g.Kind, g.Wire, g.Wire2);
            var ra = Relaxation(g.Wire, cal.Duration);
            if (!g.IsTwoQubit)
            {
                double lambda = DepolarizingParameter(cal.Error, ra.ProcessFidelity, 1);
                r[i] = new GateNoise(ra.After(PairChannel.Depolarizing(lambda)), PairChannel.Identity, 0);
            }
            else
            {
                var rb = Relaxation(g.Wire2, cal.Duration);
                double lambda = DepolarizingParameter(cal.Error, ra.ProcessFidelity * rb.ProcessFidelity, 2);
                r[i] = new GateNoise(ra, rb, lambda);
            }
        }
        return r;
    }

    /// <summary>Per wire of the circuit: (p(1|0), p(0|1)).</summary>
    internal (double P1Given0, double P0Given1)[] Readout(int qubits) =>
        Enumerable.Range(0, qubits).Select(q => (Qubits[q].P1Given0, Qubits[q].P0Given1)).ToArray();

    // ---- JSON ----

    /// <summary>Reads ours or IBM's backend properties form (told apart by the shape of "qubits"); errors name the file.</summary>
    public static DeviceNoise Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new IOException($"{path}: cannot read ({e.Message})"); }
        var root = QGenEngine.Autograd.JsonText.Parse(text, path, maxDepth: 16);
        try
        {
            if (root is not JsonObject o || o["qubits"] is not JsonArray qs || qs.Count == 0)
                throw new FormatException("expected an object with a non-empty list \"qubits\" (docs/noise-model.md)");
            string name = (o["name"] ?? o["backend_name"]) is JsonValue nv && nv.TryGetValue(out string? s) ? s : Path.GetFileNameWithoutExtension(path);
            return qs[0] is JsonArray ? FromIbm(o, qs, name) : FromOurs(o, qs, name);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new FormatException($"{path}: {e.Message}");
        }
    }

    private static DeviceNoise FromOurs(JsonObject o, JsonArray qs, string name)
    {
        var qubits = new List<QubitCalibration>();
        for (int q = 0; q < qs.Count; q++)
        {
            if (qs[q] is not JsonObject qo) throw new FormatException($"qubits[{q}] should be an object (t1_us, t2_us, p0_given_1, p1_given_0 or readout_error)");
            // Omitted: T1 = ∞ (no decay); T2 = 2 T1 (no dephasing beyond what T1 causes).
            double t1 = Num(qo, "t1_us", $"qubits[{q}]", double.PositiveInfinity) * 1e-6, t2 = Num(qo, "t2_us", $"qubits[{q}]", double.NaN) * 1e-6;
            if (double.IsNaN(t2)) t2 = 2 * t1;
            double sym = Num(qo, "readout_error", $"qubits[{q}]", 0);
            qubits.Add(new QubitCalibration(t1, t2, Num(qo, "p0_given_1", $"qubits[{q}]", sym), Num(qo, "p1_given_0", $"qubits[{q}]", sym)));
        }
        var gates = new List<(string, int[]?, GateCalibration)>();
        if (o["gates"] is { } gn)
        {
            if (gn is not JsonArray ga) throw new FormatException("\"gates\" should be a list of {gate, qubits?, duration_ns, error}");
            for (int i = 0; i < ga.Count; i++)
            {
                if (ga[i] is not JsonObject go || go["gate"] is not JsonValue gv || !gv.TryGetValue(out string? g))
                    throw new FormatException($"gates[{i}] should be an object with a \"gate\" name");
                int[]? on = go["qubits"] is JsonArray qa ? qa.Select((x, j) => Int(x, $"gates[{i}].qubits[{j}]")).ToArray() : null;
                gates.Add((g, on, new GateCalibration(Num(go, "duration_ns", $"gates[{i}]", 0) * 1e-9, Num(go, "error", $"gates[{i}]", 0))));
            }
        }
        return new DeviceNoise(name, qubits, gates);
    }

    private static DeviceNoise FromIbm(JsonObject o, JsonArray qs, string name)
    {
        var qubits = new List<QubitCalibration>();
        for (int q = 0; q < qs.Count; q++)
        {
            if (qs[q] is not JsonArray props) throw new FormatException($"qubits[{q}] should be a list of {{name, value, unit}}");
            var p = Properties(props, $"qubits[{q}]");
            double t1 = p.TryGetValue("t1", out var a) ? a : throw new FormatException($"qubits[{q}] has no T1");
            double t2 = p.TryGetValue("t2", out var b) ? b : throw new FormatException($"qubits[{q}] has no T2");
            double sym = p.GetValueOrDefault("readout_error", 0);
            qubits.Add(new QubitCalibration(t1, t2, p.GetValueOrDefault("prob_meas0_prep1", sym), p.GetValueOrDefault("prob_meas1_prep0", sym)));
        }
        var gates = new List<(string, int[]?, GateCalibration)>();
        if (o["gates"] is JsonArray ga)
            for (int i = 0; i < ga.Count; i++)
            {
                if (ga[i] is not JsonObject go || go["gate"] is not JsonValue gv || !gv.TryGetValue(out string? g) || go["qubits"] is not JsonArray qa)
                    throw new FormatException($"gates[{i}] should be an object with \"gate\", \"qubits\" and \"parameters\"");
                var p = go["parameters"] is JsonArray pa ? Properties(pa, $"gates[{i}].parameters") : [];
                var on = qa.Select((x, j) => Int(x, $"gates[{i}].qubits[{j}]")).ToArray();
                if (on.Length is < 1 or > 2) continue;
                gates.Add((g, on, new GateCalibration(p.GetValueOrDefault("gate_length", 0), p.GetValueOrDefault("gate_error", 0))));
            }
        return new DeviceNoise(name, qubits, gates);
    }

    /// <summary>IBM's [{name, value, unit}] list as name (lower case) → value in SI units (times in seconds).</summary>
    private static Dictionary<string, double> Properties(JsonArray props, string where)
    {
        var r = new Dictionary<string, double>();
        for (int i = 0; i < props.Count; i++)
        {
            if (props[i] is not JsonObject po || po["name"] is not JsonValue nv || !nv.TryGetValue(out string? n)) continue;
            double v = po["value"] is JsonValue vv && vv.TryGetValue(out double d) && double.IsFinite(d) ? d
                : throw new FormatException($"{where}[{i}] ({n}): value is {po["value"]?.ToJsonString() ?? "missing"}, expected a number");
            string unit = po["unit"] is JsonValue uv && uv.TryGetValue(out string? u) ? u : "";
            double scale = unit switch
            {
                "" => 1, "s" => 1, "ms" => 1e-3, "us" or "µs" => 1e-6, "ns" => 1e-9,
                "GHz" or "MHz" or "kHz" or "Hz" => 1,   // frequencies: not used
                _ => throw new FormatException($"{where}[{i}] ({n}): unknown unit '{unit}'"),
            };
            r[n.ToLowerInvariant()] = v * scale;
        }
        return r;
    }

    private static double Num(JsonObject o, string key, string where, double missing)
    {
        var v = o[key];
        if (v is null) return missing;
        if (v is JsonValue jv && jv.TryGetValue(out double d) && !double.IsNaN(d)) return d;
        throw new FormatException($"{where}.{key} is {v.ToJsonString()}, expected a number");
    }

    private static int Int(JsonNode? v, string where) =>
        v is JsonValue jv && jv.TryGetValue(out int i) && i >= 0 ? i : throw new FormatException($"{where} is {v?.ToJsonString() ?? "null"}, expected a qubit index ≥ 0");
}

/// <summary>After one gate: the channel on its (first) wire, on its second wire (two-qubit gates), and the two-qubit depolarising λ applied before them.</summary>
internal readonly record struct GateNoise(PairChannel A, PairChannel B, double Depolarizing2);
