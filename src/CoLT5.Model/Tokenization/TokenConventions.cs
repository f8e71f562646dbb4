// Conventions shared by every tokenizer and the data pipeline (Hugging Face T5's label convention).
namespace CoLT5.Model.Tokenization;

/// <summary>Ids with a fixed meaning outside any one vocabulary.</summary>
public static class TokenConventions
{
    /// <summary>The label value that the loss ignores (padding positions of the labels), as in Hugging Face.</summary>
    public const int IgnoreIndex = -100;
}
