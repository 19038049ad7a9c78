using QGenEngine.Kernels.Gpu;

namespace QGenEngine.Tests.Gpu;

/// <summary>Every tensor kernel compiles to PTX for sm_90 with no GPU present: a CUDA compile failure shows on any machine.</summary>
[TestFixture]
public class PtxKernelTests
{
    public static IEnumerable<string> Kernels => PtxCompiler.KernelNames;

    /// <summary>
    /// Each kernel the op table needs is one this fixture compiles: every row of <see cref="OpRegistry"/> runs forward
    /// and backward on ilgpu-cpu (the GPU backend's very kernels) and each kernel the device loaded for it must be in
    /// <see cref="Kernels"/> - a kernel loaded from elsewhere would reach CUDA without a PTX check.
    /// </summary>
    [Test]
    public void Every_kernel_the_op_table_loads_is_compiled_here()
    {
        var dev = (IlgpuDevice)GpuBackends.Get("ilgpu-cpu");
        foreach (var c in OpRegistry.All()) OpTests.Run(dev, c, OpTests.Inputs(c));
        var loaded = dev.LoadedKernels;
        Assert.That(loaded, Has.Count.GreaterThanOrEqualTo(10), "the op table loads kernels");
        foreach (var k in new[] { "Gemm", "Im2Col", "Col2Im", "BatchNormStats", "Softmax", "NearestRows" }) Assert.That(loaded, Does.Contain(k), "a row needs " + k);
        Assert.That(loaded.Except(Kernels), Is.Empty, "kernels loaded by the op table that the PTX test does not compile");
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
