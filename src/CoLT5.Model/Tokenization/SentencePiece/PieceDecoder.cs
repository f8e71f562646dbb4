// Ids back to text with sentencepiece's decoding rules: control pieces vanish, the unknown piece becomes its
// surface (" ⁇ "), U+2581 becomes a space, the first leading U+2581 is dropped (all leading ones with
// remove_extra_whitespaces), and runs of byte pieces are decoded as UTF-8 with U+FFFD per ill-formed byte.
using System;
using System.Text;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>Decodes piece ids with the rules of sentencepiece's <c>SentencePieceProcessor::Decode</c>.</summary>
internal sealed class PieceDecoder
{
    private const char SpaceSymbol = '\u2581';

    private readonly SentencePieceProcessor model;
    private readonly int[] canonicalId;   // the id PieceToId(IdToPiece(id)) gives, as the library round-trips
    private readonly string unknownSurface;
    private readonly bool stripLeadingSpace, stripAllLeadingSpaces;

    public PieceDecoder(SentencePieceProcessor model, SentencePieceModelProto proto)
    {
        this.model = model;
        canonicalId = new int[model.PieceCount];
        for (var id = 0; id < canonicalId.Length; id++)
            canonicalId[id] = model.PieceToId(model.IdToPiece(id));
        unknownSurface = proto.TrainerSpec.HasUnkSurface ? proto.TrainerSpec.UnkSurface : " \u2047 ";
        var spec = proto.NormalizerSpec;
        stripLeadingSpace = spec.AddDummyPrefix || spec.RemoveExtraWhitespaces;
        stripAllLeadingSpaces = spec.RemoveExtraWhitespaces;
    }

    /// <summary>
    /// Decodes <paramref name="ids"/> (each in [0, PieceCount) or accepted by <paramref name="extraSurface"/>).
    /// Ids at or above the piece count are written as <paramref name="extraSurface"/> gives them, as visible
    /// pieces without whitespace handling.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, Func<int, string>? extraSurface = null)
    {
        var text = new StringBuilder(ids.Length * 4);
        Span<byte> bytes = ids.Length <= 256 ? stackalloc byte[ids.Length] : new byte[ids.Length];
        var byteCount = 0;
        var expectLeadingSpace = true;   // the library's is_bos_ws
        var leadingSpaceSeen = false;    // the library's bos_ws_seen
        foreach (var raw in ids)
        {
            var extra = raw >= canonicalId.Length;
            var id = extra ? raw : canonicalId[raw];
            if (!extra && model.TypeOf(id) == SentencePieceType.Byte)
            {
                bytes[byteCount++] = model.ByteValueOf(id);
                continue;
            }
            AppendBytes(text, bytes[..byteCount]);
            byteCount = 0;
            if (leadingSpaceSeen || text.Length > 0)
                expectLeadingSpace = false;
            if (extra)
            {
                text.Append(extraSurface!(raw));
                leadingSpaceSeen = false;
                continue;
            }
            leadingSpaceSeen = AppendPiece(text, id, expectLeadingSpace);
        }
        AppendBytes(text, bytes[..byteCount]);
        return text.ToString();
    }

    /// <summary>Appends one non-byte piece; returns whether it consumed a leading U+2581 (bos_ws_seen).</summary>
    private bool AppendPiece(StringBuilder text, int id, bool expectLeadingSpace)
    {
        switch (model.TypeOf(id))
        {
            case SentencePieceType.Control:
                return false;                               // invisible
            case SentencePieceType.Unknown:
                text.Append(unknownSurface);
                return false;
        }
        var piece = model.IdToPiece(id).AsSpan();
        var consumed = false;
        if (expectLeadingSpace && stripLeadingSpace && piece.Length > 0 && piece[0] == SpaceSymbol)
        {
            piece = piece[1..];
            consumed = !stripAllLeadingSpaces;
        }
        foreach (var ch in piece)
            text.Append(ch == SpaceSymbol ? ' ' : ch);
        return consumed;
    }

    /// <summary>Appends a run of byte-piece bytes: each well-formed character as itself, each ill-formed byte as
    /// U+FFFD.</summary>
    private static void AppendBytes(StringBuilder text, ReadOnlySpan<byte> bytes)
    {
        var offset = 0;
        while (offset < bytes.Length)
        {
            var cp = Utf8Rules.Decode(bytes[offset..], out var length, out _);
            if (cp < 0x10000)
            {
                text.Append((char)cp);
            }
            else
            {
                text.Append((char)(0xD7C0 + (cp >> 10)));            // high surrogate
                text.Append((char)(0xDC00 | (cp & 0x3FF)));          // low surrogate
            }
            offset += length;
        }
    }
}
