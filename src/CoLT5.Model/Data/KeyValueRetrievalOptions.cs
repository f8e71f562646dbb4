// Settings of the synthetic key/value retrieval task: record format, alphabets, document length and the minimum
// distance between the queried record and the question. All text is ASCII, so characters = bytes = byte tokens.
using System;
using System.Linq;

namespace CoLT5.Model.Data;

/// <summary>
/// Options of <see cref="KeyValueRetrievalTask"/>. A record is
/// <c>KeyPrefix + key + KeyValueSeparator + value + RecordTerminator</c> (default <c>k4821=qzm;</c>, 10 characters);
/// the question is <c>QuestionPrefix + KeyPrefix + key</c> (default <c>?k4821</c>). Lengths and distances are in
/// characters, which equal tokens under the byte tokenizer because everything must be ASCII.
/// </summary>
public sealed record KeyValueRetrievalOptions
{
    /// <summary>Characters of a key (default the 10 digits).</summary>
    public string KeyAlphabet { get; init; } = "0123456789";

    /// <summary>Characters per key (default 4: 10 000 possible keys).</summary>
    public int KeyLength { get; init; } = 4;

    /// <summary>Characters of a value (default the 26 lower-case letters, disjoint from the digits of keys).</summary>
    public string ValueAlphabet { get; init; } = "abcdefghijklmnopqrstuvwxyz";

    /// <summary>Characters per value, i.e. the answer length (default 3).</summary>
    public int ValueLength { get; init; } = 3;

    /// <summary>Text before each key (default <c>k</c>).</summary>
    public string KeyPrefix { get; init; } = "k";

    /// <summary>Text between key and value (default <c>=</c>).</summary>
    public string KeyValueSeparator { get; init; } = "=";

    /// <summary>Text closing each record (default <c>;</c>).</summary>
    public string RecordTerminator { get; init; } = ";";

    /// <summary>Text that opens the question after the last record (default <c>?</c>).</summary>
    public string QuestionPrefix { get; init; } = "?";

    /// <summary>
    /// Characters of the text between records (default empty: the document is records only, back to back). When set,
    /// the document is filler text of the drawn length with <see cref="RecordCount"/> records at random record-aligned
    /// places, a "needle in a haystack" layout. Filler characters must not occur in records or the question.
    /// </summary>
    public string FillerAlphabet { get; init; } = "";

    /// <summary>Records per document when <see cref="FillerAlphabet"/> is set (ignored otherwise; default 1). Every
    /// record other than the queried one is a distractor with another key.</summary>
    public int RecordCount { get; init; } = 1;

    /// <summary>Whether documents are filler text with scattered records.</summary>
    public bool HasFiller => FillerAlphabet.Length > 0;

    /// <summary>Shortest document in characters before rounding down to whole records (default 2048).</summary>
    public int MinDocumentLength { get; init; } = 2048;

    /// <summary>Longest document in characters before rounding down to whole records (default 4000, so an input
    /// with question and EOS fits in 4096 byte tokens).</summary>
    public int MaxDocumentLength { get; init; } = 4000;

    /// <summary>
    /// Minimum number of characters between the end of the queried record (after its terminator) and the start of
    /// the question (default 1024: the record lies in roughly the first half to three quarters of the document).
    /// </summary>
    public int MinDistance { get; init; } = 1024;

    /// <summary>Characters per record.</summary>
    public int RecordLength =>
        KeyPrefix.Length + KeyLength + KeyValueSeparator.Length + ValueLength + RecordTerminator.Length;

    /// <summary>Characters of the question.</summary>
    public int QuestionLength => QuestionPrefix.Length + KeyPrefix.Length + KeyLength;

    /// <summary>Longest input in byte tokens, EOS included.</summary>
    public int MaxInputTokens => MaxDocumentLength / RecordLength * RecordLength + QuestionLength + 1;

    /// <summary>Longest target in tokens, EOS included.</summary>
    public int TargetTokens => ValueLength + 1;

    /// <summary>Number of distinct keys.</summary>
    public long KeySpace => (long)Math.Min(Math.Pow(KeyAlphabet.Length, KeyLength), long.MaxValue / 2);

    /// <summary>Checks that the options describe an unambiguous, satisfiable task.</summary>
    /// <exception cref="ArgumentException">Some option is out of range or makes records ambiguous.</exception>
    public void Validate()
    {
        Require(KeyAlphabet.Length >= 2 && KeyAlphabet.Distinct().Count() == KeyAlphabet.Length,
            "KeyAlphabet needs at least 2 distinct characters");
        Require(ValueAlphabet.Length >= 2 && ValueAlphabet.Distinct().Count() == ValueAlphabet.Length,
            "ValueAlphabet needs at least 2 distinct characters");
        Require(KeyLength >= 1 && ValueLength >= 1, "KeyLength and ValueLength must be at least 1");
        Require(KeyValueSeparator.Length > 0 && RecordTerminator.Length > 0 && QuestionPrefix.Length > 0,
            "separators and the question prefix must not be empty");
        var all = KeyAlphabet + ValueAlphabet + KeyPrefix + KeyValueSeparator + RecordTerminator + QuestionPrefix;
        Require(all.All(char.IsAscii) && !all.Any(char.IsControl), "all option text must be printable ASCII");
        var punctuation = KeyValueSeparator + RecordTerminator + QuestionPrefix;
        Require(!punctuation.Any(c => KeyAlphabet.Contains(c) || ValueAlphabet.Contains(c) || KeyPrefix.Contains(c)),
            "separator and question characters must not occur in the alphabets or the key prefix");
        Require(MinDocumentLength >= RecordLength && MaxDocumentLength >= MinDocumentLength,
            "need RecordLength <= MinDocumentLength <= MaxDocumentLength");
        Require(MinDistance >= 0, "MinDistance must not be negative");
        var fewestRecords = MinDocumentLength / RecordLength;
        Require(fewestRecords - RecordsWithin(MinDistance) >= 1,
            $"a document of {MinDocumentLength} characters has no record at least {MinDistance} characters " +
            "before the question; lower MinDistance or raise MinDocumentLength");
        if (HasFiller)
        {
            Require(FillerAlphabet.Distinct().Count() == FillerAlphabet.Length, "FillerAlphabet repeats a character");
            Require(FillerAlphabet.All(char.IsAscii) && !FillerAlphabet.Any(char.IsControl),
                "FillerAlphabet must be printable ASCII");
            Require(!FillerAlphabet.Any(all.Contains),
                "filler characters must not occur in keys, values, separators or the question");
            Require(RecordCount >= 1 && RecordCount <= fewestRecords,
                $"RecordCount must lie in [1, {fewestRecords}] (records that fit the shortest document)");
            Require(KeySpace >= 2L * RecordCount, "the key space must hold at least twice RecordCount keys");
        }
        else
        {
            Require(KeySpace >= 2L * (MaxDocumentLength / RecordLength),
                "the key space must hold at least twice the records of the longest document");
        }
    }

    /// <summary>Records needed to cover <paramref name="distance"/> characters (rounded up).</summary>
    internal int RecordsWithin(int distance) => (distance + RecordLength - 1) / RecordLength;

    private static void Require(bool condition, string message)
    {
        if (!condition)
            throw new ArgumentException("invalid key/value retrieval options: " + message);
    }
}
