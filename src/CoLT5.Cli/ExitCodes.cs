// The process exit codes of colt5, in one place (scripts and tests rely on them).
namespace CoLT5.Cli;

/// <summary>The process exit codes of colt5.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>Bad input: a missing or malformed file, an invalid checkpoint, an unknown name.</summary>
    public const int Error = 1;

    /// <summary>The command line itself does not parse (unknown option, missing value).</summary>
    public const int Usage = 2;

    /// <summary>An unexpected internal failure.</summary>
    public const int Internal = 70;

    /// <summary>Stopped by Ctrl-C / SIGTERM (128 + SIGINT): train after saving a checkpoint, generate and eval between
    /// batches.</summary>
    public const int Cancelled = 130;
}
