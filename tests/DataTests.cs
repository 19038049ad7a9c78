using System.IO.Compression;
using System.Text.Json;
using QGenEngine.Models.Data;
using QGenEngine.Models.Metrics;

using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

[TestFixture]
public class DataTests : TempDirTest
{

    [Test]
    public void The_embedded_mnist_loads_with_its_checksums()
    {
        var (dir, verify) = DataSets.Resolve("mnist", null);
        Assert.That(verify, Is.True);
        var test = DataSets.Load(dir, "t10k", verify);
        Assert.That(test.Count, Is.EqualTo(10_000));
        Assert.That((test.Height, test.Width), Is.EqualTo((28, 28)));
        Assert.That(test.Labels.Take(8), Is.EqualTo(new byte[] { 7, 2, 1, 0, 4, 1, 4, 9 }), "the well-known first test labels");
        Assert.That(test.Pixels.Min(), Is.EqualTo(0f));
        Assert.That(test.Pixels.Max(), Is.EqualTo(1f));
        Assert.That(Enumerable.Range(0, 10).All(d => test.Labels.Count(l => l == d) > 800));
    }

    [Test]
    public void Fashion_mnist_loads_from_debians_package()
    {
        if (!Directory.Exists(DataSets.FashionDir)) Assert.Ignore($"{DataSets.FashionDir} is missing: apt-get install dataset-fashion-mnist");
        var (dir, verify) = DataSets.Resolve("fashion", null);
        var test = DataSets.Load(dir, "t10k", verify);
        Assert.That(test.Count, Is.EqualTo(10_000));
        Assert.That(test.Labels.Max(), Is.EqualTo(9));
    }

    private static byte[] Header(int magic, params int[] dims)
    {
        var b = new List<byte>();
        foreach (int v in new[] { magic }.Concat(dims)) b.AddRange([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
        return b.ToArray();
    }

    private void WriteSet(int images, int labels, int imageMagic = 0x803, int truncateBy = 0, bool gz = true)
    {
        var img = Header(imageMagic, images, 28, 28).Concat(new byte[images * 784 - truncateBy]).ToArray();
        var lbl = Header(0x801, labels).Concat(new byte[labels]).ToArray();
        void W(string name, byte[] data)
        {
            if (!gz) { File.WriteAllBytes(Path.Combine(Dir, name), data); return; }
            using var fs = File.Create(Path.Combine(Dir, name + ".gz"));
            using var z = new GZipStream(fs, CompressionLevel.Fastest);
            z.Write(data);
        }
        W("train-images-idx3-ubyte", img); W("train-labels-idx1-ubyte", lbl);
    }

    [Test]
    public void Any_idxDirectory_loads_gzipped_or_not()
    {
        WriteSet(5, 5);
        Assert.That(DataSets.Load(Dir, "train", false).Count, Is.EqualTo(5));
        foreach (var f in Directory.GetFiles(Dir)) File.Delete(f);
        WriteSet(3, 3, gz: false);
        Assert.That(DataSets.Load(Dir, "train", false).Count, Is.EqualTo(3));
    }

    [Test]
    public void Bad_data_is_a_clear_error_that_names_the_file()
    {
        string Err(Action a) => Assert.Throws<DataException>(() => a())!.Message;
        Assert.That(Err(() => DataSets.Load(Dir, "train", false)), Does.Contain("train-images-idx3-ubyte").And.Contain("not found"));
        WriteSet(4, 4, imageMagic: 0x801);
        Assert.That(Err(() => DataSets.Load(Dir, "train", false)), Does.Contain("train-images-idx3-ubyte.gz").And.Contain("magic number 0x00000801"));
        WriteSet(4, 4, truncateBy: 100);
        Assert.That(Err(() => DataSets.Load(Dir, "train", false)), Does.Contain("truncated"));
        WriteSet(4, 3);
        Assert.That(Err(() => DataSets.Load(Dir, "train", false)), Does.Contain("3 labels for 4 images"));
        File.WriteAllBytes(Path.Combine(Dir, "train-images-idx3-ubyte.gz"), [1, 2, 3, 4]);
        Assert.That(Err(() => DataSets.Load(Dir, "train", false)), Does.Contain("gzip"));
        // A checksum mismatch: the embedded copy's labels with one byte changed.
        var (mnist, _) = DataSets.Resolve("mnist", null);
        var bad = Path.Combine(Dir, "bad"); Directory.CreateDirectory(bad);
        File.Copy(Path.Combine(mnist, "t10k-images-idx3-ubyte.gz"), Path.Combine(bad, "t10k-images-idx3-ubyte.gz"));
        var labels = Idx.ReadAll(Path.Combine(mnist, "t10k-labels-idx1-ubyte.gz"));
        labels[100] ^= 1;
        File.WriteAllBytes(Path.Combine(bad, "t10k-labels-idx1-ubyte"), labels);
        Assert.That(Err(() => DataSets.Load(bad, "t10k", verify: true)), Does.Contain("t10k-labels-idx1-ubyte").And.Contain("SHA-256"));
        Assert.That(Err(() => DataSets.Resolve("mnist", Path.Combine(Dir, "nope"))), Does.Contain("nope"));
    }

    [Test]
    public void Augmentation_is_seeded_small_and_the_identity_at_zero()
    {
        var (dir, _) = DataSets.Resolve("mnist", null);
        var img = DataSets.Load(dir, "t10k", false).Image(0).ToArray();
        var same = new float[784];
        Augment.Transform(img, same, 28, 28, 0, 0, 0);
        Assert.That(same, Is.EqualTo(img).Within(1e-6f));
        var shifted = new float[784];
        Augment.Transform(img, shifted, 28, 28, 0, 1, 0);
        for (int y = 0; y < 28; y++) for (int x = 1; x < 28; x++) Assert.That(shifted[y * 28 + x], Is.EqualTo(img[y * 28 + x - 1]).Within(1e-6f));
        var a = new float[784]; var b = new float[784]; var c = new float[784];
        Augment.Apply(img, a, 28, 28, 1, 42); Augment.Apply(img, b, 28, 28, 1, 42); Augment.Apply(img, c, 28, 28, 1, 43);
        Assert.That(b, Is.EqualTo(a));
        Assert.That(c, Is.Not.EqualTo(a));
        // A small change: the ink is kept and its centre moves by at most ~2 px (plus what a 10° turn adds).
        Assert.That(a.Sum(), Is.EqualTo(img.Sum()).Within(0.1 * img.Sum()), "ink kept");
        (double X, double Y) Centre(float[] v) => (v.Select((p, i) => p * (i % 28)).Sum() / v.Sum(), v.Select((p, i) => p * (i / 28)).Sum() / v.Sum());
        var (x0, y0) = Centre(img); var (x1, y1) = Centre(a);
        Assert.That(Math.Sqrt((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)), Is.LessThan(4.0), "centre of mass moves a little");
    }

    [Test]
    public void Ssim_matches_scikit_image()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "ssim.json")));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            int h = c.GetProperty("h").GetInt32(), w = c.GetProperty("w").GetInt32();
            var a = c.GetProperty("a").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
            var b = c.GetProperty("b").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
            Assert.That(Ssim.Compute(a, b, h, w), Is.EqualTo(c.GetProperty("ssim").GetDouble()).Within(1e-6), c.GetProperty("name").GetString());
        }
    }
}
