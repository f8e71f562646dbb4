// The parts of sentencepiece's ModelProto (sentencepiece_model.proto, proto2) that encoding and decoding need,
// with the proto2 defaults a field takes when the file omits it.
using System;
using System.Collections.Generic;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>The kind of a vocabulary entry (<c>ModelProto.SentencePiece.Type</c>).</summary>
public enum SentencePieceType
{
    /// <summary>An ordinary piece (the default; omitted from the file).</summary>
    Normal = 1,

    /// <summary>The unknown piece (exactly one per model).</summary>
    Unknown = 2,

    /// <summary>A control symbol such as <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>, <c>&lt;pad&gt;</c>: never produced
    /// from text, invisible when decoded.</summary>
    Control = 3,

    /// <summary>A user-defined symbol: matched in the raw text before normalisation and always kept whole.</summary>
    UserDefined = 4,

    /// <summary>A piece that encoding never produces.</summary>
    Unused = 5,

    /// <summary>A byte piece <c>&lt;0xXX&gt;</c> used by byte fallback.</summary>
    Byte = 6,
}

/// <summary>The segmentation algorithm of a model (<c>TrainerSpec.ModelType</c>).</summary>
public enum SentencePieceModelType
{
    /// <summary>Unigram language model (Viterbi segmentation); the only type this library encodes.</summary>
    Unigram = 1,

    /// <summary>Byte-pair encoding.</summary>
    Bpe = 2,

    /// <summary>Whitespace-delimited words.</summary>
    Word = 3,

    /// <summary>Single characters.</summary>
    Char = 4,
}

/// <summary>One vocabulary entry: its text, log-probability score and type. The id is its index.</summary>
/// <param name="Piece">The piece text (whitespace appears as U+2581).</param>
/// <param name="Score">The unigram log probability (0 for special pieces).</param>
/// <param name="Type">The entry's kind.</param>
public sealed record SentencePieceEntry(string Piece, float Score, SentencePieceType Type);

/// <summary>The trainer fields that affect encoding and decoding (<c>TrainerSpec</c>), with proto2 defaults.</summary>
public sealed class SentencePieceTrainerSpec
{
    /// <summary>The segmentation algorithm (default UNIGRAM).</summary>
    public SentencePieceModelType ModelType { get; internal set; } = SentencePieceModelType.Unigram;

    /// <summary>Vocabulary size requested at training time (default 8000; informational).</summary>
    public int VocabSize { get; internal set; } = 8000;

    /// <summary>Whether unknown characters are spelled as UTF-8 byte pieces (default false).</summary>
    public bool ByteFallback { get; internal set; }

    /// <summary>Whether whitespace is a suffix rather than a prefix of pieces (default false).</summary>
    public bool TreatWhitespaceAsSuffix { get; internal set; }

    /// <summary>The unknown id requested at training time (default 0).</summary>
    public int UnkId { get; internal set; }

    /// <summary>The begin-of-sentence id requested at training time (default 1; −1 = none).</summary>
    public int BosId { get; internal set; } = 1;

    /// <summary>The end-of-sentence id requested at training time (default 2; −1 = none).</summary>
    public int EosId { get; internal set; } = 2;

    /// <summary>The padding id requested at training time (default −1 = none).</summary>
    public int PadId { get; internal set; } = -1;

    /// <summary>The unknown piece's text (default <c>&lt;unk&gt;</c>).</summary>
    public string UnkPiece { get; internal set; } = "<unk>";

    /// <summary>The begin-of-sentence piece's text (default <c>&lt;s&gt;</c>).</summary>
    public string BosPiece { get; internal set; } = "<s>";

    /// <summary>The end-of-sentence piece's text (default <c>&lt;/s&gt;</c>).</summary>
    public string EosPiece { get; internal set; } = "</s>";

    /// <summary>The padding piece's text (default <c>&lt;pad&gt;</c>).</summary>
    public string PadPiece { get; internal set; } = "<pad>";

    /// <summary>What an unknown id decodes to (default <c>" ⁇ "</c>, U+2047 between spaces).</summary>
    public string UnkSurface { get; internal set; } = " \u2047 ";

    /// <summary>Whether the file sets <see cref="UnkSurface"/> explicitly.</summary>
    public bool HasUnkSurface { get; internal set; }

    /// <summary>The user-defined symbols listed at training time (informational; the piece types decide).</summary>
    public IReadOnlyList<string> UserDefinedSymbols => UserDefinedList;

    /// <summary>The control symbols listed at training time (informational; the piece types decide).</summary>
    public IReadOnlyList<string> ControlSymbols => ControlList;

    internal List<string> UserDefinedList { get; } = [];
    internal List<string> ControlList { get; } = [];
}

/// <summary>The normalisation rules (<c>NormalizerSpec</c>), with proto2 defaults.</summary>
public sealed class SentencePieceNormalizerSpec
{
    /// <summary>The rule set's name, e.g. <c>nmt_nfkc</c> or <c>identity</c> (informational).</summary>
    public string Name { get; internal set; } = "";

    /// <summary>The compiled rules: a 4-byte little-endian trie size, a darts-clone double array, then the
    /// NUL-separated replacement strings. Empty means no character mapping.</summary>
    public ReadOnlyMemory<byte> PrecompiledCharsmap { get; internal set; } = ReadOnlyMemory<byte>.Empty;

    /// <summary>Whether a whitespace is prepended to the text (default true).</summary>
    public bool AddDummyPrefix { get; internal set; } = true;

    /// <summary>Whether leading, trailing and repeated whitespace is removed (default true).</summary>
    public bool RemoveExtraWhitespaces { get; internal set; } = true;

    /// <summary>Whether spaces become U+2581 (default true).</summary>
    public bool EscapeWhitespaces { get; internal set; } = true;

    /// <summary>File offset of the charsmap bytes (for error messages).</summary>
    internal long CharsmapOffset { get; set; } = -1;
}

/// <summary>A parsed <c>.model</c> file: the vocabulary and the specs that steer encoding and decoding.</summary>
public sealed class SentencePieceModelProto
{
    internal SentencePieceModelProto(string source, IReadOnlyList<SentencePieceEntry> pieces, long[] pieceOffsets,
        SentencePieceTrainerSpec trainer, SentencePieceNormalizerSpec normalizer,
        SentencePieceNormalizerSpec? denormalizer)
    {
        Source = source;
        Pieces = pieces;
        PieceOffsets = pieceOffsets;
        TrainerSpec = trainer;
        NormalizerSpec = normalizer;
        DenormalizerSpec = denormalizer;
    }

    /// <summary>The file path or name the bytes came from.</summary>
    public string Source { get; }

    /// <summary>The vocabulary; the id of an entry is its index.</summary>
    public IReadOnlyList<SentencePieceEntry> Pieces { get; }

    /// <summary>Trainer fields (defaults when the file has none).</summary>
    public SentencePieceTrainerSpec TrainerSpec { get; }

    /// <summary>Normaliser fields (defaults when the file has none).</summary>
    public SentencePieceNormalizerSpec NormalizerSpec { get; }

    /// <summary>The optional rules applied to decoded text, or null.</summary>
    public SentencePieceNormalizerSpec? DenormalizerSpec { get; }

    /// <summary>File offset of each piece's message (for error messages).</summary>
    internal long[] PieceOffsets { get; }
}
