// The colt5 executable: wires Ctrl-C (SIGINT) and SIGTERM to cancellation, then runs the command line. The first
// signal asks the command to stop at its next safe point (train after the current step, saving a checkpoint;
// generate and eval after the current batch; routes after its encoder pass, writing nothing); a second signal of
// either kind ends the process at once.
using System;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace CoLT5.Cli;

/// <summary>Entry point.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        // The first token naming a command is the command: options come after it, except the global --threads N.
        var unit = args.FirstOrDefault(a => a is "train" or "generate" or "eval" or "info" or "routes") switch
        {
            "train" => "step",
            "routes" => "encoder pass",
            _ => "batch",
        };
        var signalled = 0;
        void OnSignal(PosixSignalContext context)
        {
            // each signal's handler runs on its own thread: exactly one of them is the first
            if (Interlocked.Exchange(ref signalled, 1) == 1)
                return;                         // second signal: the default handling ends the process
            context.Cancel = true;
            Console.Error.WriteLine(context.Signal == PosixSignal.SIGINT
                ? $"colt5: stopping after the current {unit} (Ctrl-C again to abort)…"
                : $"colt5: SIGTERM received, stopping after the current {unit} (a second SIGTERM aborts)…");
            cancellation.Cancel();
        }
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        return ColtCli.Run(args, CliContext.FromConsole(cancellation.Token));
    }
}
