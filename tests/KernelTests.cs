using QGenEngine.Kernels;
using QGenEngine.Kernels.Cpu;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

/// <summary>What only the fast CPU backend promises (the same bits on any thread count; its buffer pool) and the random streams themselves; every backend's kernels go through <see cref="Conformance.BackendConformance"/>.</summary>
[TestFixture]
public class KernelTests
{
    private static readonly IDevice Cpu = Backends.Cpu, Ref = Backends.Reference;

    [Test]
    public void Fast_kernels_give_the_same_bits_whatever_the_thread_count()
    {
        var a = Data.Make(6, 200 * 300); var b = Data.Make(7, 300 * 150);
        float[] Run(int threads)
        {
            int old = CpuParallel.Threads;
            CpuParallel.Threads = threads;
            try
            {
                var C = Tensor.Zeros(Cpu, 200 * 150);
                Cpu.Gemm(false, false, 1, 200, 150, 300, 1f, Tensor.FromArray(Cpu, a, a.Length), 0, Tensor.FromArray(Cpu, b, b.Length), 0, 0f, C, 0);
                // Few rows (the tiled schedule on two or more threads): k over several blocks, n over several strip groups.
                var C2 = Tensor.Zeros(Cpu, 40 * 600);
                Cpu.Gemm(false, true, 1, 40, 600, 700, 1f, Tensor.FromArray(Cpu, Data.Make(10, 40 * 700), 40 * 700), 0, Tensor.FromArray(Cpu, Data.Make(11, 600 * 700), 600 * 700), 0, 0f, C2, 0);
                var C3 = Tensor.Zeros(Cpu, 30 * 9);
                Cpu.Gemm(true, false, 1, 30, 9, 900, 1f, Tensor.FromArray(Cpu, Data.Make(12, 900 * 30), 900 * 30), 0, Tensor.FromArray(Cpu, Data.Make(13, 900 * 9), 900 * 9), 0, 0f, C3, 0);
                var x = Tensor.FromArray(Cpu, Data.Make(8, 4 * 8 * 9 * 9), 4, 8, 9, 9);
                var w = Tensor.FromArray(Cpu, Data.Make(9, 6 * 8 * 3 * 3), 6, 8, 3, 3);
                var g = ConvGeometry.Conv(4, 8, 9, 9, 6, 3, 3, 2, 2, 1, 1);
                var y = Tensor.Empty(Cpu, 4, 6, g.OutH, g.OutW);
                Cpu.Conv2d(x, w, null, y, g);
                var dx = Tensor.Empty(Cpu, x.Shape); var dw = Tensor.Zeros(Cpu, w.Shape);
                Cpu.Conv2dBackward(x, w, y, dx, dw, null, g);
                // A transposed convolution that runs as chunks of images side by side (3 images, 2 per chunk).
                var tg = TransposedConvGeometry.Create(3, 2, 16, 16, 16, 4, 4, 2, 2, 1, 1);
                var tx = Tensor.FromArray(Cpu, Data.Make(14, 3 * 2 * 16 * 16), 3, 2, 16, 16);
                var tw = Tensor.FromArray(Cpu, Data.Make(15, 2 * 16 * 16), 2, 16, 4, 4);
                var ty = Tensor.Empty(Cpu, 3, 16, 32, 32);
                Cpu.ConvTranspose2d(tx, tw, Tensor.FromArray(Cpu, Data.Make(16, 16), 16), ty, tg);
                var tdx = Tensor.Empty(Cpu, tx.Shape); var tdw = Tensor.Zeros(Cpu, tw.Shape); var tdb = Tensor.Zeros(Cpu, 16);
                Cpu.ConvTranspose2dBackward(tx, tw, ty, tdx, tdw, tdb, tg);
                return [.. C.ToArray(), .. C2.ToArray(), .. C3.ToArray(), .. y.ToArray(), .. dx.ToArray(), .. dw.ToArray(),
                        .. ty.ToArray(), .. tdx.ToArray(), .. tdw.ToArray(), .. tdb.ToArray()];
            }
            finally { CpuParallel.Threads = old; }
        }
        var one = Run(1);
        Assert.That(Run(2), Is.EqualTo(one));
        Assert.That(Run(5), Is.EqualTo(one));
    }

    [TestCase(RandomKind.Uniform, -2f, 3f)]
    [TestCase(RandomKind.Normal, 1f, 2f)]
    [TestCase(RandomKind.Bernoulli, 0.25f, 0f)]
    public void Random_streams_have_the_right_moments(RandomKind kind, float a, float b)
    {
        // Every backend gives the reference's stream (the conformance suite); here the stream itself.
        const int n = 200_000;
        var x = Tensor.Empty(Ref, n); Ref.FillRandom(x, kind, 1234, a, b);
        var xs = x.ToArray();
        double mean = xs.Average(v => (double)v), var = xs.Average(v => (v - mean) * (v - mean));
        var (wantMean, wantVar) = kind switch
        {
            RandomKind.Uniform => ((a + b) / 2.0, (b - a) * (b - a) / 12.0),
            RandomKind.Normal => (a, (double)b * b),
            _ => (1.0, a / (1.0 - a)),   // keep-mask scaled by 1/(1−p): mean 1, variance p/(1−p)
        };
        double se = Math.Sqrt(wantVar / n);
        Assert.That(mean, Is.EqualTo(wantMean).Within(5 * se), "mean within 5 standard errors");
        Assert.That(var, Is.EqualTo(wantVar).Within(0.02 * wantVar), "variance within 2 %");
        var other = Tensor.Empty(Ref, n); Ref.FillRandom(other, kind, 1235, a, b);
        Assert.That(other.ToArray(), Is.Not.EqualTo(xs), "another seed gives other numbers");
    }

    [Test]
    public void Pool_returns_buffers_and_views_keep_their_storage_alive()
    {
        FloatPool.Clear();
        using (var scope = TensorScope.Begin())
        {
            var t = Tensor.Full(Cpu, 3f, 1000);
            var v = t.View(10, 100);
            t.Dispose();
            Assert.That(v.ToArray().All(x => x == 3f), "a view outlives its parent's Dispose");
        }
        Assert.That(FloatPool.PooledBytes, Is.EqualTo(4000), "closing the scope returned the one buffer");
        var again = Tensor.Empty(Cpu, 1000);
        Assert.That(FloatPool.PooledBytes, Is.EqualTo(0), "the next request of that size reuses it");
        again.Dispose();
        var gone = Tensor.Zeros(Cpu, 5); gone.Dispose();
        Assert.Throws<ObjectDisposedException>(() => gone.ToArray());
    }
}
