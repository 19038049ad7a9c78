using ILGPU.Runtime;
using ILGPU;
using K = QGenEngine.Kernels.Gpu.GpuKernels;
using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Gpu;

// Optimizers: optimiser updates. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class IlgpuDevice
{
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs>? _adam;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdArgs>? _sgd;

    public void AdamStep(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        if (p.Numel == 0) return;
        float bc1 = 1 - MathF.Pow(beta1, step), bc2s = MathF.Sqrt(1 - MathF.Pow(beta2, step));
        var args = new AdamArgs(lr, beta1, beta2, eps, decoupled ? 0 : weightDecay, decoupled ? 1 - lr * weightDecay : 1, bc1, bc2s);
        Auto(ref _adam, K.Adam)(CheckedInt(p.Numel), V(p), V(g), V(m), V(v), args);
    }

    public void SgdStep(Tensor p, Tensor g, Tensor? buf, float lr, float momentum, float weightDecay, bool nesterov, bool firstStep)
    {
        if (p.Numel == 0) return;
        var args = new SgdArgs(lr, momentum, weightDecay, nesterov ? 1 : 0, firstStep ? 1 : 0, buf is null ? 0 : 1);
        Auto(ref _sgd, K.Sgd)(CheckedInt(p.Numel), V(p), V(g), buf is null ? V(p) : V(buf), args);
    }
}

internal static partial class GpuKernels
{
    [Kernel]
    public static void Adam(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, AdamArgs a)
    {
        float pv = p[i], gv = g[i] + a.L2 * pv;
        pv *= a.Decay;
        float mv = a.Beta1 * m[i] + (1f - a.Beta1) * gv;
        float vv = a.Beta2 * v[i] + (1f - a.Beta2) * gv * gv;
        m[i] = mv; v[i] = vv;
        p[i] = pv - a.Lr / a.Bc1 * mv / (MathF.Sqrt(vv) / a.Bc2Sqrt + a.Eps);
    }

    [Kernel]
    public static void Sgd(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> buf, SgdArgs a)
    {
        float grad = g[i] + a.WeightDecay * p[i];
        if (a.HasBuffer != 0)
        {
            float bv = a.FirstStep != 0 ? grad : a.Momentum * buf[i] + grad;
            buf[i] = bv;
            grad = a.Nesterov != 0 ? grad + a.Momentum * bv : bv;
        }
        p[i] -= a.Lr * grad;
    }
}

internal readonly record struct AdamArgs(float Lr, float Beta1, float Beta2, float Eps, float L2, float Decay, float Bc1, float Bc2Sqrt);

internal readonly record struct SgdArgs(float Lr, float Momentum, float WeightDecay, int Nesterov, int FirstStep, int HasBuffer);
