// One encoded piece with where it came from in the caller's text, in UTF-8 bytes, code points and UTF-16 units.
namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>
/// A piece of an encoding and its source span. Offsets are half-open ranges into the original (unnormalised) text.
/// A piece with no source text of its own (the dummy-prefix U+2581, all but the last byte piece of a byte-fallback
/// character) has Begin == End.
/// </summary>
/// <param name="Id">The piece id.</param>
/// <param name="Piece">The piece text: the vocabulary entry, <c>&lt;0xXX&gt;</c> for byte pieces, or the
/// normalised characters themselves for an unknown piece (adjacent unknown characters merge into one).</param>
/// <param name="Surface">The original text the piece covers.</param>
/// <param name="Utf8Begin">Start, in UTF-8 bytes (sentencepiece's native offsets).</param>
/// <param name="Utf8End">End, in UTF-8 bytes.</param>
/// <param name="CodePointBegin">Start, in Unicode code points (what sentencepiece's Python wrapper reports).</param>
/// <param name="CodePointEnd">End, in code points.</param>
/// <param name="Utf16Begin">Start, in UTF-16 code units (a .NET string index).</param>
/// <param name="Utf16End">End, in UTF-16 code units.</param>
public readonly record struct EncodedPiece(int Id, string Piece, string Surface, int Utf8Begin, int Utf8End,
    int CodePointBegin, int CodePointEnd, int Utf16Begin, int Utf16End);
