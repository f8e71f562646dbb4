// The shape of one UL2 denoising objective: how many raw tokens it needs and how it turns them into an example.
using System;
using CoLT5.Model.Tokenization;
using CoLT5.Tensors.Random;

namespace CoLT5.Model.Data;

/// <summary>UL2's denoiser families, used only to pick a mode token when mode tokens are enabled.</summary>
public enum Ul2Mode
{
    /// <summary>Regular span corruption (short spans, low noise): mode token [NLU].</summary>
    Regular,

    /// <summary>Sequential denoising (prefix-LM): mode token [S2S].</summary>
    Sequential,

    /// <summary>Extreme span corruption (mean span ≥ 12 or noise ≥ 30%): mode token [NLG].</summary>
    Extreme,
}

/// <summary>One denoising objective of a UL2 mixture.</summary>
public interface IDenoisingTask
{
    /// <summary>A short name for logs, e.g. <c>span(0.15,8)</c>.</summary>
    string Name { get; }

    /// <summary>The UL2 family of the task.</summary>
    Ul2Mode Mode { get; }

    /// <summary>The raw chunk length whose example has an input (EOS included) of at most
    /// <paramref name="inputLength"/> tokens — exactly that many for span corruption in the usual case.</summary>
    int RawLengthFor(int inputLength);

    /// <summary>Builds one example from <paramref name="tokens"/> (at least 2 ids, no EOS); both sides end with
    /// EOS.</summary>
    Seq2SeqExample Apply(ReadOnlySpan<int> tokens, ITokenizer tokenizer, Generator rng);
}
