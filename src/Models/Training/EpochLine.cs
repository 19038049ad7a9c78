using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace QGenEngine.Models.Training;

/// <summary>
/// The line shown after each epoch: the means of the model's scalars, then validation and sample quality where
/// measured, then the time. The model says how its own scalars are shown (<see cref="ITrainable.ScalarFormat"/>);
/// the framework knows its own (the loop's bookkeeping, modes, the circuits' statistics).
/// </summary>
public static class EpochLine
{
    /// <summary>The loop's bookkeeping, not shown as a scalar (the time is shown at the end).</summary>
    private static readonly HashSet<string> Bookkeeping = ["epoch", "seconds", "samples_per_s", "lr", "is_std", "fid_samples", "modes_kl", "threads"];

    public static string Format(EpochMetrics em, int epochs, ITrainable model)
    {
        var sb = new StringBuilder($"epoch {em.Epoch}/{epochs} ");
        foreach (var (k, node) in em.Values)
        {
            if (Bookkeeping.Contains(k) || node is not JsonValue value || value.GetValueKind() != System.Text.Json.JsonValueKind.Number) continue;   // device, build, histograms
            double x = EpochMetrics.Number(node!);
            string key = k.Replace('_', ' ');
            string format = model.ScalarFormat(k) ?? (k.StartsWith("circuit_", StringComparison.Ordinal) ? "G3" : "F2");
            sb.Append(k == "modes" ? $" modes {x:F0}/10" : $" {key} {x.ToString(format, CultureInfo.CurrentCulture)}");
        }
        sb.Append($"  {em.Get("seconds"):F1}s ({em.Get("samples_per_s"):F0} img/s)");
        return sb.ToString();
    }
}
