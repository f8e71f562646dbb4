// A serialisable description of a run's data (the built-in retrieval task or a JSONL file), saved in training
// checkpoints so that a resumed run rebuilds exactly the same batch stream and held-out set.
using System.Collections.Generic;
using System.Text.Json.Serialization;
using CoLT5.Model.Data;

namespace CoLT5.Model.Training;

/// <summary>Where a run's examples come from.</summary>
public enum TrainingDataKind
{
    /// <summary>The built-in synthetic key/value retrieval task (<see cref="KeyValueRetrievalTask"/>).</summary>
    Retrieval,

    /// <summary>A seq2seq JSON Lines file (<c>{"input": ..., "target": ...}</c>), byte-tokenized.</summary>
    Jsonl,
}

/// <summary>
/// The data of a run. Retrieval: training batch i holds train-split examples i·B … i·B + B − 1 of the task seeded
/// with <see cref="Seed"/>; held-out examples are the held-out split's first ones. JSONL: the file minus its last
/// <see cref="HeldOut"/> records is shuffled into batches anew each epoch (seeded by <see cref="Seed"/> and the epoch,
/// length-bucketed); held-out examples are those last records, or the records of <see cref="EvalPath"/>.
/// Every batch is padded per <see cref="InputMultiple"/> and <see cref="TargetMultiple"/>.
/// </summary>
public sealed record TrainingDataSpec
{
    /// <summary>The kind of data.</summary>
    public TrainingDataKind Kind { get; init; }

    /// <summary>The training JSONL file (JSONL only).</summary>
    public string? Path { get; init; }

    /// <summary>SHA-256 (hex) of <see cref="Path"/> when the run started; a resume refuses a changed file.</summary>
    public string? Sha256 { get; init; }

    /// <summary>A SentencePiece model (with T5's 100 sentinels) to tokenize JSONL text with, e.g. a Hugging Face
    /// folder's spiece.model; null: the byte tokenizer.</summary>
    public string? SentencePieceModel { get; init; }

    /// <summary>SHA-256 of <see cref="SentencePieceModel"/> (a resumed run must tokenize the same way).</summary>
    public string? SentencePieceSha256 { get; init; }

    /// <summary>A separate held-out JSONL file (JSONL only); null holds out the last <see cref="HeldOut"/>
    /// records.</summary>
    public string? EvalPath { get; init; }

    /// <summary>Records at the end of <see cref="Path"/> kept for evaluation when there is no
    /// <see cref="EvalPath"/>.</summary>
    public int HeldOut { get; init; }

    /// <summary>Seed of the task's examples (retrieval) or of the epoch shuffles (JSONL).</summary>
    public ulong Seed { get; init; }

    /// <summary>The retrieval task's settings (retrieval only; null means the defaults).</summary>
    public KeyValueRetrievalOptions? Retrieval { get; init; }

    /// <summary>
    /// A document-length warm-up for the retrieval task (null: none): the first stage's <see cref="RetrievalStage.Batches"/>
    /// training batches draw documents of exactly its length, then the next stage's, and after the last stage the
    /// task's own lengths. The queried record stays at least half the stage's length from the question. Held-out
    /// examples always use the task's own lengths.
    /// </summary>
    public IReadOnlyList<RetrievalStage>? RetrievalWarmup { get; init; }

    /// <summary>The longest input in tokens, EOS included. Longer inputs are an error unless
    /// <see cref="Truncate"/>.</summary>
    public int MaxInputLength { get; init; } = 4096;

    /// <summary>The longest target in tokens, EOS included.</summary>
    public int MaxTargetLength { get; init; } = 512;

    /// <summary>Cut over-long examples (keeping EOS last) instead of rejecting them.</summary>
    public bool Truncate { get; init; }

    /// <summary>Round each batch's input length up to a multiple of this (128 = one local-attention block).</summary>
    public int InputMultiple { get; init; } = 128;

    /// <summary>Round each batch's target length up to a multiple of this.</summary>
    public int TargetMultiple { get; init; } = 8;

    /// <summary>The padding rule the spec implies.</summary>
    [JsonIgnore] public BatchPadding Padding => new(InputMultiple, TargetMultiple);

    /// <summary>The built-in retrieval task with <paramref name="options"/> (null: the task's defaults).</summary>
    public static TrainingDataSpec ForRetrieval(ulong seed, KeyValueRetrievalOptions? options = null)
    {
        var task = options ?? new KeyValueRetrievalOptions();
        var longest = task.MaxInputTokens;
        return new TrainingDataSpec
        {
            Kind = TrainingDataKind.Retrieval,
            Seed = seed,
            Retrieval = task,
            MaxInputLength = (longest + 127) / 128 * 128,
            MaxTargetLength = task.TargetTokens,
        };
    }
}

/// <summary>One stage of a retrieval document-length warm-up.</summary>
/// <param name="Batches">Training batches (micro-batches) drawn in this stage.</param>
/// <param name="DocumentLength">Document length in characters (= byte tokens) during the stage.</param>
public sealed record RetrievalStage(long Batches, int DocumentLength);
