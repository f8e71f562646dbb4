// Which tokenizer a checkpoint's text goes through: the folder's spiece.model when it has one (a Hugging Face T5 /
// LongT5 folder), else the byte tokenizer the built-in training uses; and the check that the model's vocabulary
// holds the tokenizer's ids.
using System.IO;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Configuration;
using CoLT5.Model.Tokenization;
using CoLT5.Model.Tokenization.SentencePiece;
using CoLT5.Model.Training;

namespace CoLT5.Cli.Commands;

/// <summary>The tokenizer of a checkpoint folder.</summary>
internal static class CheckpointTokenizer
{
    /// <summary>The SentencePiece model file of a Hugging Face T5 folder.</summary>
    public const string SentencePieceFile = Checkpoint.SentencePieceFile;

    /// <summary>True when the folder carries its own SentencePiece model.</summary>
    public static bool HasSentencePiece(string checkpoint) =>
        File.Exists(Path.Combine(checkpoint, SentencePieceFile));

    /// <summary>SentencePiece (T5 layout: 100 sentinels above the pieces) when the folder has spiece.model, else
    /// the byte tokenizer.</summary>
    /// <exception cref="SentencePieceFormatException">spiece.model is malformed.</exception>
    public static ITokenizer For(string checkpoint) =>
        (ITokenizer?)Checkpoint.LoadTokenizer(checkpoint) ?? TrainingData.Tokenizer;

    /// <summary>Refuses a model whose vocabulary cannot hold the tokenizer's ids.</summary>
    /// <exception cref="CliException">vocab_size is too small.</exception>
    public static void RequireVocabulary(ModelConfig config, ITokenizer tokenizer, string checkpoint)
    {
        if (config.VocabSize < tokenizer.VocabSize)
            throw new CliException($"checkpoint {checkpoint}: vocab_size {config.VocabSize} cannot hold the " +
                $"{(tokenizer is SentencePieceTokenizer ? SentencePieceFile : "byte tokenizer")}'s " +
                $"{tokenizer.VocabSize} ids");
    }
}
