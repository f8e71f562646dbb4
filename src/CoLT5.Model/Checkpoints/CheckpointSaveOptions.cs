// How Checkpoint.Save lays a model out on disk: the float format of the weights, the shard size, extra safetensors
// metadata, and the tokenizer file that travels with the folder.
using System.Collections.Generic;
using CoLT5.Tensors.Serialization;

namespace CoLT5.Model.Checkpoints;

/// <summary>Options of <see cref="Checkpoint.Save(Seq2SeqModel, string, CheckpointSaveOptions?)"/>.</summary>
public sealed record CheckpointSaveOptions
{
    /// <summary>Hugging Face's default shard size (5 GB, decimal).</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    /// <summary>The file format of every floating-point tensor: F32, F16, BF16 or F64 (narrowing rounds to
    /// nearest-even), or null (default) to store each tensor in its own dtype, bit for bit.</summary>
    public SafetensorsDType? StoreFloatsAs { get; init; }

    /// <summary>Weights larger than this (data bytes) are split into shards of at most this size (a single tensor
    /// larger than it gets a shard of its own) plus model.safetensors.index.json; smaller ones go to one
    /// model.safetensors.</summary>
    public long MaxShardBytes { get; init; } = DefaultMaxShardBytes;

    /// <summary>Extra "__metadata__" entries of each weights file (merged over {"format": "pt"}).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>A SentencePiece model file copied into the folder as spiece.model (the tokenizer of a Hugging Face
    /// T5 folder), or null to leave the folder's tokenizer file as it is.</summary>
    public string? SentencePieceModel { get; init; }
}
