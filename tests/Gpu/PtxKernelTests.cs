using QGenEngine.Kernels.Gpu;

namespace QGenEngine.Tests.Gpu;

/// <summary>Every tensor kernel compiles to PTX for sm_90 with no GPU present: a CUDA compile failure shows on any machine.</summary>
[TestFixture]
public class PtxKernelTests
{
    public static IEnumerable<string> Kernels => PtxCompiler.KernelNames;

    [Test]
    public void The_backend_has_every_kernel_family()
    {
        Assert.That(Kernels.Count(), Is.GreaterThanOrEqualTo(30));
        foreach (var k in new[] { "Gemm", "Im2Col", "Col2Im", "BatchNormStats", "Softmax", "Adam", "NearestRows", "Random" })
            Assert.That(Kernels, Does.Contain(k));
    }

    [TestCaseSource(nameof(Kernels))]
    public void Kernel_compiles_to_ptx(string kernel)
    {
        var ptx = PtxCompiler.Compile(kernel);
        Assert.That(ptx, Does.Contain(".entry"), "an entry point");
        Assert.That(ptx, Does.Contain(".target sm_"), "a CUDA target (ILGPU 1.5.3 writes sm_80 code for ISA 8.0; it runs on sm_90)");
        if (kernel is "Gemm" or "SumRowsGrouped" or "BatchNormStats" or "ChannelSum")
            Assert.That(ptx, Does.Contain(".shared"), "tiles and partial sums in shared memory");
        if (kernel != "Random")   // the shared counter-based stream computes Box-Muller in double on every device
            Assert.That(ptx, Does.Not.Contain(".f64"), "no double-precision arithmetic (MathF, not Math)");
    }
}
