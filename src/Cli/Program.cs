using QGenEngine.Cli;

// Ctrl-C: the current training step finishes, the checkpoint is saved, the program exits.
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cts.IsCancellationRequested || !App.StopsCleanly) return;   // a second Ctrl-C, or a command with nothing to save: ends at once
    e.Cancel = true;
    cts.Cancel();
    Console.Error.WriteLine("\nstopping after this step (Ctrl-C again to kill)...");
};
// SIGTERM (Slurm's scancel and time limit, `kill`): the same clean stop.
// A study forwards its stop to its trainings as SIGTERM too (a process started in the background ignores SIGINT), so a
// SIGTERM after a Ctrl-C must not kill the process before it has saved: only SIGKILL does that.
using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
{
    if (!App.StopsCleanly) return;   // nothing to save (metrics, eval, sample ...): SIGTERM ends it at once, as it ends any program
    ctx.Cancel = true;
    if (cts.IsCancellationRequested) return;
    cts.Cancel();
    Console.Error.WriteLine("\nterminated: stopping after this step");
});
return App.Run(args, Console.Out, Console.Error, cts.Token);
