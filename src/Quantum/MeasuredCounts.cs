using System.Text.Json.Nodes;

namespace QGenEngine.Quantum;

/// <summary>
/// Counts measured on a device (issue #26): a JSON list with one object per circuit (per latent row), bitstring → count,
/// as the device returned it, read in the dialect's bit order (<see cref="Bitstrings"/>) into each circuit's estimated
/// basis probabilities count/shots - what the `shots:N` readout computes from the simulator's own draws.
/// </summary>
public static class MeasuredCounts
{
    /// <summary>(rows × 2^n) probabilities; every error names the file, the row and the value.</summary>
    public static float[] ReadProbabilities(string path, int rows, int qubits, QasmDialect dialect)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new IOException($"{path}: cannot read ({e.Message})"); }
        var root = QGenEngine.Autograd.JsonText.Parse(text, path, maxDepth: 8);
        return Probabilities(root, path, rows, qubits, dialect);
    }

    public static float[] Probabilities(JsonNode? root, string path, int rows, int qubits, QasmDialect dialect)
    {
        if (root is not JsonArray list)
            throw new FormatException($"{path}: expected a JSON list with one object of bitstring → count per circuit, got {Kind(root)}");
        if (list.Count != rows)
            throw new FormatException($"{path}: {list.Count} count objects for {rows} circuits (one per latent row, in order)");
        int dim = 1 << qubits;
        var p = new float[(long)rows * dim];
        var counts = new double[dim];
        for (int r = 0; r < rows; r++)
        {
            if (list[r] is not JsonObject obj)
                throw new FormatException($"{path}: row {r} is {Kind(list[r])}; expected an object of bitstring → count");
            Array.Clear(counts);
            double total = 0;
            foreach (var (key, value) in obj)
            {
                if (Bitstrings.Index(key, qubits, dialect) is not { } i)
                    throw new FormatException($"{path}: row {r}: bitstring '{Trim(key)}' is not {qubits} characters of 0 and 1 ({qubits} qubits measured)");
                if (value is not JsonValue v || !v.TryGetValue(out double c) || !double.IsFinite(c) || c < 0 || c != Math.Floor(c))
                    throw new FormatException($"{path}: row {r}: count of '{key}' is {Trim(value?.ToJsonString() ?? "null")}; expected a whole number ≥ 0");
                counts[i] += c; total += c;
            }
            if (total <= 0) throw new FormatException($"{path}: row {r} holds no shots (its counts sum to 0)");
            for (int i = 0; i < dim; i++) p[(long)r * dim + i] = (float)(counts[i] / total);
        }
        return p;
    }

    /// <summary>The counts as a device of the dialect would print them (tests, and `qasm` examples): one object per row, zero counts left out.</summary>
    public static JsonArray Write(ReadOnlySpan<int> counts, int rows, int qubits, QasmDialect dialect)
    {
        int dim = 1 << qubits;
        var list = new JsonArray();
        for (int r = 0; r < rows; r++)
        {
            var o = new JsonObject();
            for (int i = 0; i < dim; i++)
                if (counts[r * dim + i] > 0) o[Bitstrings.Key(i, qubits, dialect)] = counts[r * dim + i];
            list.Add(o);
        }
        return list;
    }

    private static string Kind(JsonNode? n) => n switch { null => "null", JsonArray => "a list", JsonObject => "an object", _ => $"the value {Trim(n.ToJsonString())}" };
    private static string Trim(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
