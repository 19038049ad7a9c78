using System.CommandLine;
using QGenEngine.Models;
using QGenEngine.Models.Training;

namespace QGenEngine.Cli.Commands;

/// <summary>`qgen-engine plot --run DIR`: redraws a run's loss.png and quality.png from its logs (after an update, or while it trains).</summary>
public static class PlotCommand
{
    public static Command Build(TextWriter stdout)
    {
        var run = new Option<string>("--run") { Required = true, Description = "a run directory made by `train`" };
        var cmd = new Command("plot", "Redraw a run's plots from its logs: loss.png (every step), quality.png (FID, IS, modes), codebook.png, circuit.png") { run };
        cmd.SetAction(p =>
        {
            string dir = p.GetValue(run)!;
            var o = ModelCatalog.ReadOptions(dir);
            if (RunLogs.ReadMetrics(dir).Count == 0 && RunLogs.ReadSteps(dir).Rows.Count == 0)
                throw new CliException($"{dir}: no {Trainer.MetricsFile} or {Trainer.StepsFile} to plot yet");
            stdout.WriteLine("wrote " + string.Join(", ", Artifacts.Plots(dir, o)));
            return 0;
        });
        return cmd;
    }
}
