using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Reference;

// Indexing: index select/add, gather, nearest rows, categorical sampling.
public sealed partial class ReferenceDevice
{
    public void IndexSelect(Tensor w, Tensor idx, Tensor y)
    {
        int d = w.Shape[1]; var W = Doubles(w); var Y = Doubles(y); var I = Doubles(idx);
        for (int i = 0; i < I.Length; i++) for (int j = 0; j < d; j++) Y[i * d + j] = W[(int)I[i] * d + j];
    }

    public void IndexAdd(Tensor dy, Tensor idx, Tensor dw)
    {
        int d = dw.Shape[1]; var G = Doubles(dy); var DW = Doubles(dw); var I = Doubles(idx);
        for (int i = 0; i < I.Length; i++) for (int j = 0; j < d; j++) DW[(int)I[i] * d + j] += G[i * d + j];
    }

    public void SampleCategorical(Tensor logits, int rows, int classes, ulong seed, Tensor idx)
    {
        var l = Doubles(logits); var d = Doubles(idx);
        for (int i = 0; i < rows; i++)
        {
            double max = double.NegativeInfinity, total = 0;
            for (int c = 0; c < classes; c++) max = Math.Max(max, l[i * classes + c]);
            for (int c = 0; c < classes; c++) total += Math.Exp(l[i * classes + c] - max);
            double u = CounterRng.Uniform(seed, (ulong)i) * total, acc = 0;
            int pick = classes - 1;
            for (int c = 0; c < classes; c++)
            {
                acc += Math.Exp(l[i * classes + c] - max);
                if (u < acc) { pick = c; break; }
            }
            d[i] = pick;
        }
    }

    public void NearestRows(Tensor z, Tensor codebook, Tensor idxT)
    {
        int m = z.Shape[0], d = z.Shape[1], k = codebook.Shape[0];
        var Z = Doubles(z); var E = Doubles(codebook); var idx = Doubles(idxT);
        for (int i = 0; i < m; i++)
        {
            double best = double.PositiveInfinity; int arg = 0;
            for (int j = 0; j < k; j++)
            {
                double s = 0;
                for (int q = 0; q < d; q++) { double diff = Z[i * d + q] - E[j * d + q]; s += diff * diff; }
                if (s < best) { best = s; arg = j; }
            }
            idx[i] = arg;
        }
    }
}
