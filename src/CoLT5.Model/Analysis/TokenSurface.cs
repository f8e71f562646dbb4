// What each token of an encoded input stands for, and its kind (word start, digits, punctuation, ...), for the byte
// tokenizer and for SentencePiece, so routing can be summarised by token kind as in the paper's routing analysis.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using CoLT5.Model.Tokenization;
using CoLT5.Model.Tokenization.SentencePiece;

namespace CoLT5.Model.Analysis;

/// <summary>
/// Token kinds; every token has exactly one (the first rule that applies, in the order of the members).
/// SentencePiece pieces are judged by their text without the leading U+2581 (the word-start mark); byte tokens by
/// the character they belong to (every byte of a multi-byte character gets that character's kind).
/// </summary>
public enum TokenKind
{
    /// <summary>Not text: padding, EOS, UNK, sentinels (<c>&lt;extra_id_N&gt;</c>), SentencePiece control pieces
    /// and ids no text maps to.</summary>
    Special,

    /// <summary>White space only: a space, tab or line break byte; the lone piece "▁".</summary>
    Whitespace,

    /// <summary>Decimal digits only (Unicode Nd), e.g. "7", "▁2024".</summary>
    Digits,

    /// <summary>Punctuation and symbols only (Unicode P* and S*), e.g. ".", "▁(", "€", an emoji.</summary>
    Punctuation,

    /// <summary>The start of a word: a piece that begins with "▁"; a letter byte whose character follows white
    /// space, punctuation, a special token or the start of the input.</summary>
    WordStart,

    /// <summary>Everything else: the later pieces or characters of a word, byte-fallback pieces
    /// (<c>&lt;0xXX&gt;</c>), bytes that are not valid UTF-8, control characters.</summary>
    Other,
}

/// <summary>
/// One token's surface: <see cref="Text"/> is what it stands for (a byte token: its whole character on the
/// character's first byte, "" on the continuation bytes; a SentencePiece token: the piece, "▁" included; a special
/// token: its spelling such as <c>&lt;/s&gt;</c>).
/// </summary>
/// <param name="Text">The token's text (raw: white space and control characters are not made visible).</param>
/// <param name="Kind">Its kind.</param>
/// <param name="Continuation">True for the second and later bytes of a multi-byte UTF-8 character.</param>
public readonly record struct TokenSurface(string Text, TokenKind Kind, bool Continuation = false);

/// <summary>Describes encoded inputs token by token.</summary>
public static class TokenSurfaces
{
    /// <summary>The word-start mark of SentencePiece pieces (U+2581).</summary>
    public const char WordMark = '\u2581';

    /// <summary>One surface per id of <paramref name="ids"/>, as <paramref name="tokenizer"/> reads them.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the tokenizer's vocabulary.</exception>
    public static TokenSurface[] Describe(ITokenizer tokenizer, IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(ids);
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)tokenizer.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(ids), id,
                    $"token id {id} is outside the vocabulary [0, {tokenizer.VocabSize})");
        }
        return tokenizer switch
        {
            ByteTokenizer bytes => DescribeBytes(bytes, ids),
            SentencePieceTokenizer pieces => DescribePieces(pieces, ids),
            _ => DescribeDecoded(tokenizer, ids),
        };
    }

    /// <summary>The kind of a piece of text: <paramref name="startsWord"/> says whether it begins a word.</summary>
    public static TokenKind KindOfText(string text, bool startsWord)
    {
        ArgumentNullException.ThrowIfNull(text);
        bool allSpace = true, allDigits = true, allPunctuation = true;
        foreach (var rune in text.EnumerateRunes())
        {
            allSpace &= Rune.IsWhiteSpace(rune);
            allDigits &= Rune.IsDigit(rune);
            allPunctuation &= Rune.IsPunctuation(rune) || Rune.IsSymbol(rune);
        }
        return allSpace ? TokenKind.Whitespace
            : allDigits ? TokenKind.Digits
            : allPunctuation ? TokenKind.Punctuation
            : startsWord ? TokenKind.WordStart
            : TokenKind.Other;
    }

    // Byte tokens: walk the UTF-8 characters; a character's kind goes to each of its bytes.
    private static TokenSurface[] DescribeBytes(ByteTokenizer tokenizer, IReadOnlyList<int> ids)
    {
        var surfaces = new TokenSurface[ids.Count];
        Span<byte> window = stackalloc byte[4];
        var afterWordCharacter = false;     // the previous character was a letter, digit or mark
        for (var i = 0; i < ids.Count;)
        {
            if (!ByteTokenizer.IsByte(ids[i]))
            {
                surfaces[i] = new TokenSurface(SpecialText(tokenizer, ids[i]), TokenKind.Special);
                afterWordCharacter = false;
                i++;
                continue;
            }
            var available = 0;
            while (available < 4 && i + available < ids.Count && ByteTokenizer.IsByte(ids[i + available]))
            {
                window[available] = (byte)(ids[i + available] - ByteTokenizer.ByteOffset);
                available++;
            }
            if (Rune.DecodeFromUtf8(window[..available], out var rune, out var length) != System.Buffers.OperationStatus.Done)
            {
                surfaces[i] = new TokenSurface("\uFFFD", TokenKind.Other);       // not valid UTF-8 here
                afterWordCharacter = false;
                i++;
                continue;
            }
            var kind = KindOfRune(rune, afterWordCharacter);
            surfaces[i] = new TokenSurface(rune.ToString(), kind);
            for (var c = 1; c < length; c++)
                surfaces[i + c] = new TokenSurface("", kind, Continuation: true);
            afterWordCharacter = IsWordCharacter(rune);
            i += length;
        }
        return surfaces;
    }

    private static TokenKind KindOfRune(Rune rune, bool afterWordCharacter)
    {
        if (Rune.IsWhiteSpace(rune))
            return TokenKind.Whitespace;
        if (Rune.IsDigit(rune))
            return TokenKind.Digits;
        if (Rune.IsPunctuation(rune) || Rune.IsSymbol(rune))
            return TokenKind.Punctuation;
        return Rune.IsLetter(rune) && !afterWordCharacter ? TokenKind.WordStart : TokenKind.Other;
    }

    private static bool IsWordCharacter(Rune rune) => Rune.IsLetterOrDigit(rune) ||
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
            or UnicodeCategory.EnclosingMark or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;

    // SentencePiece: the piece text; control and unknown pieces and sentinels are special, byte pieces other.
    private static TokenSurface[] DescribePieces(SentencePieceTokenizer tokenizer, IReadOnlyList<int> ids)
    {
        var processor = tokenizer.Processor;
        var surfaces = new TokenSurface[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            var id = ids[i];
            if (id >= processor.PieceCount)
            {
                surfaces[i] = new TokenSurface(SpecialText(tokenizer, id), TokenKind.Special);
                continue;
            }
            var piece = processor.IdToPiece(id);
            surfaces[i] = processor.TypeOf(id) switch
            {
                SentencePieceType.Control or SentencePieceType.Unknown or SentencePieceType.Unused =>
                    new TokenSurface(piece, TokenKind.Special),
                SentencePieceType.Byte => new TokenSurface(piece, TokenKind.Other),
                _ => new TokenSurface(piece, KindOfPiece(piece)),
            };
        }
        return surfaces;
    }

    private static TokenKind KindOfPiece(string piece)
    {
        var startsWord = piece.Length > 0 && piece[0] == WordMark;
        var body = startsWord ? piece[1..] : piece;
        return body.Length == 0 ? TokenKind.Whitespace
            : KindOfText(body.Replace(WordMark, ' '), startsWord);
    }

    // Any other tokenizer: each id decoded on its own.
    private static TokenSurface[] DescribeDecoded(ITokenizer tokenizer, IReadOnlyList<int> ids)
    {
        var surfaces = new TokenSurface[ids.Count];
        var afterText = false;
        for (var i = 0; i < ids.Count; i++)
        {
            var id = ids[i];
            if (id == tokenizer.PadId || id == tokenizer.EosId || id == tokenizer.UnkId || tokenizer.IsSentinel(id))
            {
                surfaces[i] = new TokenSurface(SpecialText(tokenizer, id), TokenKind.Special);
                afterText = false;
                continue;
            }
            var text = tokenizer.Decode([id]);
            var startsWord = !afterText || (text.Length > 0 && char.IsWhiteSpace(text[0]));
            surfaces[i] = new TokenSurface(text, KindOfText(text.TrimStart(), startsWord && text.Trim().Length > 0));
            afterText = text.Length > 0 && !char.IsWhiteSpace(text[^1]);
        }
        return surfaces;
    }

    private static string SpecialText(ITokenizer tokenizer, int id) =>
        id == tokenizer.PadId ? "<pad>"
        : id == tokenizer.EosId ? "</s>"
        : id == tokenizer.UnkId ? "<unk>"
        : tokenizer.IsSentinel(id) ? "<extra_id_" + tokenizer.SentinelIndex(id).ToString(CultureInfo.InvariantCulture) + ">"
        : "<unused_" + id.ToString(CultureInfo.InvariantCulture) + ">";
}
