using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Reference;

// Convolution: convolutions and transposed convolutions. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class ReferenceDevice
{
    // x (N,C,H,W), w (OC,C,KH,KW) → y (N,OC,OH,OW): the definition, one output at a time.
    public void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, ConvGeometry g)
    {
        var X = Doubles(x); var W = Doubles(w); var Y = Doubles(y);
        for (int n = 0; n < g.Batch; n++)
            for (int oc = 0; oc < g.OutChannels; oc++)
                for (int oh = 0; oh < g.OutH; oh++)
                    for (int ow = 0; ow < g.OutW; ow++)
                    {
                        double s = bias is null ? 0 : Doubles(bias)[oc];
                        for (int c = 0; c < g.InChannels; c++)
                            for (int kh = 0; kh < g.KernelH; kh++)
                                for (int kw = 0; kw < g.KernelW; kw++)
                                {
                                    int ih = oh * g.StrideH - g.PadH + kh, iw = ow * g.StrideW - g.PadW + kw;
                                    if (ih < 0 || ih >= g.InH || iw < 0 || iw >= g.InW) continue;
                                    s += X[((n * g.InChannels + c) * g.InH + ih) * g.InW + iw] * W[((oc * g.InChannels + c) * g.KernelH + kh) * g.KernelW + kw];
                                }
                        Y[((n * g.OutChannels + oc) * g.OutH + oh) * g.OutW + ow] = s;
                    }
    }

    public void Conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, ConvGeometry g)
    {
        var X = Doubles(x); var W = Doubles(w); var G = Doubles(dy);
        if (dx is not null) Doubles(dx).Clear();
        for (int n = 0; n < g.Batch; n++)
            for (int oc = 0; oc < g.OutChannels; oc++)
                for (int oh = 0; oh < g.OutH; oh++)
                    for (int ow = 0; ow < g.OutW; ow++)
                    {
                        double gy = G[((n * g.OutChannels + oc) * g.OutH + oh) * g.OutW + ow];
                        if (db is not null) Doubles(db)[oc] += gy;
                        for (int c = 0; c < g.InChannels; c++)
                            for (int kh = 0; kh < g.KernelH; kh++)
                                for (int kw = 0; kw < g.KernelW; kw++)
                                {
                                    int ih = oh * g.StrideH - g.PadH + kh, iw = ow * g.StrideW - g.PadW + kw;
                                    if (ih < 0 || ih >= g.InH || iw < 0 || iw >= g.InW) continue;
                                    int xi = ((n * g.InChannels + c) * g.InH + ih) * g.InW + iw;
                                    int wi = ((oc * g.InChannels + c) * g.KernelH + kh) * g.KernelW + kw;
                                    if (dx is not null) Doubles(dx)[xi] += gy * W[wi];
                                    if (dw is not null) Doubles(dw)[wi] += gy * X[xi];
                                }
                    }
    }

    // x (N,Cin,H,W), w (Cin,Cout,KH,KW) → y (N,Cout,OH,OW): each input scatters a weighted kernel (PyTorch's definition).
    public void ConvTranspose2d(Tensor x, Tensor w, Tensor? bias, Tensor y, TransposedConvGeometry g)
    {
        int cin = g.InChannels, h = g.InH, wd = g.InW, cout = g.OutChannels, oh = g.OutH, ow = g.OutW;
        var X = Doubles(x); var W = Doubles(w); var Y = Doubles(y);
        for (int n = 0; n < g.Batch; n++)
            for (int co = 0; co < cout; co++)
                for (int i = 0; i < oh * ow; i++) Y[(n * cout + co) * oh * ow + i] = bias is null ? 0 : Doubles(bias)[co];
        for (int n = 0; n < g.Batch; n++)
            for (int ci = 0; ci < cin; ci++)
                for (int ih = 0; ih < h; ih++)
                    for (int iw = 0; iw < wd; iw++)
                    {
                        double xv = X[((n * cin + ci) * h + ih) * wd + iw];
                        for (int co = 0; co < cout; co++)
                            for (int kh = 0; kh < g.KernelH; kh++)
                                for (int kw = 0; kw < g.KernelW; kw++)
                                {
                                    int yh = ih * g.StrideH - g.PadH + kh, yw = iw * g.StrideW - g.PadW + kw;
                                    if (yh < 0 || yh >= oh || yw < 0 || yw >= ow) continue;
                                    Y[((n * cout + co) * oh + yh) * ow + yw] += xv * W[((ci * cout + co) * g.KernelH + kh) * g.KernelW + kw];
                                }
                    }
    }

    public void ConvTranspose2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, TransposedConvGeometry g)
    {
        int cin = g.InChannels, h = g.InH, wd = g.InW, cout = g.OutChannels, oh = g.OutH, ow = g.OutW;
        var X = Doubles(x); var W = Doubles(w); var G = Doubles(dy);
        if (db is not null)
            for (int n = 0; n < g.Batch; n++)
                for (int co = 0; co < cout; co++)
                    for (int i = 0; i < oh * ow; i++) Doubles(db)[co] += G[(n * cout + co) * oh * ow + i];
        for (int n = 0; n < g.Batch; n++)
            for (int ci = 0; ci < cin; ci++)
                for (int ih = 0; ih < h; ih++)
                    for (int iw = 0; iw < wd; iw++)
                    {
                        int xi = ((n * cin + ci) * h + ih) * wd + iw;
                        double s = 0;
                        for (int co = 0; co < cout; co++)
                            for (int kh = 0; kh < g.KernelH; kh++)
                                for (int kw = 0; kw < g.KernelW; kw++)
                                {
                                    int yh = ih * g.StrideH - g.PadH + kh, yw = iw * g.StrideW - g.PadW + kw;
                                    if (yh < 0 || yh >= oh || yw < 0 || yw >= ow) continue;
                                    int wi = ((ci * cout + co) * g.KernelH + kh) * g.KernelW + kw;
                                    double gy = G[((n * cout + co) * oh + yh) * ow + yw];
                                    s += gy * W[wi];
                                    if (dw is not null) Doubles(dw)[wi] += gy * X[xi];
                                }
                        if (dx is not null) Doubles(dx)[xi] = s;
                    }
    }
}
