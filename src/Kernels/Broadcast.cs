using QGenEngine.Tensors;

namespace QGenEngine.Kernels;

/// <summary>Broadcast geometry shared by the backends.</summary>
internal static class Broadcast
{
    /// <summary>Merges neighbouring output dims along which both inputs advance (or stay) together.</summary>
    public static (int[] Dims, long[] Sa, long[] Sb) Collapse(int[] y, int[] a, int[] b)
    {
        int rank = y.Length;
        Span<long> sa = stackalloc long[rank], sb = stackalloc long[rank];
        Shape.BroadcastStrides(a, rank, sa);
        Shape.BroadcastStrides(b, rank, sb);
        var dims = new List<int>(rank); var la = new List<long>(rank); var lb = new List<long>(rank);
        for (int i = 0; i < rank; i++)
        {
            if (y[i] == 1) continue;
            if (dims.Count > 0)
            {
                int k = dims.Count - 1;
                bool mergeA = la[k] == sa[i] * y[i] || (la[k] == 0 && sa[i] == 0);
                bool mergeB = lb[k] == sb[i] * y[i] || (lb[k] == 0 && sb[i] == 0);
                if (mergeA && mergeB) { dims[k] *= y[i]; la[k] = sa[i]; lb[k] = sb[i]; continue; }
            }
            dims.Add(y[i]); la.Add(sa[i]); lb.Add(sb[i]);
        }
        if (dims.Count == 0) { dims.Add(1); la.Add(0); lb.Add(0); }
        return (dims.ToArray(), la.ToArray(), lb.ToArray());
    }
}
