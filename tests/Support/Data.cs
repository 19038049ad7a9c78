namespace QGenEngine.Tests.Support;

public enum Dist { Normal, Positive, Unit, AwayFromZero }

/// <summary>Deterministic test inputs (System.Random with a fixed seed: independent of the engine's own generator).</summary>
public static class Data
{
    public static float[] Make(int seed, long n, Dist dist = Dist.Normal)
    {
        var r = new Random(seed);
        var v = new float[n];
        for (long i = 0; i < n; i++)
        {
            double u1 = 1 - r.NextDouble(), u2 = r.NextDouble();
            double g = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            v[i] = (float)(dist switch
            {
                Dist.Positive => 0.2 + 2 * r.NextDouble(),
                Dist.Unit => r.NextDouble(),
                Dist.AwayFromZero => (r.NextDouble() < 0.5 ? -1 : 1) * (0.5 + r.NextDouble()),
                _ => g,
            });
        }
        return v;
    }

    public static int Seed(string name)
    {
        unchecked
        {
            int h = 17;
            foreach (char c in name) h = h * 31 + c;
            return h & 0x7fffffff;
        }
    }
}
