// The streams and signals one CLI invocation works with: the real console for the colt5 executable, string
// writers and a test-owned cancellation token for in-process tests.
using System;
using System.IO;
using System.Threading;

namespace CoLT5.Cli;

/// <summary>Where a command reads and writes, whether it may draw a live display, and its cancellation.</summary>
/// <param name="Out">Results and progress.</param>
/// <param name="Error">One-line error messages.</param>
/// <param name="In">Standard input (for <c>--input -</c>).</param>
/// <param name="Interactive">True when <paramref name="Out"/> is a terminal that can show a live progress bar.</param>
/// <param name="CancellationToken">Cancellation (Ctrl-C in the executable).</param>
public sealed record CliContext(TextWriter Out, TextWriter Error, TextReader In, bool Interactive,
    CancellationToken CancellationToken)
{
    /// <summary>The process console; interactive when standard output is not redirected.</summary>
    public static CliContext FromConsole(CancellationToken cancellationToken) =>
        new(Console.Out, Console.Error, Console.In, !Console.IsOutputRedirected, cancellationToken);
}
