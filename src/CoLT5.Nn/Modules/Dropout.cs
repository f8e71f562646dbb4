// Inverted dropout that is active only in training mode and draws its masks from a shared reproducible stream.
using CoLT5.Tensors;
using CoLT5.Tensors.Random;

namespace CoLT5.Nn.Modules;

/// <summary>Dropout with probability <see cref="P"/>; the identity in evaluation mode or when P is 0.</summary>
public sealed class Dropout(double p, Generator generator) : Module
{
    /// <summary>Probability of zeroing an element.</summary>
    public double P { get; } = p;

    /// <summary>Applies dropout (training) or returns a new reference to <paramref name="x"/> (evaluation).</summary>
    public Tensor Forward(Tensor x) => x.Dropout(P, generator, Training && P > 0);
}
