using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Reference;

// Normalization: batch norm and softmax. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class ReferenceDevice
{
    public void BatchNorm(Tensor x, int n, int c, int s, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                          Tensor saveMean, Tensor saveInvStd, float momentum, float eps, Tensor y)
    {
        var X = Doubles(x); var Y = Doubles(y); int cnt = n * s;
        for (int ch = 0; ch < c; ch++)
        {
            double mean = 0, var = 0;
            for (int i = 0; i < n; i++) for (int j = 0; j < s; j++) mean += X[(i * c + ch) * s + j];
            mean /= cnt;
            for (int i = 0; i < n; i++) for (int j = 0; j < s; j++) { double d = X[(i * c + ch) * s + j] - mean; var += d * d; }
            var /= cnt;
            double inv = 1 / Math.Sqrt(var + eps);
            Doubles(saveMean)[ch] = mean; Doubles(saveInvStd)[ch] = inv;
            Doubles(runningMean)[ch] = (1 - momentum) * Doubles(runningMean)[ch] + momentum * mean;
            Doubles(runningVar)[ch] = (1 - momentum) * Doubles(runningVar)[ch] + momentum * (cnt > 1 ? var * cnt / (cnt - 1) : var);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < s; j++)
                {
                    int k = (i * c + ch) * s + j;
                    Y[k] = (X[k] - mean) * inv * Doubles(gamma)[ch] + Doubles(beta)[ch];
                }
        }
    }

    public void BatchNormBackward(Tensor x, Tensor dy, int n, int c, int s, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta)
    {
        var X = Doubles(x); var G = Doubles(dy); var DX = Doubles(dx); int cnt = n * s;
        for (int ch = 0; ch < c; ch++)
        {
            double mean = Doubles(saveMean)[ch], inv = Doubles(saveInvStd)[ch], gm = Doubles(gamma)[ch];
            double sumDy = 0, sumDyXhat = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < s; j++)
                {
                    int k = (i * c + ch) * s + j;
                    sumDy += G[k]; sumDyXhat += G[k] * (X[k] - mean) * inv;
                }
            Doubles(dgamma)[ch] += sumDyXhat; Doubles(dbeta)[ch] += sumDy;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < s; j++)
                {
                    int k = (i * c + ch) * s + j;
                    double xhat = (X[k] - mean) * inv;
                    DX[k] = gm * inv / cnt * (cnt * G[k] - sumDy - xhat * sumDyXhat);
                }
        }
    }

    public void Softmax(Tensor x, int outer, int r, int inner, bool log, Tensor y)
    {
        var X = Doubles(x); var Y = Doubles(y);
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
        var Y = Doubles(y); var G = Doubles(dy); var DX = Doubles(dx);
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
}
