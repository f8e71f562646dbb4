// The typed errors a SentencePiece model file can raise: malformed bytes (with the file and byte offset) and
// well-formed models of a kind this library does not encode (BPE, WORD, CHAR).
using System;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>
/// A SentencePiece <c>.model</c> file is malformed or inconsistent. The message names the source and, where one
/// applies, the byte offset in the file where the problem was found.
/// </summary>
public class SentencePieceFormatException : FormatException
{
    /// <summary>Creates the error.</summary>
    /// <param name="source">The file path or a caller-chosen name for the bytes.</param>
    /// <param name="offset">Byte offset in the file, or −1 when the problem has no single position.</param>
    /// <param name="detail">What is wrong.</param>
    public SentencePieceFormatException(string source, long offset, string detail)
        : base(offset >= 0 ? $"sentencepiece model {source}: at byte {offset}: {detail}"
            : $"sentencepiece model {source}: {detail}")
    {
        ModelSource = source;
        Offset = offset;
    }

    /// <summary>Creates the error.</summary>
    public SentencePieceFormatException() : this("?", -1, "invalid model") { }

    /// <summary>Creates the error.</summary>
    public SentencePieceFormatException(string message) : this("?", -1, message) { }

    /// <summary>Creates the error.</summary>
    public SentencePieceFormatException(string message, Exception innerException) : base(message, innerException)
    {
        ModelSource = "?";
        Offset = -1;
    }

    /// <summary>The file path or name given when loading.</summary>
    public string ModelSource { get; }

    /// <summary>Byte offset of the problem in the file, or −1.</summary>
    public long Offset { get; }
}

/// <summary>The model is well formed but its <c>model_type</c> (BPE, WORD, CHAR) is not supported for encoding;
/// only UNIGRAM models are.</summary>
public sealed class SentencePieceUnsupportedModelException : SentencePieceFormatException
{
    /// <summary>Creates the error.</summary>
    public SentencePieceUnsupportedModelException(string source, string modelType)
        : base(source, -1, $"model_type {modelType} is not supported (only UNIGRAM models can be loaded)") =>
        ModelType = modelType;

    /// <summary>Creates the error.</summary>
    public SentencePieceUnsupportedModelException() : this("?", "?") { }

    /// <summary>Creates the error.</summary>
    public SentencePieceUnsupportedModelException(string message) : base(message) => ModelType = "?";

    /// <summary>Creates the error.</summary>
    public SentencePieceUnsupportedModelException(string message, Exception innerException)
        : base(message, innerException) => ModelType = "?";

    /// <summary>The model type found in the file (e.g. <c>BPE</c>).</summary>
    public string ModelType { get; }
}
