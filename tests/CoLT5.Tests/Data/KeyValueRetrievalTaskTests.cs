// The synthetic retrieval task: unambiguous answers far before the question, disjoint deterministic splits,
// option validation and exact-match scoring.
using System;
using System.Linq;
using System.Text.RegularExpressions;
using CoLT5.Model.Data;
using CoLT5.Model.Tokenization;
using Xunit;

namespace CoLT5.Tests.Data;

public sealed class KeyValueRetrievalTaskTests
{
    private static readonly KeyValueRetrievalTask Task = new(seed: 1234);

    private static int Occurrences(string text, string pattern)
    {
        var count = 0;
        for (var i = text.IndexOf(pattern, StringComparison.Ordinal); i >= 0;
             i = text.IndexOf(pattern, i + 1, StringComparison.Ordinal))
            count++;
        return count;
    }

    [Theory]
    [InlineData(RetrievalSplit.Train)]
    [InlineData(RetrievalSplit.HeldOut)]
    public void AnswersAreUniqueAndFarBeforeTheQuestion(RetrievalSplit split)
    {
        var o = Task.Options;
        var record = new Regex("^(k[0-9]{4}=[a-z]{3};)+$");
        foreach (var ex in Task.Examples(split).Take(300))
        {
            var document = ex.Input[..ex.QuestionStart];
            Assert.Matches(record, document);
            Assert.Equal("?k" + ex.Key, ex.Input[ex.QuestionStart..]);
            Assert.InRange(document.Length, o.MinDocumentLength - o.RecordLength + 1, o.MaxDocumentLength);
            Assert.Equal(0, document.Length % o.RecordLength);
            // the answer is in the document, at the recorded offset, and the key occurs in exactly one record
            Assert.Equal($"k{ex.Key}={ex.Target};", document.Substring(ex.RecordStart, o.RecordLength));
            Assert.Equal(1, Occurrences(document, $"k{ex.Key}="));
            Assert.Equal(1, Occurrences(document, "k" + ex.Key));
            var keys = Enumerable.Range(0, document.Length / o.RecordLength)
                .Select(r => document.Substring(r * o.RecordLength + 1, o.KeyLength)).ToList();
            Assert.Equal(keys.Count, keys.Distinct().Count());
            // far from the question
            Assert.Equal(ex.QuestionStart - ex.RecordStart - o.RecordLength, ex.Distance);
            Assert.True(ex.Distance >= o.MinDistance, $"distance {ex.Distance}");
            Assert.Matches("^[a-z]{3}$", ex.Target);
            Assert.True(ex.Input.Length + 1 <= o.MaxInputTokens);
            Assert.Equal(split, KeyValueRetrievalTask.SplitOf(ex.Input));
        }
    }

    [Fact]
    public void QueriedRecordsSpreadOverTheEligibleRange()
    {
        var starts = Task.Examples(RetrievalSplit.Train).Take(400).Select(e => (double)e.RecordStart / e.QuestionStart)
            .ToList();
        Assert.True(starts.Min() < 0.05 && starts.Max() > 0.6, $"{starts.Min()} .. {starts.Max()}");
        Assert.True(Task.Examples(RetrievalSplit.Train).Take(400).Min(e => e.Distance) < 1100);
        Assert.True(Task.Examples(RetrievalSplit.Train).Take(400).Max(e => e.Distance) > 3000);
    }

    [Fact]
    public void TrainAndHeldOutAreDisjoint()
    {
        var train = Task.Examples(RetrievalSplit.Train).Take(1000).Select(e => e.Input).ToHashSet();
        var heldOut = Task.Examples(RetrievalSplit.HeldOut).Take(1000).Select(e => e.Input).ToList();
        Assert.Equal(1000, train.Count);
        Assert.Equal(1000, heldOut.Distinct().Count());
        Assert.DoesNotContain(heldOut, train.Contains);
        Assert.All(heldOut, i => Assert.Equal(RetrievalSplit.HeldOut, KeyValueRetrievalTask.SplitOf(i)));
    }

    [Fact]
    public void SameSeedSameDataDifferentSeedDifferentData()
    {
        var again = new KeyValueRetrievalTask(seed: 1234);
        var other = new KeyValueRetrievalTask(seed: 1235);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(Task.Example(RetrievalSplit.Train, i), again.Example(RetrievalSplit.Train, i));
            Assert.Equal(Task.Example(RetrievalSplit.HeldOut, i), again.Example(RetrievalSplit.HeldOut, i));
            Assert.NotEqual(Task.Example(RetrievalSplit.Train, i).Input, other.Example(RetrievalSplit.Train, i).Input);
        }
        // random access equals sequential access
        Assert.Equal(Task.Example(RetrievalSplit.Train, 57), Task.Examples(RetrievalSplit.Train, 50).ElementAt(7));
    }

    [Fact]
    public void CustomOptionsAreHonoured()
    {
        var options = new KeyValueRetrievalOptions
        {
            KeyAlphabet = "abcdefgh",
            KeyLength = 3,
            ValueAlphabet = "0123456789",
            ValueLength = 2,
            KeyPrefix = "",
            KeyValueSeparator = ":",
            RecordTerminator = "|",
            QuestionPrefix = "#",
            MinDocumentLength = 300,
            MaxDocumentLength = 320,
            MinDistance = 250,
        };
        var task = new KeyValueRetrievalTask(7, options);
        foreach (var ex in task.Examples(RetrievalSplit.Train).Take(200))
        {
            Assert.Matches("^([a-h]{3}:[0-9]{2}\\|)+#[a-h]{3}$", ex.Input);
            Assert.True(ex.Distance >= 250);
            Assert.Equal(1, Occurrences(ex.Input, ex.Key + ":"));
            Assert.Equal(ex.Key + ":" + ex.Target + "|", ex.Input.Substring(ex.RecordStart, options.RecordLength));
        }
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        var o = new KeyValueRetrievalOptions();
        Assert.Throws<ArgumentException>(() => new KeyValueRetrievalTask(1, o with { MinDistance = 2048 }));
        Assert.Throws<ArgumentException>(() => new KeyValueRetrievalTask(1, o with { ValueAlphabet = "ab;" }));
        Assert.Throws<ArgumentException>(() => new KeyValueRetrievalTask(1, o with { KeyLength = 2 }));  // 100 keys
        Assert.Throws<ArgumentException>(() => new KeyValueRetrievalTask(1, o with { KeyAlphabet = "0é" }));
        Assert.Throws<ArgumentException>(() => new KeyValueRetrievalTask(1, o with { MaxDocumentLength = 1000 }));
        Assert.Equal(4007, o.MaxInputTokens);
        Assert.Equal(4, o.TargetTokens);
    }

    [Fact]
    public void TokenizedExamplesAreBytesPlusEos()
    {
        var tok = new ByteTokenizer();
        var data = Task.Dataset(RetrievalSplit.HeldOut, 5, tok);
        for (var i = 0; i < 5; i++)
        {
            var ex = Task.Example(RetrievalSplit.HeldOut, i);
            Assert.Equal(ex.Input.Length + 1, data[i].InputIds.Length);
            Assert.Equal(ex.Input, tok.Decode(data[i].InputIds));
            Assert.Equal(ex.Target, tok.Decode(data[i].TargetIds));
            Assert.Equal(4, data[i].TargetIds.Length);
        }
    }

    [Fact]
    public void ExactMatchOnTextAndIds()
    {
        var tok = new ByteTokenizer();
        Assert.True(Seq2SeqMetrics.ExactMatch("qzm", "qzm"));
        Assert.False(Seq2SeqMetrics.ExactMatch("qzm ", "qzm"));
        Assert.False(Seq2SeqMetrics.ExactMatch("QZM", "qzm"));
        var target = tok.Encode("qzm", appendEos: true);
        // generated ids start with the decoder start (pad) and may run past EOS; labels may carry −100
        int[] generated = [0, .. tok.Encode("qzm"), 1, 107, 108];
        int[] labels = [.. target, -100, -100];
        Assert.True(Seq2SeqMetrics.ExactMatch(generated, labels, tok));
        Assert.False(Seq2SeqMetrics.ExactMatch([0, .. tok.Encode("qz"), 1], labels, tok));
        Assert.False(Seq2SeqMetrics.ExactMatch([0, .. tok.Encode("qzmm"), 1], labels, tok));
        Assert.Equal(0.5, Seq2SeqMetrics.ExactMatchRate([("a", "a"), ("b", "c")]));
        Assert.Equal(0, Seq2SeqMetrics.ExactMatchRate([]));
    }
}
