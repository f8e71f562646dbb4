// Padding invariance for every encoder type but FNet: extra padded positions (holding arbitrary ids) or a longer
// sibling row in the batch change neither the encoder output of the real tokens nor the decoder logits of the real
// targets.
using System.Linq;
using CoLT5.Model;
using CoLT5.Model.Configuration;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Model;

[Trait("Category", "Model")]
public sealed class PaddingInvarianceTests
{
    /// <summary>A row of <see cref="N"/> real tokens and <see cref="T"/> targets, padded by <see cref="Pad"/> inputs
    /// and <see cref="TargetPad"/> targets, next to a sibling row <see cref="Longer"/> tokens longer still.</summary>
    public sealed record Draw(int N, int Pad, int Longer, int T, int TargetPad, bool Training, ulong Seed)
    {
        public override string ToString() =>
            $"n {N} + {Pad} padding, sibling {N + Pad + Longer}, t {T} + {TargetPad}, " +
            $"{(Training ? "training" : "eval")}, seed {Seed}";
    }

    // Radius 3 (blocks of 4) and global blocks of 4, so lengths up to 17 cross several local and global blocks.
    private static readonly Gen<Draw> Draws =
        from n in Gen.Choose(1, 13)
        from pad in Gen.Choose(1, 6)
        from longer in Gen.Choose(0, 5)
        from t in Gen.Choose(1, 5)
        from targetPad in Gen.Choose(0, 3)
        from training in Gen.Elements(true, false)
        from seed in TensorGen.Seed
        select new Draw(n, pad, longer, t, targetPad, training, seed);

    // FNet is left out on purpose: its outputs depend on the padded length, which sets the DFT's frequency grid
    // (pad content does not reach them: FourierEncoderTests checks that).
    public static TheoryData<string> Encoders() =>
        [.. ModelTestKit.EncoderNames.Where(e => e != "fnet"), "colt5-fractions"];

    // "colt5-fractions" routes fractions of each row's real tokens instead of fixed counts.
    private static ModelConfig ConfigFor(string name) => name == "colt5-fractions"
        ? ModelTestKit.Micro("colt5") with { RoutedFfTokens = 0.3, RoutedQTokens = 0.4, RoutedKvTokens = 0.6 }
        : ModelTestKit.Micro(name);

    [Theory]
    [MemberData(nameof(Encoders))]
    public void PaddingChangesNoRealOutput(string encoder) => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var model = Seq2SeqModel.Create(ConfigFor(encoder), d.Seed, DType.Float64);
        model.Train(d.Training);
        var g = new Generator(d.Seed + 1);
        var ids = Ids(d.N, g);
        var targets = Ids(d.T, g);
        var (encoded, logits) = Run(model, [ids], [targets], d.N, d.T);

        // the same row with padding holding arbitrary ids, alone and next to a longer sibling
        int width = d.N + d.Pad, wide = width + d.Longer, targetWidth = d.T + d.TargetPad;
        var padded = ids.Concat(Ids(d.Pad, g)).ToArray();
        var paddedTargets = targets.Concat(Ids(d.TargetPad, g)).ToArray();
        var (alone, aloneLogits) = Run(model, [padded], [paddedTargets], d.N, d.T);
        Compare($"{encoder} {d}: encoder output, padded", alone, encoded, d.N, width);
        Compare($"{encoder} {d}: logits, padded", aloneLogits, logits, d.T, targetWidth);
        var sibling = Ids(wide, g);
        var siblingTargets = Ids(targetWidth, g);
        var (batched, batchedLogits) = Run(model, [padded.Concat(Ids(d.Longer, g)).ToArray(), sibling],
            [paddedTargets, siblingTargets], d.N, d.T, wide);
        Compare($"{encoder} {d}: encoder output, with a sibling", batched, encoded, d.N, wide);
        Compare($"{encoder} {d}: logits, with a sibling", batchedLogits, logits, d.T, targetWidth);
    }, name: nameof(PaddingChangesNoRealOutput) + "." + encoder);

    private static int[] Ids(int count, Generator g) =>
        Enumerable.Range(0, count).Select(_ => 3 + g.NextInt(37)).ToArray();

    // Runs rows of equal width: row 0 has n real inputs (the rest padding), other rows are all real. Returns the
    // encoder output (B, width, d) and the logits (B, targets, V) as flat arrays.
    private static (double[] Encoded, double[] Logits) Run(Seq2SeqModel model, int[][] rows, int[][] targets, int n,
        int t, int? siblingWidth = null)
    {
        using var scope = DisposeScope.Enter();
        int batch = rows.Length, width = rows[0].Length;
        var mask = LayerTestKit.Trailing([n, .. Enumerable.Repeat(siblingWidth ?? width, batch - 1)], width);
        var ids = Tensor.FromArray<int>(rows.SelectMany(r => r).ToArray(), new Shape(batch, width));
        var decoderIds = Tensor.FromArray<int>(targets.SelectMany(r => r).ToArray(),
            new Shape(batch, targets[0].Length));
        var encoded = model.Encode(ids, mask);
        using var state = model.StartDecoding(encoded, mask);
        var logits = model.DecodeLogits(decoderIds, state);
        return (encoded.ToDoubleArray(), logits.ToDoubleArray());
    }

    // The first `count` positions of row 0 of `got` (rows of `width` positions) against the unpadded `want`.
    private static void Compare(string what, double[] got, double[] want, int count, int width)
    {
        var per = want.Length / count;
        Closeness.Assert(what, got.Take(count * per).ToArray(), want, 1e-12);
        Xunit.Assert.True(got.Length >= width * per, $"{what}: {got.Length} values");
    }
}
