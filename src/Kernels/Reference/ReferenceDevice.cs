using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Reference;

/// <summary>
/// The oracle: every primitive as plain loops over double-precision storage, written for obviousness,
/// not speed. Tensors on this device hold doubles, so a whole graph (forward and backward) runs in
/// double and finite-difference gradient checks are tight. Never used for real work.
/// </summary>
public sealed partial class ReferenceDevice : IDevice, IExactDevice
{
    public static readonly ReferenceDevice Instance = new();
    public string Name => "reference";

    private sealed class DoubleStorage(IDevice d, long n) : Storage(d, n)
    {
        public readonly double[] Data = new double[n];
    }

    /// <summary>The tensor's values as a span of doubles.</summary>
    public static Span<double> Doubles(Tensor t) => ((DoubleStorage)t.Storage).Data.AsSpan((int)t.Offset, (int)t.Numel);

    private static double[] Arr(Tensor t, out int off) { off = (int)t.Offset; return ((DoubleStorage)t.Storage).Data; }

    /// <summary>Writes doubles directly (for finite-difference checks).</summary>
    public static void Set(Tensor t, int i, double v) => Doubles(t)[i] = v;
    public static double Get(Tensor t, int i) => Doubles(t)[i];
}
