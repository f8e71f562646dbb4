// The normaliser's compiled rules (NormalizerSpec.precompiled_charsmap): a darts-clone trie from UTF-8 input
// sequences to offsets in a blob of NUL-terminated replacement strings. Checked completely when loaded.
using System;
using System.Buffers.Binary;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>
/// Blob layout: <c>uint32 trieBytes</c> (little endian), the double array (<c>trieBytes</c> bytes), then the
/// replacement strings, each ending in a NUL byte. A rule maps the longest matching input prefix to the string at
/// the trie value's offset (an empty string deletes the input).
/// </summary>
internal sealed class PrecompiledCharsmap
{
    private readonly DoubleArrayTrie trie;
    private readonly byte[] replacements;
    private readonly int[] replacementLength;   // by start offset; −1 where no rule points

    private PrecompiledCharsmap(DoubleArrayTrie trie, byte[] replacements, int[] replacementLength)
    {
        this.trie = trie;
        this.replacements = replacements;
        this.replacementLength = replacementLength;
    }

    /// <summary>Decodes and fully checks a charsmap blob; errors name <paramref name="source"/> and the offset of
    /// the blob in the file.</summary>
    public static PrecompiledCharsmap Load(ReadOnlySpan<byte> blob, string source, long fileOffset)
    {
        if (blob.Length <= 4)
            throw new SentencePieceFormatException(source, fileOffset,
                $"precompiled_charsmap of {blob.Length} bytes is too short for its 4-byte header");
        var trieBytes = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (trieBytes > (uint)(blob.Length - 4) || trieBytes == 0 || trieBytes % 4 != 0)
            throw new SentencePieceFormatException(source, fileOffset,
                $"precompiled_charsmap trie size {trieBytes} is not a positive multiple of 4 within the " +
                $"{blob.Length - 4} bytes that follow");
        var trie = DoubleArrayTrie.FromBytes(blob.Slice(4, (int)trieBytes));
        var replacements = blob[(4 + (int)trieBytes)..].ToArray();
        var lengths = new int[replacements.Length];
        Array.Fill(lengths, -1);
        var problem = trie.Validate(value => CheckReplacement(replacements, lengths, value));
        if (problem is not null)
            throw new SentencePieceFormatException(source, fileOffset, "precompiled_charsmap: " + problem);
        return new PrecompiledCharsmap(trie, replacements, lengths);
    }

    /// <summary>
    /// The longest rule matching a prefix of <paramref name="input"/>: returns the matched length in bytes (0 when
    /// no rule applies) and sets <paramref name="replacement"/> to the bytes that replace it.
    /// </summary>
    public int Match(ReadOnlySpan<byte> input, out ReadOnlySpan<byte> replacement)
    {
        var length = trie.LongestPrefix(input, out var value);
        replacement = length == 0 ? default : replacements.AsSpan(value, replacementLength[value]);
        return length;
    }

    private static string? CheckReplacement(byte[] replacements, int[] lengths, int value)
    {
        if (value >= replacements.Length)
            return $"replacement offset {value} is outside the {replacements.Length}-byte string table";
        if (lengths[value] >= 0)
            return null;
        var end = Array.IndexOf(replacements, (byte)0, value);
        if (end < 0)
            return $"replacement at offset {value} has no terminating NUL";
        if (!Utf8Rules.IsValid(replacements.AsSpan(value, end - value), out _))
            return $"replacement at offset {value} is not valid UTF-8";
        lengths[value] = end - value;
        return null;
    }
}
