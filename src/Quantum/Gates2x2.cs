namespace QGenEngine.Quantum;

/// <summary>A 2×2 complex matrix in double precision (gate algebra before casting to the simulation's precision).</summary>
public readonly record struct Gates2x2(double R00, double I00, double R01, double I01, double R10, double I10, double R11, double I11)
{
    public static readonly Gates2x2 Identity = new(1, 0, 0, 0, 0, 0, 1, 0);

    /// <summary>The gates of QUANTUM.md.</summary>
    public static Gates2x2 Of(GateKind k, double a)
    {
        var (s, c) = Math.SinCos(a / 2);
        return Of(k, c, s);
    }

    /// <summary>The gate of kind k from c = cos(a/2) and s = sin(a/2) of its angle a (ignored by H).</summary>
    public static Gates2x2 Of(GateKind k, double c, double s)
    {
        double h = 1 / Math.Sqrt(2);
        return k switch
        {
            GateKind.H => new(h, 0, h, 0, h, 0, -h, 0),
            GateKind.RX => new(c, 0, 0, -s, 0, -s, c, 0),
            GateKind.RY => new(c, 0, -s, 0, s, 0, c, 0),
            GateKind.RZ => new(c, -s, 0, 0, 0, 0, c, s),
            _ => throw new ArgumentException($"{k} is not a single-qubit gate"),
        };
    }

    public static Gates2x2 operator *(Gates2x2 a, Gates2x2 b) => new(
        a.R00 * b.R00 - a.I00 * b.I00 + a.R01 * b.R10 - a.I01 * b.I10, a.R00 * b.I00 + a.I00 * b.R00 + a.R01 * b.I10 + a.I01 * b.R10,
        a.R00 * b.R01 - a.I00 * b.I01 + a.R01 * b.R11 - a.I01 * b.I11, a.R00 * b.I01 + a.I00 * b.R01 + a.R01 * b.I11 + a.I01 * b.R11,
        a.R10 * b.R00 - a.I10 * b.I00 + a.R11 * b.R10 - a.I11 * b.I10, a.R10 * b.I00 + a.I10 * b.R00 + a.R11 * b.I10 + a.I11 * b.R10,
        a.R10 * b.R01 - a.I10 * b.I01 + a.R11 * b.R11 - a.I11 * b.I11, a.R10 * b.I01 + a.I10 * b.R01 + a.R11 * b.I11 + a.I11 * b.R11);

    public Gates2x2 Adjoint() => new(R00, -I00, R10, -I10, R01, -I01, R11, -I11);

    internal void Store<T>(T[] m, int lane, int lanes) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        m[0 * lanes + lane] = T.CreateTruncating(R00); m[1 * lanes + lane] = T.CreateTruncating(I00);
        m[2 * lanes + lane] = T.CreateTruncating(R01); m[3 * lanes + lane] = T.CreateTruncating(I01);
        m[4 * lanes + lane] = T.CreateTruncating(R10); m[5 * lanes + lane] = T.CreateTruncating(I10);
        m[6 * lanes + lane] = T.CreateTruncating(R11); m[7 * lanes + lane] = T.CreateTruncating(I11);
    }
}
