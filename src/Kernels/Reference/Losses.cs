using QGenEngine.Tensors;

namespace QGenEngine.Kernels.Reference;

// Losses: the losses' elementwise terms. Each backend keeps its version of these IDevice primitives in a file of this name
// (Reference/, Cpu/, Gpu/).
public sealed partial class ReferenceDevice
{
    public void BceWithLogits(Tensor x, Tensor t, Tensor y)
    {
        var X = Doubles(x); var T = Doubles(t); var Y = Doubles(y);
        for (int i = 0; i < X.Length; i++) Y[i] = Math.Max(X[i], 0) - X[i] * T[i] + Math.Log(1 + Math.Exp(-Math.Abs(X[i])));
    }

    public void BceWithLogitsBackward(Tensor x, Tensor t, Tensor dy, Tensor dx, Tensor? dt)
    {
        var X = Doubles(x); var T = Doubles(t); var G = Doubles(dy); var DX = Doubles(dx);
        for (int i = 0; i < X.Length; i++)
        {
            DX[i] = G[i] * (1 / (1 + Math.Exp(-X[i])) - T[i]);
            if (dt is not null) Doubles(dt)[i] = -G[i] * X[i];
        }
    }
}
