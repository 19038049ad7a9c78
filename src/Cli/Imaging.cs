using QGenEngine.Autograd;
using SkiaSharp;

namespace QGenEngine.Cli;

/// <summary>Pictures of a run: grids of grey images (white digits on black, as MNIST) and the loss curves, written atomically.</summary>
public static class Imaging
{
    /// <summary>A rows × cols grid of h×w images in [0, 1], each scaled up and separated by a 2-pixel border.</summary>
    public static void SaveGrid(string path, float[] images, int count, int cols, int h = 28, int w = 28, int scale = 3)
    {
        int rows = (count + cols - 1) / cols, pad = 2;
        int W = cols * (w * scale + pad) + pad, H = rows * (h * scale + pad) + pad;
        using var bmp = new SKBitmap(W, H, SKColorType.Gray8, SKAlphaType.Opaque);
        var px = new byte[W * H];
        Array.Fill(px, (byte)60);
        for (int k = 0; k < count; k++)
        {
            int r = k / cols, c = k % cols, x0 = pad + c * (w * scale + pad), y0 = pad + r * (h * scale + pad);
            for (int y = 0; y < h * scale; y++)
                for (int x = 0; x < w * scale; x++)
                    px[(y0 + y) * W + x0 + x] = (byte)Math.Clamp(MathF.Round(images[k * h * w + y / scale * w + x / scale] * 255), 0, 255);
        }
        System.Runtime.InteropServices.Marshal.Copy(px, 0, bmp.GetPixels(), px.Length);
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, s => data.SaveTo(s));
    }

    /// <summary>One h×w grey image, pixel for pixel (what `metrics` reads back).</summary>
    public static void SaveImage(string path, ReadOnlySpan<float> image, int h = 28, int w = 28)
    {
        using var bmp = new SKBitmap(w, h, SKColorType.Gray8, SKAlphaType.Opaque);
        var px = new byte[w * h];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)Math.Clamp(MathF.Round(image[i] * 255), 0, 255);
        System.Runtime.InteropServices.Marshal.Copy(px, 0, bmp.GetPixels(), px.Length);
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, s => data.SaveTo(s));
    }

    /// <summary>Training loss (ELBO terms) and test reconstruction BCE per epoch.</summary>
    public static void SaveLossPlot(string path, IReadOnlyList<System.Text.Json.Nodes.JsonObject> metrics, string title)
    {
        var plt = new ScottPlot.Plot();
        double[] ep = metrics.Select(m => (double)m["epoch"]!.GetValue<int>()).ToArray();
        void Line(string key, string label)
        {
            var s = plt.Add.Scatter(ep, metrics.Select(m => m[key]!.GetValue<double>()).ToArray());
            s.LegendText = label;
        }
        Line("loss", "train loss (BCE + KL)");
        Line("bce", "train BCE");
        Line("test_bce", "test BCE (reconstruction)");
        plt.Title(title); plt.XLabel("epoch"); plt.YLabel("nats per image"); plt.ShowLegend();
        var tmp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp.png");
        plt.SavePng(tmp, 720, 440);
        File.Move(tmp, path, overwrite: true);
    }
}
