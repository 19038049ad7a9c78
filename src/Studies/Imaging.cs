using QGenEngine.Autograd;
using SkiaSharp;

namespace QGenEngine.Studies;

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

    /// <summary>
    /// Rows of 28×28 images in [0, 1], each row named in the picture itself (its label at the left, white on dark grey),
    /// so that a reader never counts rows against a caption. A null row's images draw as an empty row (a run not finished).
    /// </summary>
    public static void SaveLabelledRows(string path, IReadOnlyList<(string Label, float[]? Images)> rows, int perRow, int scale = 2)
    {
        const int pad = 2, labelWidth = 190;
        int cell = 28 * scale + pad;
        int W = labelWidth + perRow * cell + pad, H = rows.Count * cell + pad;
        var info = new SKImageInfo(W, H, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var surface = SKSurface.Create(info);
        var canvas = surface.Canvas;
        canvas.Clear(new SKColor(60, 60, 60));
        using var font = new SKFont(SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default, 13);
        using var paint = new SKPaint { Color = SKColors.White, IsAntialias = true };
        using var bmp = new SKBitmap(28 * scale, 28 * scale, SKColorType.Gray8, SKAlphaType.Opaque);
        var px = new byte[28 * scale * 28 * scale];
        for (int r = 0; r < rows.Count; r++)
        {
            int y0 = pad + r * cell;
            canvas.DrawText(rows[r].Label, 6, y0 + 28 * scale / 2f + 5, SKTextAlign.Left, font, paint);
            if (rows[r].Images is not { } images) continue;
            for (int k = 0; k < Math.Min(perRow, images.Length / 784); k++)
            {
                for (int y = 0; y < 28 * scale; y++)
                    for (int x = 0; x < 28 * scale; x++)
                        px[y * 28 * scale + x] = (byte)Math.Clamp(MathF.Round(images[k * 784 + y / scale * 28 + x / scale] * 255), 0, 255);
                System.Runtime.InteropServices.Marshal.Copy(px, 0, bmp.GetPixels(), px.Length);
                canvas.DrawBitmap(bmp, labelWidth + k * cell, y0);
            }
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
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

    /// <summary>
    /// One panel per scalar (TensorBoard's one chart per scalar: a qvae's test SSIM in 0-1 never shares an axis with
    /// losses in the hundreds): every scalar the model reports per step (the raw trace faint, an exponential moving
    /// average over about 1/40 of the run on top), then each per-epoch validation value (test_*) as points, two
    /// panels a row under the run's title.
    /// </summary>
    public static bool SaveLossPlot(string path, (string[] Columns, List<double[]> Rows) steps,
                                    IReadOnlyList<System.Text.Json.Nodes.JsonObject> epochs, string title)
    {
        var palette = new ScottPlot.Palettes.Category10();
        var panels = new List<ScottPlot.Plot>();
        var (cols, rows) = steps;
        if (rows.Count > 0)
        {
            double[] x = rows.Select(r => r[1]).ToArray();
            double alpha = 2.0 / (Math.Max(1, rows.Count / 40) + 1);
            for (int c = 2; c < cols.Length; c++)
            {
                double[] raw = rows.Select(r => r[c]).ToArray();
                var smooth = new double[raw.Length];
                double ema = 0, weight = 0;
                for (int i = 0; i < raw.Length; i++)
                {
                    ema = (1 - alpha) * ema + alpha * raw[i]; weight = (1 - alpha) * weight + alpha;
                    smooth[i] = ema / weight;   // debiased, so the curve starts at the first value
                }
                var plt = new ScottPlot.Plot();
                var col = palette.GetColor(panels.Count);
                var faint = plt.Add.Scatter(x, raw);
                faint.Color = col.WithAlpha(0.25); faint.MarkerSize = 0; faint.LineWidth = 1;
                var line = plt.Add.Scatter(x, smooth);
                line.Color = col; line.MarkerSize = 0; line.LineWidth = 2;
                plt.Title(cols[c] + " (per step)"); plt.XLabel("epoch");
                panels.Add(plt);
            }
        }
        foreach (var key in epochs.SelectMany(m => m.Select(kv => kv.Key)).Distinct().Where(k => k.StartsWith("test_", StringComparison.Ordinal)))
        {
            var pts = epochs.Where(m => m[key] is not null).ToList();
            var plt = new ScottPlot.Plot();
            var s = plt.Add.Scatter(pts.Select(m => (double)m["epoch"]!.GetValue<int>()).ToArray(), pts.Select(m => m[key]!.GetValue<double>()).ToArray());
            s.Color = palette.GetColor(panels.Count); s.MarkerSize = 8; s.LineWidth = 1;
            plt.Title(key + " (end of epoch)"); plt.XLabel("epoch");
            panels.Add(plt);
        }
        if (panels.Count == 0) return false;
        SavePanels(panels, path, title);
        return true;
    }

    /// <summary>Panels side by side, <paramref name="columns"/> a row, under a title: one PNG written atomically.</summary>
    public static void SavePanels(IReadOnlyList<ScottPlot.Plot> panels, string path, string title, int columns = 2, int panelWidth = 460, int panelHeight = 280)
    {
        const int header = 34;
        int cols = Math.Min(columns, panels.Count), rows = (panels.Count + cols - 1) / cols;
        using var surface = SKSurface.Create(new SKImageInfo(cols * panelWidth, header + rows * panelHeight, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default, 17);
        using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText(title, cols * panelWidth / 2f, 24, SKTextAlign.Center, font, paint);
        for (int i = 0; i < panels.Count; i++)
        {
            using var bmp = SKBitmap.Decode(panels[i].GetImageBytes(panelWidth, panelHeight, ScottPlot.ImageFormat.Png));
            canvas.DrawBitmap(bmp, i % cols * panelWidth, header + i / cols * panelHeight);
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, s => data.SaveTo(s));
    }

    /// <summary>FID per epoch (left axis), IS and modes covered (right axis), for the epochs that measured them.</summary>
    public static bool SaveQualityPlot(string path, IReadOnlyList<System.Text.Json.Nodes.JsonObject> epochs, string title)
    {
        var pts = epochs.Where(m => m["fid"] is not null).ToList();
        if (pts.Count == 0) return false;
        double[] ep = pts.Select(m => (double)m["epoch"]!.GetValue<int>()).ToArray();
        double[] Col(string k) => pts.Select(m => double.Parse(m[k]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var plt = new ScottPlot.Plot();
        var fid = plt.Add.Scatter(ep, Col("fid"));
        fid.LegendText = $"FID ({pts[0]["fid_samples"]} samples vs the test set; MNIST-classifier features)"; fid.LineWidth = 2;
        var isS = plt.Add.Scatter(ep, Col("is"));
        isS.LegendText = "IS (right axis, at most 10)"; isS.Axes.YAxis = plt.Axes.Right;
        var modes = plt.Add.Scatter(ep, Col("modes"));
        modes.LegendText = "classes covered (right axis, of 10)"; modes.Axes.YAxis = plt.Axes.Right; modes.LinePattern = ScottPlot.LinePattern.Dashed;
        plt.Axes.Right.Min = 0; plt.Axes.Right.Max = 10.5;
        plt.Axes.Right.Label.Text = "IS, classes covered";
        plt.Title(title); plt.XLabel("epoch"); plt.YLabel("FID (lower is better)"); plt.ShowLegend(ScottPlot.Edge.Bottom);
        Save(plt, path);
        return true;
    }

    /// <summary>
    /// A codebook's health: the share of uses of every code over the last epoch, codes sorted from the most used, beside
    /// the uniform share 1/K; the title gives perplexity, codes used and dead codes of every epoch so far.
    /// </summary>
    public static bool SaveCodebookPlot(string path, IReadOnlyList<System.Text.Json.Nodes.JsonObject> epochs, string title)
    {
        var pts = epochs.Where(m => m["code_counts"] is System.Text.Json.Nodes.JsonArray).ToList();
        if (pts.Count == 0) return false;
        var last = pts[^1];
        double[] counts = last["code_counts"]!.AsArray().Select(c => double.Parse(c!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture))
                                             .OrderDescending().ToArray();
        double total = Math.Max(1, counts.Sum());
        var plt = new ScottPlot.Plot();
        var rank = Enumerable.Range(0, counts.Length).Select(i => (double)i).ToArray();
        var bars = plt.Add.Scatter(rank, counts.Select(c => 100 * c / total).ToArray());
        bars.MarkerSize = 0; bars.LineWidth = 2; bars.FillY = true; bars.FillYColor = bars.Color.WithAlpha(0.3);
        bars.LegendText = $"epoch {last["epoch"]}: share of uses per code (sorted)";
        var uniform = plt.Add.HorizontalLine(100.0 / counts.Length);
        uniform.LinePattern = ScottPlot.LinePattern.Dashed; uniform.LegendText = $"uniform share 1/K = {100.0 / counts.Length:0.###} %";
        string history = string.Join("   ", pts.TakeLast(3).Select(m =>
            $"e{m["epoch"]}: ppl {double.Parse(m["perplexity"]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture):F0}, {m["codes_used"]} used"));
        plt.Title($"{title}\n{history}"); plt.XLabel($"code rank (of {counts.Length})"); plt.YLabel("share of uses (%)");
        plt.ShowLegend(ScottPlot.Edge.Bottom);
        Save(plt, path);
        return true;
    }

    /// <summary>
    /// The circuits' learning per epoch: the mean gradient norm of their angles (left axis; a barren plateau shows as a
    /// norm falling towards 0) and how far the angles moved from their initial values (right axis, L2, radians).
    /// </summary>
    public static bool SaveCircuitPlot(string path, IReadOnlyList<System.Text.Json.Nodes.JsonObject> epochs, string title)
    {
        var keys = epochs.SelectMany(m => m.Select(kv => kv.Key)).Distinct().Where(k => k.StartsWith("circuit_", StringComparison.Ordinal)).ToList();
        if (keys.Count == 0) return false;
        var plt = new ScottPlot.Plot();
        foreach (var key in keys)
        {
            var pts = epochs.Where(m => m[key] is not null).ToList();
            var line = plt.Add.Scatter(pts.Select(m => (double)m["epoch"]!.GetValue<int>()).ToArray(),
                                       pts.Select(m => double.Parse(m[key]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture)).ToArray());
            bool angle = key.Contains("angle", StringComparison.Ordinal);
            line.LegendText = key.Replace("circuit_", "", StringComparison.Ordinal).Replace('_', ' ') + (angle ? " (right axis, rad)" : "");
            if (angle) { line.Axes.YAxis = plt.Axes.Right; line.LinePattern = ScottPlot.LinePattern.Dashed; }
            line.LineWidth = 2;
        }
        plt.Axes.Right.Label.Text = "L2 distance of the angles from their start";
        plt.Title(title); plt.XLabel("epoch"); plt.YLabel("mean gradient norm of the angles"); plt.ShowLegend(ScottPlot.Edge.Bottom);
        Save(plt, path);
        return true;
    }

    /// <summary>route.png: mean reconstruction SSIM against the quantum share for the router, random routing and the oracle, and the served router's point.</summary>
    public static void SaveRoutePlot(string path, QGenEngine.Models.RouteEvaluation r, string title)
    {
        var plt = new ScottPlot.Plot();
        var x = r.Curve.Select(p => p.Share).ToArray();
        foreach (var (name, y, pattern) in new (string, double[], ScottPlot.LinePattern)[]
                 {
                     ("oracle (knows each input's gain)", r.Curve.Select(p => p.Oracle).ToArray(), ScottPlot.LinePattern.Dotted),
                     ("router (highest estimated difficulty)", r.Curve.Select(p => p.Router).ToArray(), ScottPlot.LinePattern.Solid),
                     ("random (expected)", r.Curve.Select(p => p.Random).ToArray(), ScottPlot.LinePattern.Dashed),
                 })
        {
            var line = plt.Add.Scatter(x, y);
            line.LegendText = name; line.LinePattern = pattern; line.LineWidth = 2;
        }
        var served = plt.Add.Scatter(new[] { r.Router.Share }, new[] { r.Router.Ssim });
        served.LegendText = r.QualityTarget is { } q ? $"served online (quality target {q:F3})" : "served online (streaming threshold)";
        served.MarkerSize = 10; served.LineWidth = 0;
        plt.Title(title); plt.XLabel("share of inputs sent to the quantum model"); plt.YLabel("mean reconstruction SSIM");
        plt.ShowLegend(ScottPlot.Edge.Bottom);
        Save(plt, path);
    }

    /// <summary>A configuration's curve: per epoch, the mean over the seeds that have a finite value there, the lowest and the
    /// highest of them (the band) and how many there were; epochs in order.</summary>
    public static List<(double Epoch, double Mean, double Low, double High, int N)> OverSeeds(IReadOnlyList<List<(int Epoch, double Value)>> seeds) =>
        seeds.SelectMany(s => s).Where(p => double.IsFinite(p.Value)).GroupBy(p => p.Epoch).OrderBy(g => g.Key)
             .Select(g => ((double)g.Key, g.Average(p => p.Value), g.Min(p => p.Value), g.Max(p => p.Value), g.Count())).ToList();

    /// <summary>
    /// A study's per-epoch curves of one key, one line per configuration: the mean over its seeds at each epoch, with a
    /// shaded band from the lowest seed to the highest where more than one seed has that epoch.
    /// </summary>
    public static bool SaveCurves(string path, IReadOnlyList<(string Label, IReadOnlyList<List<(int Epoch, double Value)>> Seeds)> series, string title, string key)
    {
        var plt = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int colour = 0;
        foreach (var (label, seeds) in series)
        {
            var byEpoch = OverSeeds(seeds);
            if (byEpoch.Count == 0) continue;
            var col = palette.GetColor(colour++);
            var spread = byEpoch.Where(e => e.N > 1).ToList();
            if (spread.Count > 1)
            {
                var band = plt.Add.FillY(spread.Select(e => e.Epoch).ToArray(), spread.Select(e => e.Low).ToArray(), spread.Select(e => e.High).ToArray());
                band.FillStyle.Color = col.WithAlpha(0.18); band.LineStyle.Width = 0;
            }
            int n = seeds.Count(s => s.Count > 0);
            var line = plt.Add.Scatter(byEpoch.Select(e => e.Epoch).ToArray(), byEpoch.Select(e => e.Mean).ToArray());
            line.LegendText = n > 1 ? $"{label} (n={n})" : label; line.LineWidth = 2; line.MarkerSize = 5; line.Color = col;
        }
        // Whole epochs only (left to itself the axis ticks 1.2, 1.4, ... on a short run), at most ~20 labels.
        int last = series.SelectMany(x => x.Seeds).SelectMany(p => p).Select(p => p.Epoch).DefaultIfEmpty(1).Max();
        int step = Math.Max(1, (int)Math.Ceiling(last / 20.0));
        var ticks = Enumerable.Range(1, last).Where(e => e == 1 || e % step == 0).Select(e => (double)e).ToArray();
        plt.Axes.Bottom.SetTicks(ticks, ticks.Select(t => t.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plt.Title(title); plt.XLabel("epoch"); plt.YLabel(key); plt.ShowLegend(ScottPlot.Edge.Right);
        Save(plt, path);
        return true;
    }

    /// <summary>An ablation: a score against the option's values, per model; each seed a point, the mean over seeds a line (log scale optional).</summary>
    public static bool SaveAblationPlot(string path, string option, IReadOnlyList<string> values,
                                        IReadOnlyList<(string Model, string Variation, double? Y)> runs, string yLabel, bool logY = false)
    {
        var plt = new ScottPlot.Plot();
        bool any = false;
        var palette = new ScottPlot.Palettes.Category10();
        int colour = 0;
        double Y(double v) => logY ? Math.Log10(v) : v;
        foreach (var model in runs.Select(r => r.Model).Distinct())
        {
            var xs = new List<double>(); var ys = new List<double>(); var mx = new List<double>(); var my = new List<double>();
            for (int i = 0; i < values.Count; i++)
            {
                var v = runs.Where(r => r.Model == model && r.Variation == $"{option}={values[i]}" && r.Y is { } y && double.IsFinite(y) && (!logY || y > 0))
                            .Select(r => r.Y!.Value).ToList();
                foreach (var y in v) { xs.Add(i); ys.Add(Y(y)); }
                if (v.Count > 0) { mx.Add(i); my.Add(Y(v.Average())); }
            }
            if (mx.Count == 0) continue;
            any = true;
            var col = palette.GetColor(colour++);
            var pts = plt.Add.Scatter(xs.ToArray(), ys.ToArray()); pts.LineWidth = 0; pts.MarkerSize = 6; pts.Color = col.WithAlpha(0.5);
            var line = plt.Add.Scatter(mx.ToArray(), my.ToArray()); line.LineWidth = 2; line.Color = col; line.LegendText = model + " (mean over seeds)";
        }
        if (!any) return false;
        plt.Axes.Bottom.SetTicks(Enumerable.Range(0, values.Count).Select(i => (double)i).ToArray(), values.ToArray());
        if (logY)
        {
            var ticks = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => Math.Pow(10, v).ToString("G3", System.Globalization.CultureInfo.InvariantCulture) };
            plt.Axes.Left.TickGenerator = ticks;
        }
        plt.Title($"ablation: {option}"); plt.XLabel(option); plt.YLabel(yLabel + (logY ? " (log scale)" : ""));
        plt.ShowLegend(ScottPlot.Edge.Bottom);
        Save(plt, path);
        return true;
    }

    /// <summary>
    /// landscape-*.png: the variance at random angles of the first angle's partial derivative (log scale) against one axis of the scan (layers or
    /// qubits), one line per value of the other axis and cost, each point with its ±2 standard-error bar; a barren
    /// plateau is a straight falling line (an exponential fall).
    /// </summary>
    public static bool SaveLandscapePlot(string path, string xLabel, IReadOnlyList<(string Series, IReadOnlyList<(double X, double Y, double Se)> Points)> series, string title)
    {
        var plt = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int colour = 0;
        bool any = false;
        foreach (var (name, points) in series)
        {
            var pts = points.Where(p => p.Y > 0 && double.IsFinite(p.Y)).OrderBy(p => p.X).ToList();
            if (pts.Count == 0) continue;
            any = true;
            var col = palette.GetColor(colour++ % 10);
            var line = plt.Add.Scatter(pts.Select(p => p.X).ToArray(), pts.Select(p => Math.Log10(p.Y)).ToArray());
            line.LegendText = name; line.LineWidth = 2; line.Color = col; line.MarkerSize = 5;
            if (name.Contains("global", StringComparison.Ordinal)) line.LinePattern = ScottPlot.LinePattern.Dashed;
            foreach (var p in pts)   // ±2 SE, clipped at a tenth of the value below (a log axis has no zero)
            {
                double lo = Math.Log10(Math.Max(p.Y - 2 * p.Se, p.Y / 10)), hi = Math.Log10(p.Y + 2 * p.Se);
                var bar = plt.Add.Line(p.X, lo, p.X, hi); bar.Color = col.WithAlpha(0.6); bar.LineWidth = 1;
            }
        }
        if (!any) return false;
        var xs = series.SelectMany(x => x.Points.Select(p => p.X)).Distinct().Order().ToArray();
        plt.Axes.Bottom.SetTicks(xs, xs.Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => Math.Pow(10, v).ToString("G2", System.Globalization.CultureInfo.InvariantCulture),
        };
        plt.Title(title); plt.XLabel(xLabel); plt.YLabel("Var[dC/dθ] of layer 1's RY on qubit 0 (log scale)");
        plt.ShowLegend(ScottPlot.Edge.Right);
        Save(plt, path);
        return true;
    }

    /// <summary>A plot written through a temporary file and renamed, like every file of a run.</summary>
    private static void Save(ScottPlot.Plot plt, string path)
    {
        var png = plt.GetImageBytes(880, 500, ScottPlot.ImageFormat.Png);
        AtomicFile.Write(path, s => s.Write(png));
    }

    /// <summary>A PNG of any size as grey values in [0, 1] (colour is converted by luminance), with its width and height.</summary>
    public const long MaxPixels = 4096L * 4096;

    public static (float[] Pixels, int Width, int Height) ReadPng(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found");
        // The size from the header first: a few KB that declare 30,000 × 30,000 pixels are refused before they inflate.
        using (var codec = SKCodec.Create(path) ?? throw new FormatException($"{path}: not a readable PNG"))
            if ((long)codec.Info.Width * codec.Info.Height > MaxPixels)
                throw new FormatException($"{path}: {codec.Info.Width}×{codec.Info.Height} pixels; images here are at most {MaxPixels:N0} pixels (e.g. 4096×4096)");
        using var bmp = SKBitmap.Decode(path) ?? throw new FormatException($"{path}: not a readable PNG");
        var dst = new float[bmp.Width * bmp.Height];
        for (int y = 0; y < bmp.Height; y++)
            for (int x = 0; x < bmp.Width; x++)
            {
                var c = bmp.GetPixel(x, y);
                dst[y * bmp.Width + x] = (0.299f * c.Red + 0.587f * c.Green + 0.114f * c.Blue) / 255f;
            }
        return (dst, bmp.Width, bmp.Height);
    }
}
