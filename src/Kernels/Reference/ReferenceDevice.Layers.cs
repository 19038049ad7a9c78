using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Reference;

// Convolutions, normalisation, pooling, softmax, losses, indexing and optimisers as direct loops.
public sealed partial class ReferenceDevice
{
    // x (N,C,H,W), w (OC,C,KH,KW) → y (N,OC,OH,OW): the definition, one output at a time.
    public void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, ConvGeometry g)
    {
        var X = D(x); var W = D(w); var Y = D(y);
        for (int n = 0; n < g.Batch; n++)
            for (int oc = 0; oc < g.OutChannels; oc++)
                for (int oh = 0; oh < g.OutH; oh++)
                    for (int ow = 0; ow < g.OutW; ow++)
                    {
                        double s = bias is null ? 0 : D(bias)[oc];
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
        var X = D(x); var W = D(w); var G = D(dy);
        if (dx is not null) D(dx).Clear();
        for (int n = 0; n < g.Batch; n++)
            for (int oc = 0; oc < g.OutChannels; oc++)
                for (int oh = 0; oh < g.OutH; oh++)
                    for (int ow = 0; ow < g.OutW; ow++)
                    {
                        double gy = G[((n * g.OutChannels + oc) * g.OutH + oh) * g.OutW + ow];
                        if (db is not null) D(db)[oc] += gy;
                        for (int c = 0; c < g.InChannels; c++)
                            for (int kh = 0; kh < g.KernelH; kh++)
                                for (int kw = 0; kw < g.KernelW; kw++)
                                {
                                    int ih = oh * g.StrideH - g.PadH + kh, iw = ow * g.StrideW - g.PadW + kw;
                                    if (ih < 0 || ih >= g.InH || iw < 0 || iw >= g.InW) continue;
                                    int xi = ((n * g.InChannels + c) * g.InH + ih) * g.InW + iw;
                                    int wi = ((oc * g.InChannels + c) * g.KernelH + kh) * g.KernelW + kw;
                                    if (dx is not null) D(dx)[xi] += gy * W[wi];
                                    if (dw is not null) D(dw)[wi] += gy * X[xi];
                                }
                    }
    }

    // x (N,Cin,H,W), w (Cin,Cout,KH,KW) → y (N,Cout,OH,OW): each input scatters a weighted kernel (PyTorch's definition).
    // In g, the transposed conv's input is g's "out" side and its output g's "in" side.
    public void ConvTranspose2d(Tensor x, Tensor w, Tensor? bias, Tensor y, ConvGeometry g)
    {
        int cin = g.OutChannels, h = g.OutH, wd = g.OutW, cout = g.InChannels, oh = g.InH, ow = g.InW;
        var X = D(x); var W = D(w); var Y = D(y);
        for (int n = 0; n < g.Batch; n++)
            for (int co = 0; co < cout; co++)
                for (int i = 0; i < oh * ow; i++) Y[(n * cout + co) * oh * ow + i] = bias is null ? 0 : D(bias)[co];
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

    public void ConvTranspose2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, ConvGeometry g)
    {
        int cin = g.OutChannels, h = g.OutH, wd = g.OutW, cout = g.InChannels, oh = g.InH, ow = g.InW;
        var X = D(x); var W = D(w); var G = D(dy);
        if (db is not null)
            for (int n = 0; n < g.Batch; n++)
                for (int co = 0; co < cout; co++)
                    for (int i = 0; i < oh * ow; i++) D(db)[co] += G[(n * cout + co) * oh * ow + i];
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
                                    if (dw is not null) D(dw)[wi] += gy * X[xi];
                                }
                        if (dx is not null) D(dx)[xi] = s;
                    }
    }

    public void BatchNorm(Tensor x, int n, int c, int s, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                          Tensor saveMean, Tensor saveInvStd, float momentum, float eps, Tensor y)
    {
        var X = D(x); var Y = D(y); int cnt = n * s;
        for (int ch = 0; ch < c; ch++)
        {
            double mean = 0, var = 0;
            for (int i = 0; i < n; i++) for (int j = 0; j < s; j++) mean += X[(i * c + ch) * s + j];
            mean /= cnt;
            for (int i = 0; i < n; i++) for (int j = 0; j < s; j++) { double d = X[(i * c + ch) * s + j] - mean; var += d * d; }
            var /= cnt;
            double inv = 1 / Math.Sqrt(var + eps);
            D(saveMean)[ch] = mean; D(saveInvStd)[ch] = inv;
            D(runningMean)[ch] = (1 - momentum) * D(runningMean)[ch] + momentum * mean;
            D(runningVar)[ch] = (1 - momentum) * D(runningVar)[ch] + momentum * (cnt > 1 ? var * cnt / (cnt - 1) : var);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < s; j++)
                {
                    int k = (i * c + ch) * s + j;
                    Y[k] = (X[k] - mean) * inv * D(gamma)[ch] + D(beta)[ch];
                }
        }
    }

    public void BatchNormBackward(Tensor x, Tensor dy, int n, int c, int s, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta)
    {
        var X = D(x); var G = D(dy); var DX = D(dx); int cnt = n * s;
        for (int ch = 0; ch < c; ch++)
        {
            double mean = D(saveMean)[ch], inv = D(saveInvStd)[ch], gm = D(gamma)[ch];
            double sumDy = 0, sumDyXhat = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < s; j++)
                {
                    int k = (i * c + ch) * s + j;
                    sumDy += G[k]; sumDyXhat += G[k] * (X[k] - mean) * inv;
                }
            D(dgamma)[ch] += sumDyXhat; D(dbeta)[ch] += sumDy;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < s; j++)
                {
                    int k = (i * c + ch) * s + j;
                    double xhat = (X[k] - mean) * inv;
                    DX[k] = gm * inv / cnt * (cnt * G[k] - sumDy - xhat * sumDyXhat);
                }
        }
    }

    public void MaxPool2d(Tensor x, Tensor y, Tensor argmax, PoolGeometry g)
    {
        var X = D(x); var Y = D(y); var A = D(argmax);
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int oh = 0; oh < g.OutH; oh++)
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    double best = double.NegativeInfinity; int arg = -1;
                    for (int kh = 0; kh < g.Kernel; kh++)
                        for (int kw = 0; kw < g.Kernel; kw++)
                        {
                            int ih = oh * g.Stride - g.Pad + kh, iw = ow * g.Stride - g.Pad + kw;
                            if (ih < 0 || ih >= g.InH || iw < 0 || iw >= g.InW) continue;
                            double v = X[(p * g.InH + ih) * g.InW + iw];
                            if (v > best || arg < 0) { best = v; arg = ih * g.InW + iw; }
                        }
                    int o = (p * g.OutH + oh) * g.OutW + ow;
                    Y[o] = best; A[o] = arg;
                }
    }

    public void MaxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, PoolGeometry g)
    {
        var G = D(dy); var A = D(argmax); var DX = D(dx);
        DX.Clear();
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int o = 0; o < g.OutH * g.OutW; o++)
                DX[p * g.InH * g.InW + (int)A[p * g.OutH * g.OutW + o]] += G[p * g.OutH * g.OutW + o];
    }

    public void Softmax(Tensor x, int outer, int r, int inner, bool log, Tensor y)
    {
        var X = D(x); var Y = D(y);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double max = double.NegativeInfinity;
                for (int k = 0; k < r; k++) max = Math.Max(max, X[(o * r + k) * inner + i]);
                double sum = 0;
                for (int k = 0; k < r; k++) sum += Math.Exp(X[(o * r + k) * inner + i] - max);
                for (int k = 0; k < r; k++)
                {
                    int j = (o * r + k) * inner + i;
                    Y[j] = log ? X[j] - max - Math.Log(sum) : Math.Exp(X[j] - max) / sum;
                }
            }
    }

    public void SoftmaxBackward(Tensor y, Tensor dy, int outer, int r, int inner, bool log, Tensor dx)
    {
        var Y = D(y); var G = D(dy); var DX = D(dx);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double dot = 0;
                for (int k = 0; k < r; k++) { int j = (o * r + k) * inner + i; dot += log ? G[j] : G[j] * Y[j]; }
                for (int k = 0; k < r; k++)
                {
                    int j = (o * r + k) * inner + i;
                    DX[j] = log ? G[j] - Math.Exp(Y[j]) * dot : Y[j] * (G[j] - dot);
                }
            }
    }

    public void BceWithLogits(Tensor x, Tensor t, Tensor y)
    {
        var X = D(x); var T = D(t); var Y = D(y);
        for (int i = 0; i < X.Length; i++) Y[i] = Math.Max(X[i], 0) - X[i] * T[i] + Math.Log(1 + Math.Exp(-Math.Abs(X[i])));
    }

    public void BceWithLogitsBackward(Tensor x, Tensor t, Tensor dy, Tensor dx, Tensor? dt)
    {
        var X = D(x); var T = D(t); var G = D(dy); var DX = D(dx);
        for (int i = 0; i < X.Length; i++)
        {
            DX[i] = G[i] * (1 / (1 + Math.Exp(-X[i])) - T[i]);
            if (dt is not null) D(dt)[i] = -G[i] * X[i];
        }
    }

    public void IndexSelect(Tensor w, Tensor idx, Tensor y)
    {
        int d = w.Shape[1]; var W = D(w); var Y = D(y); var I = D(idx);
        for (int i = 0; i < I.Length; i++) for (int j = 0; j < d; j++) Y[i * d + j] = W[(int)I[i] * d + j];
    }

    public void IndexAdd(Tensor dy, Tensor idx, Tensor dw)
    {
        int d = dw.Shape[1]; var G = D(dy); var DW = D(dw); var I = D(idx);
        for (int i = 0; i < I.Length; i++) for (int j = 0; j < d; j++) DW[(int)I[i] * d + j] += G[i * d + j];
    }

    public void Gather(Tensor x, int[] idx, Tensor y)
    {
        int c = x.Shape[1]; var X = D(x); var Y = D(y);
        for (int i = 0; i < idx.Length; i++) Y[i] = X[i * c + idx[i]];
    }

    public void GatherBackward(Tensor dy, int[] idx, Tensor dx)
    {
        int c = dx.Shape[1]; var G = D(dy); var DX = D(dx);
        for (int i = 0; i < idx.Length; i++) DX[i * c + idx[i]] += G[i];
    }

    public void ArgReduce(Tensor x, int outer, int r, int inner, bool min, Tensor idx)
    {
        var s = D(x); var d = D(idx);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * r * inner + i, arg = 0;
                double best = s[b];
                for (int k = 1; k < r; k++)
                {
                    double v = s[b + k * inner];
                    if (min ? v < best : v > best) { best = v; arg = k; }
                }
                d[o * inner + i] = arg;
            }
    }

    public void SampleCategorical(Tensor logits, int rows, int classes, ulong seed, Tensor idx)
    {
        var l = D(logits); var d = D(idx);
        for (int i = 0; i < rows; i++)
        {
            double max = double.NegativeInfinity, total = 0;
            for (int c = 0; c < classes; c++) max = Math.Max(max, l[i * classes + c]);
            for (int c = 0; c < classes; c++) total += Math.Exp(l[i * classes + c] - max);
            double u = CounterRng.Uniform(seed, (ulong)i) * total, acc = 0;
            int pick = classes - 1;
            for (int c = 0; c < classes; c++)
            {
                acc += Math.Exp(l[i * classes + c] - max);
                if (u < acc) { pick = c; break; }
            }
            d[i] = pick;
        }
    }

    public void NearestRows(Tensor z, Tensor codebook, Tensor idxT)
    {
        int m = z.Shape[0], d = z.Shape[1], k = codebook.Shape[0];
        var Z = D(z); var E = D(codebook); var idx = D(idxT);
        for (int i = 0; i < m; i++)
        {
            double best = double.PositiveInfinity; int arg = 0;
            for (int j = 0; j < k; j++)
            {
                double s = 0;
                for (int q = 0; q < d; q++) { double diff = Z[i * d + q] - E[j * d + q]; s += diff * diff; }
                if (s < best) { best = s; arg = j; }
            }
            idx[i] = arg;
        }
    }

    public void AdamStep(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        var P = D(p); var G = D(g); var M = D(m); var V = D(v);
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        for (int i = 0; i < P.Length; i++)
        {
            double grad = G[i];
            if (weightDecay != 0 && !decoupled) grad += weightDecay * P[i];
            if (weightDecay != 0 && decoupled) P[i] *= 1 - (double)lr * weightDecay;
            M[i] = beta1 * M[i] + (1 - (double)beta1) * grad;
            V[i] = beta2 * V[i] + (1 - (double)beta2) * grad * grad;
            P[i] -= lr / bc1 * M[i] / (Math.Sqrt(V[i]) / Math.Sqrt(bc2) + eps);
        }
    }

    public void SgdStep(Tensor p, Tensor g, Tensor? buf, float lr, float momentum, float weightDecay, bool nesterov, bool firstStep)
    {
        var P = D(p); var G = D(g);
        for (int i = 0; i < P.Length; i++)
        {
            double grad = G[i] + weightDecay * P[i];
            if (buf is not null)
            {
                var B = D(buf);
                B[i] = firstStep ? grad : momentum * B[i] + grad;
                grad = nesterov ? grad + momentum * B[i] : B[i];
            }
            P[i] -= lr * grad;
        }
    }
}
