using QGenEngine.Autograd;
using QGenEngine.Kernels;
using QGenEngine.Kernels.Gpu;
using QGenEngine.Tensors;

namespace QGenEngine.Tests.Gpu;

/// <summary>
/// What only the ILGPU backend has (its device-buffer pool); its kernels go through the conformance suite
/// (<see cref="Conformance.BackendConformance"/>) like every backend's.
/// </summary>
[TestFixture("ilgpu-cpu")]
[TestFixture("cuda")]
[TestFixture("opencl")]
public class IlgpuDeviceTests(string backend)
{
    private IDevice _dev = null!;

    [OneTimeSetUp]
    public void Open()
    {
        var why = GpuBackends.Unavailable(backend);
        if (why is not null) Assert.Ignore($"{backend}: {why}; the same tests ran on ilgpu-cpu");
        _dev = Backends.Get(backend);
    }

    [Test]
    public void Pooled_device_buffers_are_reused_within_scopes()
    {
        var dev = (IlgpuDevice)_dev;
        void Step()
        {
            using var _ = TensorScope.Begin();
            var a = Tensor.Full(dev, 2f, 4097); var b = a.Mul(a).Sum();
            Assert.That(b.Item(), Is.EqualTo(4 * 4097f));
        }
        Step();
        long fresh = dev.FreshAllocations;
        for (int i = 0; i < 5; i++) Step();
        Assert.That(dev.FreshAllocations, Is.EqualTo(fresh), "steady state allocates no device memory");
    }
}
