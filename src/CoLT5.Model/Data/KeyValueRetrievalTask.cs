// The built-in synthetic long-range retrieval task: a long document of key=value records, a question about one
// key at the very end, and the value as the answer, which lies thousands of tokens before the question.
using System;
using System.Collections.Generic;
using System.Text;
using CoLT5.Model.Tokenization;
using CoLT5.Tensors.Random;

namespace CoLT5.Model.Data;

/// <summary>Which side of the train / held-out split an example belongs to.</summary>
public enum RetrievalSplit
{
    /// <summary>Training examples.</summary>
    Train,

    /// <summary>Held-out evaluation examples.</summary>
    HeldOut,
}

/// <summary>One retrieval example with the positions that define it (character offsets into
/// <see cref="Input"/>).</summary>
/// <param name="Input">Document followed by the question.</param>
/// <param name="Target">The queried key's value.</param>
/// <param name="Key">The queried key (without prefix).</param>
/// <param name="RecordStart">Offset of the queried record.</param>
/// <param name="QuestionStart">Offset of the question (= document length).</param>
/// <param name="Distance">Characters between the end of the queried record and the question.</param>
public sealed record RetrievalExample(string Input, string Target, string Key, int RecordStart, int QuestionStart,
    int Distance)
{
    /// <summary>Tokenizes the pair with EOS appended to both sides (no truncation).</summary>
    public Seq2SeqExample ToSeq2Seq(ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return new Seq2SeqExample(tokenizer.Encode(Input, appendEos: true), tokenizer.Encode(Target, appendEos: true));
    }
}

/// <summary>
/// Synthetic long-range key/value retrieval, the CLI's default training task.
/// <para>
/// Input: a document of records <c>k4821=qzm;k0032=abf;…</c> (default: key = <c>k</c> + 4 digits, value = 3
/// lower-case letters, 10 characters per record), whole records up to a length drawn uniformly from
/// [<see cref="KeyValueRetrievalOptions.MinDocumentLength"/>, <see cref="KeyValueRetrievalOptions.MaxDocumentLength"/>]
/// (default 2048–4000 characters, 204–400 records), followed by the question <c>?k4821</c> at the very end.
/// Target: the value of that key (<c>qzm</c>). Keys are distinct within a document and the separators never occur
/// inside keys or values, so the answer is unambiguous: the string <c>k4821=</c> occurs exactly once. The queried
/// record is drawn uniformly among the records that end at least
/// <see cref="KeyValueRetrievalOptions.MinDistance"/> characters (default 1024) before the question, so the
/// answer is 1k–4k byte tokens away from it and a model can only solve the task by long-range retrieval
/// (values are random: nothing local to the question predicts them).
/// </para>
/// <para>
/// Filler layout (<see cref="KeyValueRetrievalOptions.FillerAlphabet"/> set, the CLI's default): the document is
/// random filler text of the drawn length with <see cref="KeyValueRetrievalOptions.RecordCount"/> records at
/// random record-aligned places; the queried record is one whose end lies at least
/// <see cref="KeyValueRetrievalOptions.MinDistance"/> characters before the question, the others are distractors.
/// </para>
/// <para>
/// Dense layout: the answer is short (3 tokens + EOS), the key is a fixed 5-character pattern repeated verbatim
/// in the question and keys and values use disjoint alphabets, so a copy-by-match mechanism (decoder
/// cross-attention keyed on the question) solves it exactly; yet the tiny model does not learn that key matching
/// in minutes (docs/retrieval-task.md). Exact match by chance is 26^−3 ≈ 6·10^−5.
/// </para>
/// <para>
/// Determinism and splits: example i of a split is drawn from its own Philox stream (key derived from the seed
/// and the split, counter offset i·2^32), so it depends only on (seed, split, i). A candidate belongs to the train
/// split when the 64-bit FNV-1a hash of its input text is even and to held-out when it is odd; candidates of the
/// wrong parity are redrawn from the same stream. The two splits therefore can never share an input.
/// </para>
/// </summary>
public sealed class KeyValueRetrievalTask
{
    private const int MaxAttempts = 64;

    /// <summary>Creates the task; the options are validated.</summary>
    public KeyValueRetrievalTask(ulong seed, KeyValueRetrievalOptions? options = null)
    {
        Options = options ?? new KeyValueRetrievalOptions();
        Options.Validate();
        Seed = seed;
    }

    /// <summary>The seed all examples derive from.</summary>
    public ulong Seed { get; }

    /// <summary>The task settings.</summary>
    public KeyValueRetrievalOptions Options { get; }

    /// <summary>The split an input text belongs to (parity of its FNV-1a hash).</summary>
    public static RetrievalSplit SplitOf(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var hash = 14695981039346656037UL;
        foreach (var ch in input)
            hash = (hash ^ ch) * 1099511628211UL;
        return (hash & 1) == 0 ? RetrievalSplit.Train : RetrievalSplit.HeldOut;
    }

    /// <summary>Example <paramref name="index"/> of <paramref name="split"/>; the same arguments always give the
    /// same example.</summary>
    public RetrievalExample Example(RetrievalSplit split, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var rng = new Generator(StreamKey(split)) { Offset = (ulong)index << 32 };
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var candidate = Draw(rng);
            if (SplitOf(candidate.Input) == split)
                return candidate;
        }
        throw new InvalidOperationException("no example of the wanted split after many draws");
    }

    /// <summary>Examples <paramref name="start"/>, <paramref name="start"/> + 1, … of a split (endless).</summary>
    public IEnumerable<RetrievalExample> Examples(RetrievalSplit split, int start = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        for (var i = start; i < int.MaxValue; i++)
            yield return Example(split, i);
    }

    /// <summary>The first <paramref name="count"/> examples of a split, tokenized with EOS.</summary>
    public List<Seq2SeqExample> Dataset(RetrievalSplit split, int count, ITokenizer tokenizer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var examples = new List<Seq2SeqExample>(count);
        for (var i = 0; i < count; i++)
            examples.Add(Example(split, i).ToSeq2Seq(tokenizer));
        return examples;
    }

    private ulong StreamKey(RetrievalSplit split)
    {
        // SplitMix64 finaliser of the seed and the split: unrelated keys for the two splits.
        var z = Seed + (0x9E3779B97F4A7C15UL * ((ulong)split + 1));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private RetrievalExample Draw(Generator rng)
    {
        var o = Options;
        var length = o.MinDocumentLength + rng.NextInt(o.MaxDocumentLength - o.MinDocumentLength + 1);
        var slots = length / o.RecordLength;
        var eligible = slots - o.RecordsWithin(o.MinDistance);
        // Dense: every slot holds a record. Filler: the queried record takes an eligible slot, the distractors
        // other slots anywhere; the rest of the document (and any tail shorter than a record) is filler text.
        var documentLength = o.HasFiller ? length : slots * o.RecordLength;
        var records = o.HasFiller ? o.RecordCount : slots;
        var slotOf = new int[records];
        var chosen = 0;
        if (o.HasFiller)
        {
            slotOf[0] = rng.NextInt(eligible);
            var taken = new HashSet<int> { slotOf[0] };
            for (var r = 1; r < records; r++)
            {
                int slot;
                do
                {
                    slot = rng.NextInt(slots);
                }
                while (!taken.Add(slot));
                slotOf[r] = slot;
            }
        }
        else
        {
            for (var r = 0; r < records; r++)
                slotOf[r] = r;
        }
        var keys = new string[records];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var r = 0; r < records; r++)
        {
            string key;
            do
            {
                key = RandomString(o.KeyAlphabet, o.KeyLength, rng);
            }
            while (!seen.Add(key));
            keys[r] = key;
        }
        if (!o.HasFiller)
            chosen = rng.NextInt(eligible);
        var document = o.HasFiller
            ? RandomString(o.FillerAlphabet, documentLength, rng).ToCharArray()
            : new char[documentLength];
        string? answer = null;
        for (var r = 0; r < records; r++)
        {
            var value = RandomString(o.ValueAlphabet, o.ValueLength, rng);
            if (r == chosen)
                answer = value;
            var record = o.KeyPrefix + keys[r] + o.KeyValueSeparator + value + o.RecordTerminator;
            record.CopyTo(0, document, slotOf[r] * o.RecordLength, o.RecordLength);
        }
        var sb = new StringBuilder(documentLength + o.QuestionLength);
        sb.Append(document).Append(o.QuestionPrefix).Append(o.KeyPrefix).Append(keys[chosen]);
        var recordStart = slotOf[chosen] * o.RecordLength;
        var distance = documentLength - (recordStart + o.RecordLength);
        return new RetrievalExample(sb.ToString(), answer!, keys[chosen], recordStart, documentLength, distance);
    }

    /// <summary>A uniform random string; one draw covers as many characters as fit in 2^31 combinations.</summary>
    private static string RandomString(string alphabet, int length, Generator rng)
    {
        return string.Create(length, (alphabet, rng), static (span, state) =>
        {
            var radix = state.alphabet.Length;
            var i = 0;
            while (i < span.Length)
            {
                var digits = 0;
                var combinations = 1L;
                while (i + digits < span.Length && combinations * radix <= int.MaxValue)
                {
                    combinations *= radix;
                    digits++;
                }
                var draw = state.rng.NextInt((int)combinations);
                for (var d = 0; d < digits; d++, draw /= radix)
                    span[i++] = state.alphabet[draw % radix];
            }
        });
    }
}
