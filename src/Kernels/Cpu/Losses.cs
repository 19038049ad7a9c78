using System.Numerics.Tensors;
using Tensor = QGenEngine.Tensors.Tensor;

namespace QGenEngine.Kernels.Cpu;

// Losses: the losses' elementwise terms. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class CpuDevice
{
    public void BceWithLogits(Tensor x, Tensor t, Tensor y)
    {
        var X = S(x); var T = S(t); var Y = S(y);
        for (int i = 0; i < X.Length; i++) Y[i] = MathF.Max(X[i], 0) - X[i] * T[i] + MathF.Log(1 + MathF.Exp(-MathF.Abs(X[i])));
    }

    public void BceWithLogitsBackward(Tensor x, Tensor t, Tensor dy, Tensor dx, Tensor? dt)
    {
        var X = S(x); var T = S(t); var G = S(dy); var D = S(dx);
        TensorPrimitives.Sigmoid(X, D);
        TensorPrimitives.Subtract(D, T, D);
        TensorPrimitives.Multiply(D, G, D);
        if (dt is not null) { var DT = S(dt); TensorPrimitives.Multiply(X, G, DT); TensorPrimitives.Negate(DT, DT); }
    }
}
