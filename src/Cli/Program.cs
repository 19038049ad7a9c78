using QGenEngine.Cli;

// Ctrl-C: the current training step finishes, the checkpoint is saved, the program exits.
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cts.IsCancellationRequested) return;   // a second Ctrl-C kills at once
    e.Cancel = true;
    cts.Cancel();
    Console.Error.WriteLine("\nstopping after this step (Ctrl-C again to kill)...");
};
// SIGTERM (Slurm's scancel and time limit, `kill`): the same clean stop.
using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
{
    if (cts.IsCancellationRequested) return;
    ctx.Cancel = true;
    cts.Cancel();
    Console.Error.WriteLine("\nterminated: stopping after this step");
});
return App.Run(args, Console.Out, Console.Error, cts.Token);
