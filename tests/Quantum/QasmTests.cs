using QGenEngine.Quantum;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Quantum;

/// <summary>OpenQASM 3 export and measured counts (issue #26): round trips, both dialects, the bit-order trap, refusals.</summary>
[TestFixture]
public class QasmTests : TempDirTest
{
    private static (float[] X, float[] W) Angles(Circuit c, int seed)
    {
        var rng = new Random(seed);
        return (Enumerable.Range(0, c.InputCount).Select(_ => (float)(rng.NextDouble() * Math.PI)).ToArray(),
                Enumerable.Range(0, c.WeightCount).Select(_ => (float)(rng.NextDouble() * 2 * Math.PI)).ToArray());
    }

    [Test]
    public void Exported_programs_read_back_to_the_same_probabilities(
        [Values(4, 5, 8, 12)] int qubits, [Values] Entangler entangler, [Values] QasmDialect dialect)
    {
        var c = Circuit.Template(qubits, 3, entangler);
        var (x, w) = Angles(c, qubits * 7 + (int)entangler);
        string text = Qasm.Write(c, x, w, dialect, "test");
        Assert.That(text, Does.StartWith("OPENQASM 3.0;\n"));
        Assert.That(text.Contains("include \"stdgates.inc\";"), Is.EqualTo(dialect == QasmDialect.Qiskit));
        Assert.That(text.Contains("\ncnot q["), Is.EqualTo(dialect == QasmDialect.Braket));
        Assert.That(text.Contains("\ncx q["), Is.EqualTo(dialect == QasmDialect.Qiskit));
        Assert.That(text, Does.EndWith("c = measure q;\n"));
        var prog = Qasm.Parse(text);
        Assert.That(prog.Dialect, Is.EqualTo(dialect)); Assert.That(prog.MeasuresAll);
        Assert.That(prog.Circuit.Gates.Count, Is.EqualTo(c.Gates.Count));
        var want = Simulator.Run<double>(c, x, 1, w, Readout.Probs);
        var got = Simulator.Run<double>(prog.Circuit, new float[qubits], 1, prog.Weights, Readout.Probs);
        Close.Assert(got, want.Select(v => (double)v).ToArray(), 1e-6, 0, $"{qubits} qubits, {entangler}, {dialect}");
        // Bound angles are the float32 values the simulator used, exactly.
        var bound = c.Gates.Where(g => g.IsRotation).Select(g => g.Source == AngleSource.Input ? x[g.Index] : w[g.Index]).ToArray();
        Assert.That(prog.Weights, Is.EqualTo(bound));
    }

    [Test]
    public void Bitstring_orders_of_the_two_dialects()
    {
        // Index 1 of 3 qubits: wire 2 is 1 (wire 0 is the most significant bit).
        Assert.That(Bitstrings.Key(1, 3, QasmDialect.Qiskit), Is.EqualTo("100"), "Qiskit: c[2] c[1] c[0]");
        Assert.That(Bitstrings.Key(1, 3, QasmDialect.Braket), Is.EqualTo("001"), "Braket: qubit 0 leftmost");
        for (int n = 1; n <= 6; n++)
            for (int i = 0; i < 1 << n; i++)
                foreach (var d in new[] { QasmDialect.Qiskit, QasmDialect.Braket })
                    Assert.That(Bitstrings.Index(Bitstrings.Key(i, n, d), n, d), Is.EqualTo(i));
        Assert.That(Bitstrings.Index("0102", 4, QasmDialect.Braket), Is.Null);
        Assert.That(Bitstrings.Index("01", 3, QasmDialect.Qiskit), Is.Null);
    }

    [Test]
    public void Counts_from_the_shot_sampler_give_the_shots_readout_in_each_dialect_and_not_in_the_other()
    {
        var c = Circuit.Template(5, 2, Entangler.Linear);
        int rows = 6, shots = 500, dim = c.Dim;
        var rng = new Random(3);
        var x = Enumerable.Range(0, rows * 5).Select(_ => (float)(rng.NextDouble() * Math.PI)).ToArray();
        var w = Enumerable.Range(0, c.WeightCount).Select(_ => (float)(rng.NextDouble() * 6)).ToArray();
        var sampled = Simulator.Run(c, x, rows, w, new Readout(ReadoutKind.Shots, shots), seed: 11);
        var counts = sampled.Select(p => (int)Math.Round(p * shots)).ToArray();
        Assert.That(counts.Sum(), Is.EqualTo(rows * shots));
        foreach (var d in new[] { QasmDialect.Qiskit, QasmDialect.Braket })
        {
            var path = Path.Combine(Dir, $"{d}.json");
            File.WriteAllText(path, MeasuredCounts.Write(counts, rows, 5, d).ToJsonString());
            Assert.That(MeasuredCounts.ReadProbabilities(path, rows, 5, d), Is.EqualTo(sampled), $"{d} counts read in {d} order");
            var other = d == QasmDialect.Qiskit ? QasmDialect.Braket : QasmDialect.Qiskit;
            var wrong = MeasuredCounts.ReadProbabilities(path, rows, 5, other);
            Assert.That(wrong.Zip(sampled).Max(t => Math.Abs(t.First - t.Second)), Is.GreaterThan(0.05), $"{d} counts read in {other} order are other basis states");
        }
    }

    [TestCase("[{\"00\": 3}]", 2, "1 count objects for 2 circuits")]
    [TestCase("{\"00\": 3}", 1, "expected a JSON list")]
    [TestCase("[{\"000\": 3}]", 1, "bitstring '000' is not 2 characters of 0 and 1")]
    [TestCase("[{\"0x\": 3}]", 1, "bitstring '0x' is not 2 characters")]
    [TestCase("[{\"01\": -3}]", 1, "count of '01' is -3; expected a whole number ≥ 0")]
    [TestCase("[{\"01\": 2.5}]", 1, "count of '01' is 2.5")]
    [TestCase("[{\"01\": 0, \"10\": 0}]", 1, "row 0 holds no shots")]
    [TestCase("[[1, 2]]", 1, "row 0 is a list")]
    [TestCase("[{\"01\"", 1, "not valid JSON")]
    public void Bad_counts_are_refused_naming_the_file_and_the_row(string json, int rows, string expected)
    {
        var path = Path.Combine(Dir, "counts.json");
        File.WriteAllText(path, json);
        var ex = Assert.Throws<FormatException>(() => MeasuredCounts.ReadProbabilities(path, rows, 2, QasmDialect.Qiskit));
        Assert.That(ex!.Message, Does.StartWith(path + ": ").And.Contain(expected));
    }

    [TestCase("OPENQASM 3.0;\nqubit[2] q;\nfoo q[0];\n", "line 3 'foo q[0];'")]
    [TestCase("OPENQASM 3.0;\nqubit[2] q;\ncnot q[0], q[2];\n", "'q[2]' is not a qubit")]
    [TestCase("OPENQASM 3.0;\nqubit[2] q;\ncx q[0], q[1];\n", "'cx' comes from stdgates.inc")]
    [TestCase("OPENQASM 3.0;\nqubit[2] q;\nrx(nan) q[0];\n", "expected a finite angle")]
    public void The_reader_refuses_what_is_not_the_subset(string text, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => Qasm.Parse(text));
        Assert.That(ex!.Message, Does.Contain(expected));
    }

    [TestCase(2f, "2.0")]
    [TestCase(-3f, "-3.0")]
    [TestCase(0f, "0.0")]
    [TestCase(0.1f, "0.1")]
    [TestCase(1e-5f, "1E-05")]
    [TestCase(3.1415927f, "3.1415927")]
    public void Angles_are_float_literals_that_round_trip(float a, string text)
    {
        // Whole numbers keep a decimal point (OpenQASM 3 reads "2" as an integer); the shortest form that reads back as the same float32.
        Assert.That(Qasm.Literal(a), Is.EqualTo(text));
        Assert.That(float.Parse(Qasm.Literal(a), System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(a));
    }

    [Test]
    public void Amplitude_encoded_circuits_are_not_exported()
    {
        var c = Circuit.Template(3, 1, Entangler.Linear, Encoding.Amplitude);
        Assert.Throws<ArgumentException>(() => Qasm.Write(c, new float[8], new float[c.WeightCount], QasmDialect.Qiskit));
    }
}
