namespace QGenEngine.Tensors;

/// <summary>Shape arithmetic of a 2-D convolution (PyTorch conventions, groups = 1, dilation = 1).</summary>
public readonly record struct ConvGeometry(
    int Batch, int InChannels, int InH, int InW,
    int OutChannels, int KernelH, int KernelW,
    int StrideH, int StrideW, int PadH, int PadW,
    int OutH, int OutW)
{
    /// <summary>Conv2d: x (N,C,H,W), weight (OC,C,KH,KW) → (N,OC,OH,OW).</summary>
    public static ConvGeometry Conv(int n, int c, int h, int w, int oc, int kh, int kw, int sh, int sw, int ph, int pw)
    {
        int oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1;
        if (oh <= 0 || ow <= 0) throw new ArgumentException($"conv2d: input {h}x{w} is too small for kernel {kh}x{kw} with padding {ph},{pw}");
        return new(n, c, h, w, oc, kh, kw, sh, sw, ph, pw, oh, ow);
    }
}

/// <summary>
/// Shape arithmetic of a 2-D transposed convolution (PyTorch conventions, groups = 1, dilation = 1): x (N,Cin,H,W),
/// weight (Cin,Cout,KH,KW) → (N,Cout,OH,OW) with OH = (H−1)·s − 2p + KH + outputPadding. The In* fields are its
/// input, the Out* fields its output.
/// </summary>
public readonly record struct TransposedConvGeometry(
    int Batch, int InChannels, int InH, int InW,
    int OutChannels, int KernelH, int KernelW,
    int StrideH, int StrideW, int PadH, int PadW,
    int OutH, int OutW)
{
    public static TransposedConvGeometry Create(int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw, int ph, int pw, int oph = 0, int opw = 0)
    {
        int oh = (h - 1) * sh - 2 * ph + kh + oph, ow = (w - 1) * sw - 2 * pw + kw + opw;
        if (oh <= 0 || ow <= 0) throw new ArgumentException($"conv_transpose2d: output size {oh}x{ow} is not positive");
        return new(n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, oh, ow);
    }

    /// <summary>
    /// The convolution whose data gradient this transposed convolution is: from this one's output (Cout, OH, OW) to
    /// its input (Cin, H, W), with the same kernel, stride and padding. A backend that runs the transposed
    /// convolution as a convolution run backwards (im2col, GEMM, col2im) works in this geometry.
    /// </summary>
    public ConvGeometry Adjoint => new(Batch, OutChannels, OutH, OutW, InChannels, KernelH, KernelW, StrideH, StrideW, PadH, PadW, InH, InW);
}

/// <summary>Max-pool geometry: x (N,C,H,W) → (N,C,OH,OW).</summary>
public readonly record struct PoolGeometry(int Batch, int Channels, int InH, int InW, int Kernel, int Stride, int Pad, int OutH, int OutW)
{
    public static PoolGeometry Create(int n, int c, int h, int w, int k, int s, int p)
    {
        int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
        if (oh <= 0 || ow <= 0 || p > k / 2) throw new ArgumentException($"max_pool2d: bad geometry for input {h}x{w}, kernel {k}, stride {s}, padding {p}");
        return new(n, c, h, w, k, s, p, oh, ow);
    }
}
