using QGenEngine.Tests.Support;

namespace QGenEngine.Tests.Cli;

/// <summary>`devices` names what is missing where a backend finds nothing (issue #25).</summary>
[TestFixture]
public class DevicesMessageTests : TempDirTest
{
    [Test]
    public void Devices_says_which_OpenCL_library_or_registration_is_missing()
    {
        string vendors = Path.Combine(Dir, "vendors");
        string Why(params string[] loadable) => QGenEngine.Cli.Commands.DevicesCommand.OpenClWhy(l => loadable.Contains(l), vendors);
        Assert.That(Why("libOpenCL.so.1"), Does.Contain("not the unversioned libOpenCL.so").And.Contain("ocl-icd-opencl-dev"));
        Assert.That(Why(), Does.Contain("no OpenCL loader"));
        Assert.That(Why("libOpenCL.so", "libOpenCL.so.1"), Does.Contain($"no platform (ICD) is registered in {vendors}"));
        Directory.CreateDirectory(vendors);
        File.WriteAllText(Path.Combine(vendors, "pocl.icd"), "libpocl.so.2\n");
        Assert.That(Why("libOpenCL.so", "libOpenCL.so.1"), Does.Contain("found no device"));
        // This machine's own answer names one of these causes.
        var (code, o, _) = CliRunner.Run("devices");
        Assert.That(code, Is.Zero);
        Assert.That(o.Split('\n').Single(l => l.StartsWith("opencl", StringComparison.Ordinal)), Does.Contain("libOpenCL").Or.Contain("OpenCL loader").Or.Contain("usable").Or.Contain("passed over"));
    }
}
