using QGenEngine.Models.Data;

namespace QGenEngine.Tests;

/// <summary>.npy files against files written by numpy.save (tools/golden/make_gan_fixtures.py).</summary>
[TestFixture]
public class NpyTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "npy", name);

    [Test]
    public void Reads_what_numpy_wrote_and_writes_the_same_bytes()
    {
        var (z, zs) = Npy.Read(Fixture("latents_3x100_f4.npy"));
        Assert.That(zs, Is.EqualTo(new[] { 3, 100 }));
        Assert.That(z, Is.EqualTo(Enumerable.Range(0, 300).Select(i => (float)((i - 150) / 37.0)).ToArray()));
        Assert.That(Npy.Encode(z, 3, 100), Is.EqualTo(File.ReadAllBytes(Fixture("latents_3x100_f4.npy"))), "byte for byte numpy.save's output");
        var (img, s) = Npy.Read(Fixture("images_2x1x28x28_f4.npy"));
        Assert.That(s, Is.EqualTo(new[] { 2, 1, 28, 28 }));
        Assert.That(img[1567], Is.EqualTo((float)(1567 / 1568.0)));
        Assert.That(Npy.Encode(img, 2, 1, 28, 28), Is.EqualTo(File.ReadAllBytes(Fixture("images_2x1x28x28_f4.npy"))));
        var (v, vs) = Npy.Read(Fixture("vector_5_f4.npy"));
        Assert.That(vs, Is.EqualTo(new[] { 5 }));
        Assert.That(Npy.Encode(v, 5), Is.EqualTo(File.ReadAllBytes(Fixture("vector_5_f4.npy"))), "1-d shapes are written '(5,)'");
    }

    [Test]
    public void Refuses_other_dtypes_fortran_order_and_damaged_files_naming_the_file()
    {
        Assert.That(Assert.Throws<DataException>(() => Npy.Read(Fixture("latents_3x100_f8.npy")))!.Message, Does.Contain("latents_3x100_f8.npy").And.Contain("'<f8'"));
        Assert.That(Assert.Throws<DataException>(() => Npy.Read(Fixture("fortran_2x3_f4.npy")))!.Message, Does.Contain("Fortran"));
        var bytes = File.ReadAllBytes(Fixture("latents_3x100_f4.npy"));
        var cut = Path.Combine(Path.GetTempPath(), $"qgen-cut-{Guid.NewGuid():N}.npy");
        try
        {
            File.WriteAllBytes(cut, bytes[..^8]);
            Assert.That(Assert.Throws<DataException>(() => Npy.Read(cut))!.Message, Does.Contain(cut).And.Contain("data bytes"));
            File.WriteAllBytes(cut, "not numpy"u8.ToArray());
            Assert.That(Assert.Throws<DataException>(() => Npy.Read(cut))!.Message, Does.Contain("magic"));
        }
        finally { File.Delete(cut); }
    }
}
