// The colt5 executable: wires Ctrl-C and SIGTERM to cancellation (the first stops training after the current
// step and saves a checkpoint; a second Ctrl-C ends the process at once), then runs the command line.
using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace CoLT5.Cli;

/// <summary>Entry point.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            if (cancellation.IsCancellationRequested)
                return;                         // second Ctrl-C: let the process end
            e.Cancel = true;
            Console.Error.WriteLine("colt5: stopping after the current step (Ctrl-C again to abort)…");
            cancellation.Cancel();
        };
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            cancellation.Cancel();
        });
        return ColtCli.Run(args, CliContext.FromConsole(cancellation.Token));
    }
}
