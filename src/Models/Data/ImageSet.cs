namespace QGenEngine.Models.Data;

/// <summary>One split of an image data set: N grey images of H×W, pixels in [0, 1], and their labels.</summary>
public sealed class ImageSet(float[] pixels, byte[] labels, int height, int width, string source)
{
    public float[] Pixels { get; } = pixels;
    public byte[] Labels { get; } = labels;
    public int Count => Labels.Length;
    public int Height { get; } = height;
    public int Width { get; } = width;
    public int PixelsPerImage => Height * Width;
    public string Source { get; } = source;

    public ReadOnlySpan<float> Image(int i) => Pixels.AsSpan(i * PixelsPerImage, PixelsPerImage);

    /// <summary>The first n images.</summary>
    public ImageSet Take(int n) => n >= Count ? this : new ImageSet(Pixels[..(n * PixelsPerImage)], Labels[..n], Height, Width, $"{Source}[:{n}]");
}
