using ILGPU.Runtime;
using ILGPU;
using K = QGenEngine.Kernels.Gpu.GpuKernels;
using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Gpu;

// Normalization: batch norm and softmax. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class IlgpuDevice
{
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ChannelArgs>? _bnStats;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ChannelArgs>? _bnApply;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ChannelArgs>? _bnGradStats;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ChannelArgs>? _bnGradApply;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, SoftmaxArgs>? _softmax;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SoftmaxArgs>? _softmaxBack;

    public void BatchNorm(Tensor x, int n, int c, int s, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                          Tensor saveMean, Tensor saveInvStd, float momentum, float eps, Tensor y)
    {
        var args = new ChannelArgs(n, c, s, momentum, eps);
        Grouped(ref _bnStats, K.BatchNormStats)(Groups(c), V(x), V(saveMean), V(saveInvStd), V(runningMean), V(runningVar), args);
        Auto(ref _bnApply, K.BatchNormApply)(CheckedInt(x.Numel), V(x), V(saveMean), V(saveInvStd), V(gamma), V(beta), V(y), args);
    }

    public void BatchNormBackward(Tensor x, Tensor dy, int n, int c, int s, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta)
    {
        var args = new ChannelArgs(n, c, s, 0, 0);
        using var sums = Temp(2 * c);
        Grouped(ref _bnGradStats, K.BatchNormGradStats)(Groups(c), V(x), V(dy), V(saveMean), V(saveInvStd), V(sums), V(dgamma), V(dbeta), args);
        Auto(ref _bnGradApply, K.BatchNormGradApply)(CheckedInt(x.Numel), V(x), V(dy), V(saveMean), V(saveInvStd), V(gamma), V(sums), V(dx), args);
    }

    public void Softmax(Tensor x, int outer, int r, int inner, bool log, Tensor y)
    {
        if (outer * inner > 0) Auto(ref _softmax, K.Softmax)(outer * inner, V(x), V(y), new SoftmaxArgs(outer, r, inner, log ? 1 : 0));
    }

    public void SoftmaxBackward(Tensor y, Tensor dy, int outer, int r, int inner, bool log, Tensor dx)
    {
        if (outer * inner > 0) Auto(ref _softmaxBack, K.SoftmaxBackward)(outer * inner, V(y), V(dy), V(dx), new SoftmaxArgs(outer, r, inner, log ? 1 : 0));
    }
}

internal static partial class GpuKernels
{
    /// <summary>Per channel (one group): mean, 1/σ (biased variance, two passes) and the running averages.</summary>
    [Kernel(grouped: true)]
    public static void BatchNormStats(ArrayView<float> x, ArrayView<float> saveMean, ArrayView<float> saveInv,
                                      ArrayView<float> runMean, ArrayView<float> runVar, ChannelArgs a)
    {
        var shared = SharedMemory.Allocate<float>(MaxGroup);
        int c = Grid.IdxX, cnt = a.N * a.S;
        float s = 0;
        for (int k = Group.IdxX; k < cnt; k += Group.DimX)
        {
            int n = k / a.S;
            s += x[(n * a.C + c) * a.S + (k - n * a.S)];
        }
        float mean = GroupSum(shared, s) / cnt;
        float q = 0;
        for (int k = Group.IdxX; k < cnt; k += Group.DimX)
        {
            int n = k / a.S;
            float d = x[(n * a.C + c) * a.S + (k - n * a.S)] - mean;
            q += d * d;
        }
        float var = GroupSum(shared, q) / cnt;
        if (Group.IdxX == 0)
        {
            saveMean[c] = mean;
            saveInv[c] = 1f / MathF.Sqrt(var + a.Eps);
            runMean[c] = (1f - a.Momentum) * runMean[c] + a.Momentum * mean;
            runVar[c] = (1f - a.Momentum) * runVar[c] + a.Momentum * (cnt > 1 ? var * cnt / (cnt - 1) : var);
        }
    }

    [Kernel]
    public static void BatchNormApply(Index1D i, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> inv,
                                      ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y, ChannelArgs a)
    {
        int c = (i / a.S) % a.C;
        y[i] = (x[i] - mean[c]) * inv[c] * gamma[c] + beta[c];
    }

    /// <summary>Per channel: Σdy and Σdy·x̂ into sums (2C), and accumulated into dγ, dβ.</summary>
    [Kernel(grouped: true)]
    public static void BatchNormGradStats(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> mean, ArrayView<float> inv,
                                          ArrayView<float> sums, ArrayView<float> dgamma, ArrayView<float> dbeta, ChannelArgs a)
    {
        var shared = SharedMemory.Allocate<float>(MaxGroup);
        int c = Grid.IdxX, cnt = a.N * a.S;
        float m = mean[c], sd = 0, sdx = 0;
        for (int k = Group.IdxX; k < cnt; k += Group.DimX)
        {
            int n = k / a.S, j = (n * a.C + c) * a.S + (k - n * a.S);
            sd += dy[j]; sdx += dy[j] * (x[j] - m);
        }
        sd = GroupSum(shared, sd);
        sdx = GroupSum(shared, sdx) * inv[c];
        if (Group.IdxX == 0)
        {
            sums[c] = sd; sums[a.C + c] = sdx;
            dgamma[c] += sdx; dbeta[c] += sd;
        }
    }

    [Kernel]
    public static void BatchNormGradApply(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> mean, ArrayView<float> inv,
                                          ArrayView<float> gamma, ArrayView<float> sums, ArrayView<float> dx, ChannelArgs a)
    {
        int c = (i / a.S) % a.C;
        float cnt = a.N * a.S, iv = inv[c], xhat = (x[i] - mean[c]) * iv;
        dx[i] = gamma[c] * iv / cnt * (cnt * dy[i] - sums[c] - xhat * sums[a.C + c]);
    }

    [Kernel]
    public static void Softmax(Index1D i, ArrayView<float> x, ArrayView<float> y, SoftmaxArgs a)
    {
        int o = i / a.Inner, k = i - o * a.Inner, b = o * a.R * a.Inner + k;
        float max = float.NegativeInfinity;
        for (int r = 0; r < a.R; r++) max = MathF.Max(max, x[b + r * a.Inner]);
        float sum = 0;
        for (int r = 0; r < a.R; r++) sum += MathF.Exp(x[b + r * a.Inner] - max);
        float logSum = MathF.Log(sum), inv = 1f / sum;
        for (int r = 0; r < a.R; r++)
        {
            int j = b + r * a.Inner;
            y[j] = a.Log != 0 ? x[j] - max - logSum : MathF.Exp(x[j] - max) * inv;
        }
    }

    [Kernel]
    public static void SoftmaxBackward(Index1D i, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, SoftmaxArgs a)
    {
        int o = i / a.Inner, k = i - o * a.Inner, b = o * a.R * a.Inner + k;
        float dot = 0;
        for (int r = 0; r < a.R; r++) { int j = b + r * a.Inner; dot += a.Log != 0 ? dy[j] : dy[j] * y[j]; }
        for (int r = 0; r < a.R; r++)
        {
            int j = b + r * a.Inner;
            dx[j] = a.Log != 0 ? dy[j] - MathF.Exp(y[j]) * dot : y[j] * (dy[j] - dot);
        }
    }
}

internal readonly record struct SoftmaxArgs(int Outer, int R, int Inner, int Log);
