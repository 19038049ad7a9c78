using System.Text;
using System.Text.RegularExpressions;

namespace QGenEngine.Tests.Fuzz;

/// <summary>
/// Seeded mutations of a valid file (issue #25): what a damaged disk, a wrong tool or a hostile author makes of it. Binary:
/// bit flips, interesting integers over 1-8 bytes (0, -1, 2^31 - 1, 2^32, huge lengths), truncation, deletion,
/// duplication and junk. Text (JSON, YAML, OpenQASM): the same, plus token-level changes - a number replaced by an
/// extreme one, a value of another type, a bracket or quote removed, deep nesting, and YAML anchors that expand
/// exponentially. The same seed gives the same input.
/// </summary>
public static class Mutator
{
    private static readonly long[] Interesting = [0, 1, -1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000, 0x7FFFFFFFFFFFFFFF, long.MinValue, 65536, 1_000_000_007];
    private static readonly string[] Numbers = ["0", "-1", "-0", "1e308", "-1e308", "1e-320", "NaN", "Infinity", "99999999999999999999", "2147483648", "4294967296", "-2147483649", "1.5", "0x10", "1_000"];
    private static readonly string[] Values = ["null", "true", "\"\"", "[]", "{}", "\"x\"", "[1, 2]", "{\"a\": 1}", "\"\\u0000\"", "\"é✓\""];

    public static byte[] Mutate(byte[] seed, Random rng, bool text)
    {
        int rounds = 1 + rng.Next(3);
        var b = seed;
        for (int i = 0; i < rounds; i++)
            b = text && rng.Next(3) > 0 ? MutateText(b, rng) : MutateBytes(b, rng);
        return b;
    }

    private static byte[] MutateBytes(byte[] b, Random rng)
    {
        var l = new List<byte>(b);
        switch (rng.Next(7))
        {
            case 0:   // flip 1-16 bits
                for (int k = 1 + rng.Next(16); k > 0 && l.Count > 0; k--) { int at = rng.Next(l.Count); l[at] ^= (byte)(1 << rng.Next(8)); }
                break;
            case 1:   // an interesting integer over 1, 2, 4 or 8 bytes, either endianness
                if (l.Count > 0)
                {
                    int width = new[] { 1, 2, 4, 8 }[rng.Next(4)], at = rng.Next(l.Count);
                    long v = Interesting[rng.Next(Interesting.Length)];
                    bool big = rng.Next(2) == 0;
                    for (int k = 0; k < width && at + k < l.Count; k++) l[at + k] = (byte)(v >> (8 * (big ? width - 1 - k : k)));
                }
                break;
            case 2:   // truncate
                if (l.Count > 0) { int keep = rng.Next(l.Count); l.RemoveRange(keep, l.Count - keep); }
                break;
            case 3:   // delete a block
                if (l.Count > 1) { int at = rng.Next(l.Count); l.RemoveRange(at, Math.Min(l.Count - at, 1 + rng.Next(64))); }
                break;
            case 4:   // duplicate a block
                if (l.Count > 1) { int at = rng.Next(l.Count), n = Math.Min(l.Count - at, 1 + rng.Next(256)); l.InsertRange(rng.Next(l.Count), l.GetRange(at, n)); }
                break;
            case 5:   // junk inserted
                { var junk = new byte[1 + rng.Next(32)]; rng.NextBytes(junk); l.InsertRange(l.Count == 0 ? 0 : rng.Next(l.Count), junk); }
                break;
            default:  // a byte set to an extreme
                if (l.Count > 0) l[rng.Next(l.Count)] = new byte[] { 0, 0xFF, 0x7F, 0x80, (byte)'"', (byte)'\n' }[rng.Next(6)];
                break;
        }
        return [.. l];
    }

    private static byte[] MutateText(byte[] b, Random rng)
    {
        string s = Encoding.UTF8.GetString(b);
        switch (rng.Next(7))
        {
            case 0:   // a number replaced by an extreme one
                s = ReplaceOne(s, NumberRe(), Numbers[rng.Next(Numbers.Length)], rng);
                break;
            case 1:   // a value of another type in place of a number or string
                s = ReplaceOne(s, rng.Next(2) == 0 ? NumberRe() : StringRe(), Values[rng.Next(Values.Length)], rng);
                break;
            case 2:   // a structural character removed
                {
                    var at = Enumerable.Range(0, s.Length).Where(i => "[]{}\":,-".Contains(s[i])).ToList();
                    if (at.Count > 0) s = s.Remove(at[rng.Next(at.Count)], 1);
                }
                break;
            case 3:   // deep nesting at a random place
                {
                    int depth = 1000 + rng.Next(20000), at = rng.Next(s.Length + 1);
                    string open = rng.Next(2) == 0 ? "[" : "{\"a\":", close = open == "[" ? "]" : "}";
                    s = s[..at] + string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth)) + s[at..];
                }
                break;
            case 4:   // YAML anchors and aliases that expand exponentially ("billion laughs")
                {
                    var sb = new StringBuilder("a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n");
                    for (int k = 1; k < 10; k++)
                        sb.Append($"a{k}: &a{k} [{string.Join(", ", Enumerable.Repeat($"*a{k - 1}", 9))}]\n");
                    s = rng.Next(2) == 0 ? sb + s : s + "\n" + sb;
                }
                break;
            case 5:   // a line duplicated or removed
                {
                    var lines = s.Split('\n').ToList();
                    int at = rng.Next(lines.Count);
                    if (rng.Next(2) == 0) lines.Insert(at, lines[at]); else lines.RemoveAt(at);
                    s = string.Join('\n', lines);
                }
                break;
            default:  // a very long string
                s = ReplaceOne(s, StringRe(), "\"" + new string('x', 100_000 + rng.Next(100_000)) + "\"", rng);
                break;
        }
        return Encoding.UTF8.GetBytes(s);
    }

    private static string ReplaceOne(string s, Regex re, string with, Random rng)
    {
        var ms = re.Matches(s);
        if (ms.Count == 0) return s;
        var m = ms[rng.Next(ms.Count)];
        return s[..m.Index] + with + s[(m.Index + m.Length)..];
    }

    private static Regex NumberRe() => new(@"-?\d+(\.\d+)?([eE][-+]?\d+)?");
    private static Regex StringRe() => new("\"[^\"\\n]*\"");
}
