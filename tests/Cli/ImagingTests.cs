using QGenEngine.Studies;
using System.Text.Json.Nodes;
using QGenEngine.Tests.Support;
using SkiaSharp;

namespace QGenEngine.Tests.Cli;

/// <summary>Pictures that read at a glance: loss.png gives every scalar its own panel (its own axis).</summary>
[TestFixture]
public class ImagingTests : TempDirTest
{
    [Test]
    public void Loss_plot_has_one_panel_per_scalar_each_with_its_own_scale()
    {
        // A qvae-like log: a loss in the hundreds, a KL near 10, and a test SSIM in 0-1.
        string[] cols = ["epoch", "epoch_frac", "loss", "kl"];
        var rows = Enumerable.Range(0, 200).Select(i => new double[] { 1 + i / 100, i / 100.0, 500 - i, 10 + 0.01 * i }).ToList();
        var epochs = new List<JsonObject> { new() { ["epoch"] = 1, ["test_ssim"] = 0.61 }, new() { ["epoch"] = 2, ["test_ssim"] = 0.72 } };
        var path = Path.Combine(Dir, "loss.png");
        Assert.That(Imaging.SaveLossPlot(path, (cols, rows), epochs, "qvae on mnist"), Is.True);
        using var bmp = SKBitmap.Decode(path);
        Assert.That((bmp.Width, bmp.Height), Is.EqualTo((2 * 460, 34 + 2 * 280)), "three panels (loss, kl, test_ssim): two a row, two rows");
        // Each of the three panels has a drawn curve; the fourth place stays empty.
        int Inked(int panel)
        {
            int x0 = panel % 2 * 460, y0 = 34 + panel / 2 * 280, n = 0;
            for (int y = y0 + 40; y < y0 + 240; y += 2)
                for (int x = x0 + 60; x < x0 + 440; x += 2)
                {
                    var c = bmp.GetPixel(x, y);
                    if (Math.Abs(c.Red - c.Blue) > 60 || Math.Abs(c.Green - c.Blue) > 60) n++;   // coloured: a curve, not grid or text
                }
            return n;
        }
        for (int p = 0; p < 3; p++) Assert.That(Inked(p), Is.GreaterThan(20), $"panel {p} has a curve");
        Assert.That(Inked(3), Is.Zero, "no fourth panel");
    }

    [Test]
    public void A_curve_over_seeds_is_each_epochs_mean_with_the_lowest_and_highest_seed()
    {
        // Three seeds; the third has no value at epoch 2 and a NaN at epoch 3 (a diverged FID): both count as absent there.
        var seeds = new List<List<(int Epoch, double Value)>>
        {
            new() { (1, 10), (2, 8), (3, 6) },
            new() { (2, 4), (1, 20), (3, 5) },
            new() { (1, 30), (3, double.NaN) },
        };
        var c = Imaging.OverSeeds(seeds);
        Assert.That(c.Select(e => e.Epoch), Is.EqualTo(new[] { 1.0, 2, 3 }), "epochs in order, whatever order the seeds list them in");
        Assert.That(c[0], Is.EqualTo((1.0, 20.0, 10.0, 30.0, 3)));
        Assert.That(c[1], Is.EqualTo((2.0, 6.0, 4.0, 8.0, 2)));
        Assert.That(c[2], Is.EqualTo((3.0, 5.5, 5.0, 6.0, 2)));
        Assert.That(Imaging.OverSeeds([new() { (1, 0.5) }]).Single(), Is.EqualTo((1.0, 0.5, 0.5, 0.5, 1)), "one seed: its own values, a band of no width");
        Assert.That(Imaging.OverSeeds([[], [(2, double.PositiveInfinity)]]), Is.Empty);
    }
}
