namespace QGenEngine.Models.Data;

/// <summary>
/// Training augmentation (MODELS.md): a random rotation in ±10° and a random translation in ±2 px per
/// image, bilinear, zero outside. The draw for (seed, epoch, index) is a pure function of them, so a
/// resumed run augments exactly as an uninterrupted one.
/// </summary>
public static class Augment
{
    public const float MaxDegrees = 10f, MaxShift = 2f;

    public static void Apply(ReadOnlySpan<float> src, Span<float> dst, int h, int w, ulong seed, ulong key)
    {
        float deg = (2 * CounterRng.Uniform(seed, key * 3) - 1) * MaxDegrees;
        float dx = (2 * CounterRng.Uniform(seed, key * 3 + 1) - 1) * MaxShift;
        float dy = (2 * CounterRng.Uniform(seed, key * 3 + 2) - 1) * MaxShift;
        Transform(src, dst, h, w, deg * MathF.PI / 180, dx, dy);
    }

    /// <summary>dst(p) = src(R⁻¹(p − c − t) + c): rotate by angle about the centre, then shift by (dx, dy).</summary>
    public static void Transform(ReadOnlySpan<float> src, Span<float> dst, int h, int w, float angle, float dx, float dy)
    {
        float cy = (h - 1) / 2f, cx = (w - 1) / 2f, cos = MathF.Cos(angle), sin = MathF.Sin(angle);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float px = x - cx - dx, py = y - cy - dy;
                float sx = cos * px + sin * py + cx, sy = -sin * px + cos * py + cy;
                int x0 = (int)MathF.Floor(sx), y0 = (int)MathF.Floor(sy);
                float fx = sx - x0, fy = sy - y0, v = 0;
                for (int k = 0; k < 4; k++)
                {
                    int xi = x0 + (k & 1), yi = y0 + (k >> 1);
                    if ((uint)xi >= (uint)w || (uint)yi >= (uint)h) continue;
                    v += src[yi * w + xi] * ((k & 1) == 1 ? fx : 1 - fx) * ((k >> 1) == 1 ? fy : 1 - fy);
                }
                dst[y * w + x] = v;
            }
    }
}
