// Viterbi segmentation of normalised UTF-8 under a unigram model, following sentencepiece's optimised encoder
// (EncodeOptimized): the best path ending at each byte position, pieces found by walking a trie from every
// character start, an unknown node when no single-character piece exists, and the same float/double arithmetic.
using System;
using System.Buffers;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>One piece of a segmentation: normalised byte range [<see cref="Start"/>, <see cref="End"/>) and its
/// id.</summary>
/// <param name="Start">First normalised byte.</param>
/// <param name="End">One past the last normalised byte.</param>
/// <param name="Id">Piece id (the unknown id for an unknown character).</param>
internal readonly record struct Segment(int Start, int End, int Id);

/// <summary>Finds the highest-scoring segmentation of normalised text into pieces.</summary>
internal sealed class UnigramEncoder
{
    /// <summary>How far below the lowest NORMAL score an unknown character scores (sentencepiece's
    /// kUnkPenalty).</summary>
    public const float UnknownPenalty = 10f;

    private readonly PieceTrie trie;
    private readonly float[] scores;
    private readonly bool[] isUserDefined;
    private readonly bool[] isUnused;
    private readonly int unknownId;
    private readonly float unknownScore;
    private readonly float maxScore;

    /// <summary>Creates the encoder. <paramref name="trie"/> holds the NORMAL, USER_DEFINED and UNUSED
    /// pieces.</summary>
    public UnigramEncoder(PieceTrie trie, SentencePieceModelProto model, int unknownId)
    {
        this.trie = trie;
        this.unknownId = unknownId;
        var count = model.Pieces.Count;
        scores = new float[count];
        isUserDefined = new bool[count];
        isUnused = new bool[count];
        // The library starts from FLT_MAX / FLT_MIN (the smallest positive float, not the most negative), so with
        // all-negative scores the maximum stays FLT_MIN; user-defined pieces score length * FLT_MIN - 0.1.
        var min = float.MaxValue;
        var max = 1.17549435E-38f;
        for (var id = 0; id < count; id++)
        {
            var piece = model.Pieces[id];
            scores[id] = piece.Score;
            isUserDefined[id] = piece.Type == SentencePieceType.UserDefined;
            isUnused[id] = piece.Type == SentencePieceType.Unused;
            if (piece.Type == SentencePieceType.Normal)
            {
                min = Math.Min(min, piece.Score);
                max = Math.Max(max, piece.Score);
            }
        }
        unknownScore = min - UnknownPenalty;
        maxScore = max;
    }

    /// <summary>Segments <paramref name="normalized"/> and appends the pieces, in order, to
    /// <paramref name="output"/>.</summary>
    public void Encode(ReadOnlySpan<byte> normalized, GrowableBuffer<Segment> output)
    {
        var size = normalized.Length;
        if (size == 0)
            return;
        // Best path ending at each byte position: its score, the start of its last piece, and that piece's id.
        var bestScore = ArrayPool<float>.Shared.Rent(size + 1);
        var startsAt = ArrayPool<int>.Shared.Rent(size + 1);
        var bestId = ArrayPool<int>.Shared.Rent(size + 1);
        try
        {
            Array.Fill(startsAt, -1, 0, size + 1);
            bestScore[0] = 0f;
            var start = 0;
            while (start < size)
            {
                var scoreTillHere = bestScore[start];
                var charLength = Math.Min(Utf8Rules.OneCharLength(normalized[start]), size - start);
                var hasSingleCharPiece = false;
                var node = PieceTrie.Root;
                for (var end = start; end < size;)
                {
                    node = trie.Child(node, normalized[end++]);
                    if (node < 0)
                        break;
                    var id = trie.Value(node);
                    if (id < 0 || isUnused[id])
                        continue;
                    var length = end - start;
                    // NOTE: the library mixes precisions here: the candidate is a double, compared against the
                    // float stored at the target and then rounded to float when kept.
                    var score = isUserDefined[id] ? (double)(length * maxScore) - 0.1 : scores[id];
                    var candidate = score + scoreTillHere;
                    if (startsAt[end] == -1 || candidate > bestScore[end])
                    {
                        bestScore[end] = (float)candidate;
                        startsAt[end] = start;
                        bestId[end] = id;
                    }
                    if (length == charLength)
                        hasSingleCharPiece = true;
                }
                if (!hasSingleCharPiece)
                {
                    var target = start + charLength;
                    var candidate = unknownScore + scoreTillHere;   // float arithmetic, as in the library
                    if (startsAt[target] == -1 || candidate > bestScore[target])
                    {
                        bestScore[target] = candidate;
                        startsAt[target] = start;
                        bestId[target] = unknownId;
                    }
                }
                start += charLength;
            }
            // Backtrack from the end, then reverse the appended run.
            var first = output.Count;
            for (var end = size; end > 0; end = startsAt[end])
                output.Add(new Segment(startsAt[end], end, bestId[end]));
            output.Span[first..].Reverse();
        }
        finally
        {
            ArrayPool<float>.Shared.Return(bestScore);
            ArrayPool<int>.Shared.Return(startsAt);
            ArrayPool<int>.Shared.Return(bestId);
        }
    }
}
