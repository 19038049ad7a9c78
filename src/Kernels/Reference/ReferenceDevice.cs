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
    public static Span<double> D(Tensor t) => ((DoubleStorage)t.Storage).Data.AsSpan((int)t.Offset, (int)t.Numel);
    private static double[] Arr(Tensor t, out int off) { off = (int)t.Offset; return ((DoubleStorage)t.Storage).Data; }

    public Storage Allocate(long length) => new DoubleStorage(this, length);
    public void Free(Storage storage) { }
    public void Upload(ReadOnlySpan<float> src, Tensor dst) { var d = D(dst); for (int i = 0; i < src.Length; i++) d[i] = src[i]; }
    public void Download(Tensor src, Span<float> dst) { var s = D(src); for (int i = 0; i < dst.Length; i++) dst[i] = (float)s[i]; }
    public void DownloadExact(Tensor src, Span<double> dst) => D(src).CopyTo(dst);
    public void UploadExact(ReadOnlySpan<double> src, Tensor dst) => src.CopyTo(D(dst));
    /// <summary>Writes doubles directly (for finite-difference checks).</summary>
    public static void Set(Tensor t, int i, double v) => D(t)[i] = v;
    public static double Get(Tensor t, int i) => D(t)[i];

    public void Fill(Tensor y, float value) => D(y).Fill(value);

    public void Copy2D(Tensor src, long so, long ss, Tensor dst, long dOff, long ds, int rows, int cols)
    {
        var s = Arr(src, out int a); var d = Arr(dst, out int b);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                d[b + dOff + r * ds + c] = s[a + so + r * ss + c];
    }

    public void Transpose(Tensor x, int batch, int rows, int cols, Tensor y)
    {
        var X = D(x); var Y = D(y);
        for (int b = 0; b < batch; b++)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) Y[(b * cols + c) * rows + r] = X[(b * rows + r) * cols + c];
    }

    public void FillRandom(Tensor y, RandomKind kind, ulong seed, float a, float b)
    {
        var d = D(y);
        for (int i = 0; i < d.Length; i++)
            d[i] = kind switch
            {
                RandomKind.Uniform => a + (b - a) * CounterRng.Uniform(seed, (ulong)i),
                RandomKind.Normal => a + b * CounterRng.Normal(seed, (ulong)i),
                _ => CounterRng.Uniform(seed, (ulong)i) < a ? 0.0 : 1.0 / (1.0 - a),
            };
    }

    public static double UnaryValue(UnaryOp op, double x, double a, double b) => op switch
    {
        UnaryOp.Relu => x > 0 ? x : 0,
        UnaryOp.LeakyRelu => x > 0 ? x : a * x,
        UnaryOp.Sigmoid => 1 / (1 + Math.Exp(-x)),
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Softplus => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x))),
        UnaryOp.Clamp => Math.Min(Math.Max(x, a), b),
        UnaryOp.Affine => a * x + b,
        UnaryOp.Square => x * x,
        UnaryOp.Sqrt => Math.Sqrt(x),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    public static double UnaryDerivative(UnaryOp op, double x, double a, double b) => op switch
    {
        UnaryOp.Relu => x > 0 ? 1 : 0,
        UnaryOp.LeakyRelu => x > 0 ? 1 : a,
        UnaryOp.Sigmoid => UnaryValue(op, x, a, b) * (1 - UnaryValue(op, x, a, b)),
        UnaryOp.Tanh => 1 - Math.Tanh(x) * Math.Tanh(x),
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => 1 / x,
        UnaryOp.Softplus => 1 / (1 + Math.Exp(-x)),
        UnaryOp.Clamp => x >= a && x <= b ? 1 : 0,
        UnaryOp.Affine => a,
        UnaryOp.Square => 2 * x,
        UnaryOp.Sqrt => 0.5 / Math.Sqrt(x),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    public void Unary(UnaryOp op, Tensor x, Tensor y, float a, float b)
    {
        var xs = D(x); var ys = D(y);
        for (int i = 0; i < xs.Length; i++) ys[i] = UnaryValue(op, xs[i], a, b);
    }

    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float a, float b)
    {
        var xs = D(x); var g = D(dy); var d = D(dx);
        for (int i = 0; i < xs.Length; i++) d[i] = g[i] * UnaryDerivative(op, xs[i], a, b);
    }

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        int rank = y.Rank;
        Span<long> sa = stackalloc long[rank], sb = stackalloc long[rank];
        Shape.BroadcastStrides(a.Shape, rank, sa);
        Shape.BroadcastStrides(b.Shape, rank, sb);
        var av = D(a); var bv = D(b); var yv = D(y);
        Span<int> idx = stackalloc int[rank];
        for (long i = 0; i < y.Numel; i++)
        {
            // Unravel i into a multi-index over y's shape.
            long rem = i, ia = 0, ib = 0;
            for (int d = rank - 1; d >= 0; d--) { idx[d] = (int)(rem % y.Shape[d]); rem /= y.Shape[d]; ia += idx[d] * sa[d]; ib += idx[d] * sb[d]; }
            double p = av[(int)ia], q = bv[(int)ib];
            yv[(int)i] = op switch { BinaryOp.Add => p + q, BinaryOp.Sub => p - q, BinaryOp.Mul => p * q, _ => p / q };
        }
    }

    public void SumAxis(Tensor x, int outer, int r, int inner, Tensor y, float scale)
    {
        var xs = D(x); var ys = D(y);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double s = 0;
                for (int k = 0; k < r; k++) s += xs[(o * r + k) * inner + i];
                ys[o * inner + i] = scale * s;
            }
    }

    public double SumOfSquares(Tensor x)
    {
        double s = 0;
        foreach (double v in D(x)) s += v * v;
        return s;
    }

    public void Gemm(bool ta, bool tb, int batch, int m, int n, int k, float alpha, Tensor a, long strideA, Tensor b, long strideB, float beta, Tensor c, long strideC)
    {
        var A = Arr(a, out int ao); var B = Arr(b, out int bo); var C = Arr(c, out int co);
        for (int p = 0; p < batch; p++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int q = 0; q < k; q++)
                    {
                        double av = ta ? A[ao + p * strideA + q * m + i] : A[ao + p * strideA + i * k + q];
                        double bv = tb ? B[bo + p * strideB + j * k + q] : B[bo + p * strideB + q * n + j];
                        s += av * bv;
                    }
                    long ci = co + p * strideC + i * n + j;
                    C[ci] = alpha * s + (beta == 0 ? 0 : beta * C[ci]);
                }
    }
}
