// The error type for problems with the user's input (files, names, directories): one line, exit code 1.
using System;

namespace CoLT5.Cli;

/// <summary>A problem with the user's input: printed as one line, exit code 1, nothing written.</summary>
public sealed class CliException : Exception
{
    /// <summary>Creates the error.</summary>
    public CliException(string message) : base(message) { }

    /// <summary>Creates the error.</summary>
    public CliException() : this("invalid input") { }

    /// <summary>Creates the error.</summary>
    public CliException(string message, Exception innerException) : base(message, innerException) { }
}
