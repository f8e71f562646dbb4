// The input-length limit of generate and eval: --max-input-length, else the limit the checkpoint was trained with
// (its trainer-state.json), else 4096 tokens.
using CoLT5.Model.Training;

namespace CoLT5.Cli.Commands;

/// <summary>Length limits for commands that read a checkpoint.</summary>
internal static class InputLimits
{
    /// <summary>The default when neither the flag nor the checkpoint says.</summary>
    public const int DefaultMaxInputLength = 4096;

    /// <summary>The effective (input, target) limits in tokens, EOS included.</summary>
    public static (int Input, int Target) For(string checkpoint, int? maxInput, int? maxTarget)
    {
        var trained = TrainingCheckpoint.PeekState(checkpoint)?.Data;
        return (maxInput ?? trained?.MaxInputLength ?? DefaultMaxInputLength,
            maxTarget ?? trained?.MaxTargetLength ?? TrainRunner.DefaultMaxTargetLength);
    }
}
