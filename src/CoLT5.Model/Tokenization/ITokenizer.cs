// The contract every tokenizer meets (bytes today, SentencePiece later): special ids, encode/decode, and the
// sentinel ids that span corruption uses, numbered from the top of the vocabulary downwards.
using System;

namespace CoLT5.Model.Tokenization;

/// <summary>
/// Maps text to token ids and back. Sentinels (<c>&lt;extra_id_N&gt;</c>) occupy the top of the vocabulary:
/// <c>Sentinel(0)</c> is the highest sentinel id and <c>Sentinel(n)</c> counts down from it.
/// </summary>
public interface ITokenizer
{
    /// <summary>Number of ids the model's embedding and head must cover (may include unused padding ids).</summary>
    int VocabSize { get; }

    /// <summary>Padding id; also the decoder start token (T5 convention).</summary>
    int PadId { get; }

    /// <summary>End-of-sequence id.</summary>
    int EosId { get; }

    /// <summary>Unknown-token id.</summary>
    int UnkId { get; }

    /// <summary>How many sentinel ids exist; <see cref="Sentinel"/> accepts 0 to <c>SentinelCount - 1</c>.</summary>
    int SentinelCount { get; }

    /// <summary>Encodes text without appending EOS. Sentinel spellings in the text are not interpreted.</summary>
    int[] Encode(string text);

    /// <summary>Encodes text, appending <see cref="EosId"/> when <paramref name="appendEos"/> is true.</summary>
    int[] Encode(string text, bool appendEos);

    /// <summary>
    /// Decodes ids to text: stops at the first EOS, skips pad ids and the label ignore index (−100), and writes
    /// sentinels as <c>&lt;extra_id_N&gt;</c>.
    /// </summary>
    string Decode(ReadOnlySpan<int> ids);

    /// <summary>The id of sentinel <paramref name="n"/> (<c>&lt;extra_id_n&gt;</c>); n = 0 is the top one.</summary>
    int Sentinel(int n);

    /// <summary>True when <paramref name="id"/> is one of the sentinel ids.</summary>
    bool IsSentinel(int id);

    /// <summary>The N of sentinel <paramref name="id"/> (its <c>&lt;extra_id_N&gt;</c> number).</summary>
    int SentinelIndex(int id);
}
