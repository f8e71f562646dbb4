// The error a training run stops with when it cannot go on (a NaN or infinite loss).
using System;

namespace CoLT5.Model.Training;

/// <summary>Training cannot go on (the loss became NaN or infinite).</summary>
public sealed class TrainingException : Exception
{
    /// <summary>Creates the error.</summary>
    public TrainingException(string message) : base(message) { }

    /// <summary>Creates the error.</summary>
    public TrainingException() : this("training failed") { }

    /// <summary>Creates the error.</summary>
    public TrainingException(string message, Exception innerException) : base(message, innerException) { }
}
