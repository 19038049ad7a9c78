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
return App.Run(args, Console.Out, Console.Error, cts.Token);
