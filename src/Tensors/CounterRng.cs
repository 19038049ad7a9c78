namespace QGenEngine.Tensors;

/// <summary>
/// Counter-based random numbers: value i of stream <c>seed</c> is a pure function of (seed, i), so a
/// fill gives the same numbers on every device and thread split. SplitMix64's finaliser as the hash.
/// </summary>
public static class CounterRng
{
    public static ulong Hash(ulong seed, ulong i)
    {
        ulong z = seed * 0x9E3779B97F4A7C15UL + (i + 1) * 0xD1B54A32D192ED03UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 24 random bits (exact in float).</summary>
    public static float Uniform(ulong seed, ulong i) => (Hash(seed, i) >> 40) * (1f / 16777216f);

    /// <summary>Standard normal by Box-Muller on two independent uniforms of the same index.</summary>
    public static float Normal(ulong seed, ulong i)
    {
        ulong h = Hash(seed, i);
        double u1 = ((h >> 11) + 1) * (1.0 / 9007199254740993.0); // (0, 1]
        double u2 = (Hash(seed ^ 0x5851F42D4C957F2DUL, i) >> 11) * (1.0 / 9007199254740992.0);
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    /// <summary>Derives independent stream seeds from one seed (for a generator that hands out many fills).</summary>
    public static ulong Derive(ulong seed, ulong stream) => Hash(seed ^ 0xA0761D6478BD642FUL, stream);
}

/// <summary>A seeded source of fresh stream seeds, one per random fill: reproducible run to run.</summary>
public sealed class Generator
{
    private ulong _seed;
    private ulong _next;
    public Generator(ulong seed) { _seed = seed; }
    public ulong NextSeed() => CounterRng.Derive(_seed, _next++);
    /// <summary>How many seeds were handed out (saved in checkpoints so a resumed run continues the stream).</summary>
    public ulong Position { get => _next; set => _next = value; }
    public ulong Seed => _seed;
    /// <summary>Continues a saved stream (checkpoints).</summary>
    public void Restore(ulong seed, ulong position) { _seed = seed; _next = position; }
}
