using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Reference;

// Optimizers: optimiser updates. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class ReferenceDevice
{
    public void AdamStep(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        var P = Doubles(p); var G = Doubles(g); var M = Doubles(m); var V = Doubles(v);
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
        var P = Doubles(p); var G = Doubles(g);
        for (int i = 0; i < P.Length; i++)
        {
            double grad = G[i] + weightDecay * P[i];
            if (buf is not null)
            {
                var B = Doubles(buf);
                B[i] = firstStep ? grad : momentum * B[i] + grad;
                grad = nesterov ? grad + momentum * B[i] : B[i];
            }
            P[i] -= lr * grad;
        }
    }
}
