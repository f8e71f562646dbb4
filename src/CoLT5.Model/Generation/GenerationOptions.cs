// Decoding settings shared by greedy and beam search (Hugging Face generate() semantics).
namespace CoLT5.Model.Generation;

/// <summary>How to decode.</summary>
public sealed record GenerationOptions
{
    /// <summary>Tokens to generate at most (the start token not counted).</summary>
    public int MaxNewTokens { get; init; } = 32;

    /// <summary>1 = greedy; more = beam search.</summary>
    public int NumBeams { get; init; } = 1;

    /// <summary>Beam scores are Σ log p / length^penalty (length counts generated tokens, EOS included).</summary>
    public double LengthPenalty { get; init; } = 1.0;

    /// <summary>Stop a row's beam search as soon as it has <see cref="NumBeams"/> finished hypotheses.</summary>
    public bool EarlyStopping { get; init; } = true;

    /// <summary>Best hypotheses returned per input (≤ beams).</summary>
    public int NumReturnSequences { get; init; } = 1;
}

/// <summary>Generated sequences (each starting with the decoder start token, right-padded with pad), their
/// scores (beam search) and, for greedy decoding, the raw logits of every step.</summary>
/// <param name="Sequences">One row per returned sequence.</param>
/// <param name="Scores">Beam scores per sequence (null for greedy).</param>
/// <param name="StepLogits">Greedy only: [step][row] logits over the vocabulary.</param>
public sealed record GenerationResult(int[][] Sequences, double[]? Scores, double[][][]? StepLogits);
