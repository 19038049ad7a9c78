using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Reference;

// Memory: memory, copies and random fills. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class ReferenceDevice
{
    public Storage Allocate(long length) => new DoubleStorage(this, length);

    public void Free(Storage storage) { }

    public void Upload(ReadOnlySpan<float> src, Tensor dst) { var d = Doubles(dst); for (int i = 0; i < src.Length; i++) d[i] = src[i]; }

    public void Download(Tensor src, Span<float> dst) { var s = Doubles(src); for (int i = 0; i < dst.Length; i++) dst[i] = (float)s[i]; }

    public void DownloadExact(Tensor src, Span<double> dst) => Doubles(src).CopyTo(dst);
    public void UploadExact(ReadOnlySpan<double> src, Tensor dst) => src.CopyTo(Doubles(dst));
    public void Fill(Tensor y, float value) => Doubles(y).Fill(value);

    public void Copy2D(Tensor src, long so, long ss, Tensor dst, long dOff, long ds, int rows, int cols)
    {
        var s = Arr(src, out int a); var d = Arr(dst, out int b);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                d[b + dOff + r * ds + c] = s[a + so + r * ss + c];
    }

    public void Transpose(Tensor x, int batch, int rows, int cols, Tensor y)
    {
        var X = Doubles(x); var Y = Doubles(y);
        for (int b = 0; b < batch; b++)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) Y[(b * cols + c) * rows + r] = X[(b * rows + r) * cols + c];
    }

    public void FillRandom(Tensor y, RandomKind kind, ulong seed, float a, float b)
    {
        var d = Doubles(y);
        for (int i = 0; i < d.Length; i++)
            d[i] = kind switch
            {
                RandomKind.Uniform => a + (b - a) * CounterRng.Uniform(seed, (ulong)i),
                RandomKind.Normal => a + b * CounterRng.Normal(seed, (ulong)i),
                _ => CounterRng.Uniform(seed, (ulong)i) < a ? 0.0 : 1.0 / (1.0 - a),
            };
    }
}
