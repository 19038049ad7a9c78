using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Reference;

// Reductions: sums and arg-reductions along an axis. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class ReferenceDevice
{
    public void SumAxis(Tensor x, int outer, int r, int inner, Tensor y, float scale)
    {
        var xs = Doubles(x); var ys = Doubles(y);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double s = 0;
                for (int k = 0; k < r; k++) s += xs[(o * r + k) * inner + i];
                ys[o * inner + i] = scale * s;
            }
    }

    public void SumOfSquares(Tensor x, Tensor acc)
    {
        double s = 0;
        foreach (double v in Doubles(x)) s += v * v;
        Doubles(acc)[0] += s;
    }

    public void ArgReduce(Tensor x, int outer, int r, int inner, bool min, Tensor idx)
    {
        var s = Doubles(x); var d = Doubles(idx);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * r * inner + i, arg = 0;
                double best = s[b];
                for (int k = 1; k < r; k++)
                {
                    double v = s[b + k * inner];
                    if (min ? v < best : v > best) { best = v; arg = k; }
                }
                d[o * inner + i] = arg;
            }
    }
}
