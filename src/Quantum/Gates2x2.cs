namespace QGenEngine.Quantum;

/// <summary>
/// The one gate table (QUANTUM.md): every entry of a single-qubit gate's matrix [[R00 + i·I00, R01 + i·I01], [R10 + i·I10,
/// R11 + i·I11]] is 0, ±c, ±s or ±h, with c = cos(θ/2) and s = sin(θ/2) of its angle θ and h = 1/√2. The CPU
/// simulators read it in double (<see cref="Gates2x2.Of(GateKind, double, double)"/>), the ILGPU kernels in float
/// (integer codes and plain arithmetic, which a kernel can run; a kernel cannot throw, so a kind that is not a
/// single-qubit gate reads as RZ here).
/// </summary>
public static class GateTable
{
    public const int Zero = 0, C = 1, MinusC = 2, S = 3, MinusS = 4, H = 5, MinusH = 6;

    /// <summary>The codes of a gate's eight entries, in the order R00, I00, R01, I01, R10, I10, R11, I11 (3 bits each).</summary>
    public static int Row(GateKind kind) => kind switch
    {
        //                      R00 I00     R01     I01     R10   I10     R11     I11
        GateKind.H => Pack(H, Zero, H, Zero, H, Zero, MinusH, Zero),
        GateKind.RX => Pack(C, Zero, Zero, MinusS, Zero, MinusS, C, Zero),
        GateKind.RY => Pack(C, Zero, MinusS, Zero, S, Zero, C, Zero),
        _ => Pack(C, MinusS, Zero, Zero, Zero, Zero, C, S),   // RZ
    };

    private static int Pack(int r00, int i00, int r01, int i01, int r10, int i10, int r11, int i11) =>
        r00 | i00 << 3 | r01 << 6 | i01 << 9 | r10 << 12 | i10 << 15 | r11 << 18 | i11 << 21;

    /// <summary>The code of entry e (0..7) of a row.</summary>
    public static int Entry(int row, int e) => (row >> (3 * e)) & 7;

    public static float Value(int code, float c, float s) =>
        code == C ? c : code == MinusC ? -c : code == S ? s : code == MinusS ? -s : code == H ? 0.70710678118654752f : code == MinusH ? -0.70710678118654752f : 0f;

    public static double Value(int code, double c, double s) =>
        code == C ? c : code == MinusC ? -c : code == S ? s : code == MinusS ? -s : code == H ? 1 / Math.Sqrt(2) : code == MinusH ? -1 / Math.Sqrt(2) : 0;
}

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

    /// <summary>The gate of kind k from c = cos(a/2) and s = sin(a/2) of its angle a (ignored by H), from <see cref="GateTable"/>.</summary>
    public static Gates2x2 Of(GateKind k, double c, double s)
    {
        if (k is not (GateKind.H or GateKind.RX or GateKind.RY or GateKind.RZ)) throw new ArgumentException($"{k} is not a single-qubit gate");
        int row = GateTable.Row(k);
        double E(int e) => GateTable.Value(GateTable.Entry(row, e), c, s);
        return new(E(0), E(1), E(2), E(3), E(4), E(5), E(6), E(7));
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
