// The typed error for malformed data files: names the file, the 1-based line and what is wrong with it.
using System;

namespace CoLT5.Model.Data;

/// <summary>A data file is malformed. The message reads <c>file:line: reason</c>.</summary>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the error for line <paramref name="lineNumber"/> (1-based) of
    /// <paramref name="filePath"/>.</summary>
    public DataFormatException(string filePath, long lineNumber, string reason, Exception? innerException = null)
        : base($"{filePath}:{lineNumber}: {reason}", innerException)
    {
        FilePath = filePath;
        LineNumber = lineNumber;
        Reason = reason;
    }

    /// <summary>Creates the error.</summary>
    public DataFormatException() : this("malformed data") { }

    /// <summary>Creates the error.</summary>
    public DataFormatException(string message) : base(message)
    {
        FilePath = "";
        Reason = message;
    }

    /// <summary>Creates the error.</summary>
    public DataFormatException(string message, Exception innerException) : base(message, innerException)
    {
        FilePath = "";
        Reason = message;
    }

    /// <summary>The file (or source name) that holds the bad line.</summary>
    public string FilePath { get; }

    /// <summary>The 1-based line number (0 when unknown).</summary>
    public long LineNumber { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; }
}
