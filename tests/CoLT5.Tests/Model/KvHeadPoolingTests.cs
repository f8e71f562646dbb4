// MHA → GQA / MQA conversion of the cross-attention: pooled weights are the group means, pooling to the same count
// changes nothing, a model whose heads already agree within each group computes the same logits after pooling, the
// converted model survives a checkpoint round trip, and counts that do not divide are rejected.
using System;
using System.IO;
using System.Linq;
using CoLT5.Model;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Conversion;
using CoLT5.Nn;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using Xunit;

namespace CoLT5.Tests.Model;

public sealed class KvHeadPoolingTests
{
    private static Seq2SeqModel MultiHead(ulong seed) => Seq2SeqModel.Create(ModelTestKit.Micro("colt5", kvHeads: 4),
        seed, DType.Float64);

    private static double[] Logits(Seq2SeqModel model)
    {
        var config = model.Config;
        var (ids, mask) = ModelTestKit.Inputs(2, 13, config.VocabSize, 3, padLastRow: 2);
        var (dec, _) = ModelTestKit.Targets(2, 5, config.VocabSize, 4);
        model.Eval();
        using var output = model.Forward(ids, mask, dec);
        return output.Logits.ToDoubleArray();
    }

    [Theory]
    [InlineData(2)]
    [InlineData(1)]
    public void PooledWeightsAreTheGroupMeans(int groups)
    {
        using var scope = DisposeScope.Enter();
        using var source = MultiHead(1);
        using var pooled = KvHeadPooling.PoolCrossAttention(source, groups);
        Assert.Equal(groups, pooled.Config.NumCrossKvHeads);
        var dk = source.Config.DKv;
        var perGroup = 4 / groups;
        foreach (var (name, tensor) in source.Parameters.Parameters)
        {
            var converted = pooled.Parameters.Find(name)!;
            if (!KvHeadPooling.IsCrossKeyOrValue(name))
            {
                Assert.Equal(tensor.ToDoubleArray(), converted.ToDoubleArray());
                continue;
            }
            var d = tensor.Shape[1];
            Assert.Equal(new Shape(groups * dk, d), converted.Shape);
            var w = tensor.ToDoubleArray();
            var got = converted.ToDoubleArray();
            for (var g = 0; g < groups; g++)
            {
                for (var r = 0; r < dk * d; r++)
                {
                    var mean = Enumerable.Range(0, perGroup).Average(h => w[((g * perGroup + h) * dk * d) + r]);
                    Assert.Equal(mean, got[(g * dk * d) + r], 12);
                }
            }
        }
    }

    [Fact]
    public void PoolingToTheSameCountChangesNothing()
    {
        using var scope = DisposeScope.Enter();
        using var source = MultiHead(2);
        using var same = KvHeadPooling.PoolCrossAttention(source, 4);
        Assert.Equal(Logits(source), Logits(same));
    }

    /// <summary>When the heads of each group already share their k and v, pooling is exact: same logits.</summary>
    [Fact]
    public void HeadsThatAgreeWithinGroupsPoolWithoutChange()
    {
        using var scope = DisposeScope.Enter();
        using var random = MultiHead(3);
        var dk = random.Config.DKv;
        var store = new ParameterStore(DType.Float64, Device.Cpu, new Generator(0));
        using (Tensor.NoGrad())
        {
            foreach (var (name, tensor) in random.Parameters.Parameters)
            {
                if (!KvHeadPooling.IsCrossKeyOrValue(name))
                {
                    store.Add(name, tensor.ContiguousCopy());
                    continue;
                }
                // heads 0, 1 copy head 0; heads 2, 3 copy head 2 (two groups of two)
                var w = tensor.ToDoubleArray();
                var block = dk * tensor.Shape[1];
                Array.Copy(w, 0, w, block, block);
                Array.Copy(w, 2 * block, w, 3 * block, block);
                store.Add(name, Tensor.FromArray<double>(w, tensor.Shape));
            }
        }
        using var source = new Seq2SeqModel(random.Config, store);
        using var pooled = KvHeadPooling.PoolCrossAttention(source, 2);
        Closeness.Assert("logits after pooling", Logits(pooled), Logits(source), 1e-12);
    }

    [Fact]
    public void TheConvertedModelSurvivesACheckpointRoundTrip()
    {
        using var scope = DisposeScope.Enter();
        using var source = MultiHead(4);
        using var pooled = KvHeadPooling.PoolCrossAttention(source, 1);
        var dir = Path.Combine(Path.GetTempPath(), $"colt5-mqa-{Guid.NewGuid():N}");
        try
        {
            Checkpoint.Save(pooled, dir);
            using var loaded = Checkpoint.Load(dir, DType.Float64);
            Assert.Equal(1, loaded.Config.NumCrossKvHeads);
            Assert.Equal(Logits(pooled), Logits(loaded));
        }
        finally
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0)]
    [InlineData(8)]
    public void CountsThatDoNotDivideAreRejected(int groups)
    {
        using var scope = DisposeScope.Enter();
        using var source = MultiHead(5);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => KvHeadPooling.PoolCrossAttention(source, groups));
        Assert.Contains("must divide", e.Message);
    }
}
