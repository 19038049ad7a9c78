using QGenEngine.Tensors;
using System.Numerics.Tensors;
using Tensor = QGenEngine.Tensors.Tensor;

namespace QGenEngine.Kernels.Cpu;

// Indexing: index select/add, gather, nearest rows, categorical sampling.
public sealed partial class CpuDevice
{
    public void IndexSelect(Tensor w, Tensor idx, Tensor y)
    {
        int d = w.Shape[1], v = w.Shape[0]; var W = S(w); var Y = S(y); var I = S(idx);
        for (int i = 0; i < I.Length; i++)
        {
            int r = (int)I[i];
            if ((uint)r >= (uint)v) throw new IndexOutOfRangeException($"index {I[i]} is outside [0, {v})");
            W.Slice(r * d, d).CopyTo(Y.Slice(i * d, d));
        }
    }

    public void IndexAdd(Tensor dy, Tensor idx, Tensor dw)
    {
        int d = dw.Shape[1]; var G = S(dy); var DW = S(dw); var I = S(idx);
        for (int i = 0; i < I.Length; i++)
        {
            int r = (int)I[i];
            TensorPrimitives.Add(DW.Slice(r * d, d), G.Slice(i * d, d), DW.Slice(r * d, d));
        }
    }

    private readonly record struct NearestJob(float[] Z, int Zo, float[] E, int Eo, float[] Idx, int Io, int D, int K);
    private readonly record struct CategoricalJob(float[] L, int Lo, float[] Y, int Yo, int Classes, ulong Seed);

    public void SampleCategorical(Tensor logits, int rows, int classes, ulong seed, Tensor idx)
    {
        CpuParallel.For(rows, new CategoricalJob(A(logits), (int)logits.Offset, A(idx), (int)idx.Offset, classes, seed), static (j, i) =>
        {
            var l = j.L.AsSpan(j.Lo + i * j.Classes, j.Classes);
            float max = TensorPrimitives.Max(l);
            double total = 0;
            foreach (float v in l) total += MathF.Exp(v - max);
            double u = CounterRng.Uniform(j.Seed, (ulong)i) * total, acc = 0;
            int pick = j.Classes - 1;
            for (int c = 0; c < j.Classes; c++)
            {
                acc += MathF.Exp(l[c] - max);
                if (u < acc) { pick = c; break; }
            }
            j.Y[j.Yo + i] = pick;
        });
    }

    public void NearestRows(Tensor z, Tensor codebook, Tensor idxT)
    {
        var idx = A(idxT); int io = (int)idxT.Offset;
        // Exact squared distances row by row (a GEMM form ||z||² − 2z·e + ||e||² would be faster but can flip near-ties).
        CpuParallel.For(z.Shape[0], new NearestJob(A(z), (int)z.Offset, A(codebook), (int)codebook.Offset, idx, io, z.Shape[1], codebook.Shape[0]), static (j, i) =>
        {
            var zi = j.Z.AsSpan(j.Zo + i * j.D, j.D);
            float best = float.PositiveInfinity; int arg = 0;
            for (int k = 0; k < j.K; k++)
            {
                float dist = FixedReduce.Distance(zi, j.E.AsSpan(j.Eo + k * j.D, j.D));
                if (dist < best) { best = dist; arg = k; }
            }
            j.Idx[j.Io + i] = arg;
        });
    }
}
