// CoLT5's UL2 mixture (spec §7.1, decision D17): prefix-LM 0.5 and span corruption 0.15 with mean spans 3, 8
// and 64, in equal shares, applied to a stream of concatenated tokenized documents.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Model.Tokenization;
using CoLT5.Tensors.Random;

namespace CoLT5.Model.Data;

/// <summary>Ids of UL2's mode tokens, prepended to the inputs when enabled (off by default, D17).</summary>
/// <param name="Regular">Token for <see cref="Ul2Mode.Regular"/> tasks ([NLU]).</param>
/// <param name="Sequential">Token for <see cref="Ul2Mode.Sequential"/> tasks ([S2S]).</param>
/// <param name="Extreme">Token for <see cref="Ul2Mode.Extreme"/> tasks ([NLG]).</param>
public sealed record Ul2ModeTokens(int Regular, int Sequential, int Extreme)
{
    /// <summary>Uses the three lowest sentinel ids of <paramref name="tokenizer"/> as mode tokens.</summary>
    public static Ul2ModeTokens FromLowestSentinels(ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var n = tokenizer.SentinelCount;
        if (n < 3)
            throw new ArgumentException("the tokenizer needs at least 3 sentinels to lend as mode tokens",
                nameof(tokenizer));
        return new Ul2ModeTokens(tokenizer.Sentinel(n - 1), tokenizer.Sentinel(n - 2), tokenizer.Sentinel(n - 3));
    }

    /// <summary>The token for <paramref name="mode"/>.</summary>
    public int For(Ul2Mode mode) => mode switch
    {
        Ul2Mode.Regular => Regular,
        Ul2Mode.Sequential => Sequential,
        _ => Extreme,
    };
}

/// <summary>One generated example and the index of the task that made it.</summary>
/// <param name="TaskIndex">Index into <see cref="Ul2Mixture.Tasks"/>.</param>
/// <param name="Example">The example.</param>
public readonly record struct Ul2Sample(int TaskIndex, Seq2SeqExample Example);

/// <summary>
/// A mixture of denoising tasks in equal shares. For each example a task is drawn uniformly, then the next
/// <see cref="RawLength"/>(task) tokens of the document stream are cut off and turned into an example (documents
/// are concatenated without separators, as in T5; a final chunk shorter than the raw length is used as is if it
/// has at least 2 tokens). Inputs never exceed <see cref="InputLength"/>; targets longer than
/// <see cref="TargetLength"/> (long prefix-LM continuations) are cut to it without EOS, as T5's trimming does, so
/// the model is not taught to stop there. With mode tokens the task's token is prepended to the inputs and the
/// raw length is chosen for one token less.
/// </summary>
public sealed class Ul2Mixture
{
    private readonly int[] _rawLengths;

    /// <summary>Creates the mixture; checks up front that the tokenizer has enough sentinels.</summary>
    /// <param name="tokenizer">Supplies EOS and the sentinels.</param>
    /// <param name="inputLength">Maximum input length, EOS (and mode token) included; 4096 in CoLT5.</param>
    /// <param name="targetLength">Maximum target length; 910 in CoLT5.</param>
    /// <param name="tasks">The tasks (default: <see cref="CoLT5Tasks"/>).</param>
    /// <param name="modeTokens">Mode tokens, or null for none (the default, D17).</param>
    /// <exception cref="ArgumentException">A span task would need more sentinels than the tokenizer has, or a
    /// mode token collides with a sentinel the span tasks use.</exception>
    public Ul2Mixture(ITokenizer tokenizer, int inputLength, int targetLength,
        IReadOnlyList<IDenoisingTask>? tasks = null, Ul2ModeTokens? modeTokens = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetLength);
        Tokenizer = tokenizer;
        InputLength = inputLength;
        TargetLength = targetLength;
        Tasks = tasks is null ? CoLT5Tasks() : [.. tasks];
        if (Tasks.Count == 0)
            throw new ArgumentException("a mixture needs at least one task", nameof(tasks));
        ModeTokens = modeTokens;
        var budget = inputLength - (modeTokens is null ? 0 : 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 3, nameof(inputLength));
        _rawLengths = [.. Tasks.Select(t => t.RawLengthFor(budget))];
        for (var i = 0; i < Tasks.Count; i++)
        {
            if (Tasks[i] is not SpanCorruption span)
                continue;
            var spans = span.Counts(_rawLengths[i]).Spans;
            if (spans > tokenizer.SentinelCount)
                throw new ArgumentException(
                    SpanCorruption.SentinelShortage(span.Name, _rawLengths[i], spans, tokenizer), nameof(tokenizer));
            if (modeTokens is not null && Enumerable.Range(0, spans).Select(tokenizer.Sentinel)
                    .Any(id => id == modeTokens.Regular || id == modeTokens.Sequential || id == modeTokens.Extreme))
                throw new ArgumentException($"{span.Name} uses up to {spans} sentinels, which include a mode token",
                    nameof(modeTokens));
        }
    }

    /// <summary>CoLT5's four tasks: prefix-LM 0.5, then span corruption 0.15 with mean spans 3, 8 and 64.</summary>
    public static IReadOnlyList<IDenoisingTask> CoLT5Tasks() =>
        [new PrefixLm(0.5), new SpanCorruption(0.15, 3), new SpanCorruption(0.15, 8), new SpanCorruption(0.15, 64)];

    /// <summary>The tokenizer.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>Maximum input length.</summary>
    public int InputLength { get; }

    /// <summary>Maximum target length.</summary>
    public int TargetLength { get; }

    /// <summary>The tasks, drawn with equal probability.</summary>
    public IReadOnlyList<IDenoisingTask> Tasks { get; }

    /// <summary>Mode tokens, or null when disabled.</summary>
    public Ul2ModeTokens? ModeTokens { get; }

    /// <summary>Raw tokens cut for an example of task <paramref name="taskIndex"/>.</summary>
    public int RawLength(int taskIndex) => _rawLengths[taskIndex];

    /// <summary>Draws a task index uniformly.</summary>
    public int SampleTask(Generator rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        return rng.NextInt(Tasks.Count);
    }

    /// <summary>Applies task <paramref name="taskIndex"/> to a raw chunk, adding the mode token and capping the
    /// target length as described on the class.</summary>
    public Seq2SeqExample Apply(int taskIndex, ReadOnlySpan<int> raw, Generator rng)
    {
        var task = Tasks[taskIndex];
        var example = task.Apply(raw, Tokenizer, rng);
        var inputs = example.InputIds;
        if (ModeTokens is not null)
            inputs = [ModeTokens.For(task.Mode), .. inputs];
        if (inputs.Length > InputLength)
            throw new InvalidOperationException($"{task.Name} made an input of {inputs.Length} tokens from " +
                $"{raw.Length} raw tokens; the limit is {InputLength}");
        var targets = example.TargetIds.Length <= TargetLength ? example.TargetIds : example.TargetIds[..TargetLength];
        return new Seq2SeqExample(inputs, targets);
    }

    /// <summary>Generates examples from tokenized documents (ids without EOS), lazily.</summary>
    public IEnumerable<Seq2SeqExample> Generate(IEnumerable<int[]> documents, Generator rng) =>
        GenerateTagged(documents, rng).Select(s => s.Example);

    /// <summary>Generates examples from raw texts, tokenized with <see cref="Tokenizer"/>, lazily.</summary>
    public IEnumerable<Seq2SeqExample> GenerateFromTexts(IEnumerable<string> texts, Generator rng)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return Generate(texts.Select(t => Tokenizer.Encode(t)), rng);
    }

    /// <summary>Like <see cref="Generate"/>, also reporting which task made each example.</summary>
    public IEnumerable<Ul2Sample> GenerateTagged(IEnumerable<int[]> documents, Generator rng)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(rng);
        return GenerateIterator(documents, rng);
    }

    private IEnumerable<Ul2Sample> GenerateIterator(IEnumerable<int[]> documents, Generator rng)
    {
        var buffer = new List<int>();
        using var source = documents.GetEnumerator();
        var exhausted = false;
        while (true)
        {
            var task = SampleTask(rng);
            var need = _rawLengths[task];
            while (buffer.Count < need && !exhausted)
            {
                if (source.MoveNext())
                    buffer.AddRange(source.Current);
                else
                    exhausted = true;
            }
            var take = Math.Min(need, buffer.Count);
            if (take < 2)
                yield break;
            var chunk = new int[take];
            buffer.CopyTo(0, chunk, 0, take);
            buffer.RemoveRange(0, take);
            yield return new Ul2Sample(task, Apply(task, chunk, rng));
        }
    }
}
