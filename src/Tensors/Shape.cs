namespace QGenEngine.Tensors;

/// <summary>Helpers over shapes, which are plain <c>int[]</c> (row-major, NCHW for images).</summary>
public static class Shape
{
    public static long Numel(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        return n;
    }

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    public static bool Equal(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>Normalises a possibly negative axis into [0, rank).</summary>
    public static int Axis(int axis, int rank)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} is out of range for a tensor of rank {rank}");
        return a;
    }

    /// <summary>Splits a shape around <paramref name="axis"/> into (outer, size, inner) element counts.</summary>
    public static (int Outer, int Size, int Inner) Split(ReadOnlySpan<int> shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, shape[axis], inner);
    }

    /// <summary>NumPy broadcasting of two shapes.</summary>
    public static int[] Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            int db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"shapes {Format(a)} and {Format(b)} cannot be broadcast together");
            r[i] = da == 1 ? db : da;
        }
        return r;
    }

    /// <summary>Element strides of <paramref name="shape"/> as seen from a broadcast output of rank <paramref name="rank"/> (0 where broadcast).</summary>
    public static void BroadcastStrides(ReadOnlySpan<int> shape, int rank, Span<long> strides)
    {
        long s = 1;
        for (int i = rank - 1; i >= 0; i--)
        {
            int j = i - (rank - shape.Length);
            int d = j >= 0 ? shape[j] : 1;
            strides[i] = d == 1 ? 0 : s;
            s *= d;
        }
    }

    /// <summary>Resolves one -1 entry of a requested reshape.</summary>
    public static int[] Resolve(ReadOnlySpan<int> requested, long numel)
    {
        var r = requested.ToArray();
        int free = -1; long known = 1;
        for (int i = 0; i < r.Length; i++)
        {
            if (r[i] == -1) { if (free >= 0) throw new ArgumentException("only one dimension may be -1"); free = i; }
            else if (r[i] < 0) throw new ArgumentException($"invalid dimension {r[i]} in {Format(requested)}");
            else known *= r[i];
        }
        if (free >= 0)
        {
            if (known == 0 || numel % known != 0) throw new ArgumentException($"cannot reshape {numel} elements into {Format(requested)}");
            r[free] = (int)(numel / known);
        }
        if (Numel(r) != numel) throw new ArgumentException($"cannot reshape {numel} elements into {Format(requested)}");
        return r;
    }
}
