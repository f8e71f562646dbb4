// Reads a darts-clone double-array trie (the format of sentencepiece's precompiled charsmap) and answers
// longest-prefix queries exactly as darts-clone's commonPrefixSearch does, with bounds checks instead of
// out-of-range reads. Validate() walks every reachable node once so a hostile array is rejected at load time.
using System;
using System.Buffers.Binary;
using System.Collections;
using System.Collections.Generic;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>
/// A darts-clone double array: 32-bit units. A unit holds a label (bits 0–7, plus bit 31 for leaf units), a
/// has-leaf flag (bit 8) and an offset (bits 10–31, shifted left by 8 when bit 9 is set); a leaf unit's value is
/// its low 31 bits. A child of node <c>p</c> with label <c>c</c> sits at <c>p ^ offset ^ c</c>.
/// </summary>
internal sealed class DoubleArrayTrie
{
    private readonly uint[] units;

    /// <summary>Wraps the units (the caller has checked there is at least one).</summary>
    public DoubleArrayTrie(uint[] units) => this.units = units;

    /// <summary>Reads <paramref name="bytes"/> as little-endian units.</summary>
    public static DoubleArrayTrie FromBytes(ReadOnlySpan<byte> bytes)
    {
        var units = new uint[bytes.Length / 4];
        for (var i = 0; i < units.Length; i++)
            units[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes.Slice(i * 4, 4));
        return new DoubleArrayTrie(units);
    }

    /// <summary>Number of units.</summary>
    public int Length => units.Length;

    /// <summary>
    /// The longest key that is a prefix of <paramref name="key"/>: its length in bytes (0 when none) and its value.
    /// Matches darts-clone's commonPrefixSearch followed by "keep the longest".
    /// </summary>
    public int LongestPrefix(ReadOnlySpan<byte> key, out int value)
    {
        value = 0;
        var longest = 0;
        var pos = (long)Offset(units[0]);
        for (var i = 0; i < key.Length; i++)
        {
            pos ^= key[i];
            if ((ulong)pos >= (ulong)units.Length)
                return longest;
            var unit = units[pos];
            if (Label(unit) != key[i])
                return longest;
            pos ^= Offset(unit);
            if (HasLeaf(unit))
            {
                if ((ulong)pos >= (ulong)units.Length)
                    return longest;
                longest = i + 1;
                value = (int)(units[pos] & 0x7FFFFFFF);
            }
        }
        return longest;
    }

    /// <summary>
    /// Visits every node a lookup can reach (each at most once) and calls <paramref name="checkValue"/> on each
    /// leaf value; returns a description of the first structural problem, or null.
    /// </summary>
    public string? Validate(Func<int, string?> checkValue)
    {
        var visited = new BitArray(units.Length);
        var stack = new Stack<long>();
        stack.Push(Offset(units[0]));
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            for (var label = 0; label < 256; label++)
            {
                var child = node ^ label;
                if ((ulong)child >= (ulong)units.Length)
                    continue;                                   // LongestPrefix stops here: no match
                var unit = units[child];
                if (Label(unit) != label || visited[(int)child])
                    continue;
                visited[(int)child] = true;
                var next = child ^ Offset(unit);
                if (HasLeaf(unit))
                {
                    if ((ulong)next >= (ulong)units.Length)
                        return $"leaf of unit {child} points to unit {next}, outside the {units.Length}-unit array";
                    if (checkValue((int)(units[next] & 0x7FFFFFFF)) is { } problem)
                        return $"leaf of unit {child}: {problem}";
                }
                stack.Push(next);
            }
        }
        return null;
    }

    private static uint Label(uint unit) => unit & 0x800000FFu;

    private static bool HasLeaf(uint unit) => ((unit >> 8) & 1) == 1;

    private static long Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);
}
