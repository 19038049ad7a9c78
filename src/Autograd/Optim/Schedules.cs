namespace QGenEngine.Autograd.Optim;

/// <summary>A learning rate as a function of the step (0-based).</summary>
public interface ILrSchedule
{
    float At(int step);
}

public sealed record ConstantLr(float Lr) : ILrSchedule
{
    public float At(int step) => Lr;
}

/// <summary>
/// Linear warm-up from 0 over <see cref="WarmupSteps"/>, then cosine annealing from the base rate to
/// <see cref="MinLr"/> at <see cref="TotalSteps"/> (PyTorch's CosineAnnealingLR with T_max = total − warm-up).
/// </summary>
public sealed record CosineLr(float BaseLr, int TotalSteps, int WarmupSteps = 0, float MinLr = 0f) : ILrSchedule
{
    public float At(int step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps) return BaseLr * (step + 1) / WarmupSteps;
        int span = Math.Max(1, TotalSteps - WarmupSteps);
        double t = Math.Clamp((double)(step - WarmupSteps) / span, 0, 1);
        return (float)(MinLr + (BaseLr - MinLr) * 0.5 * (1 + Math.Cos(Math.PI * t)));
    }
}
