// T5 relative-position buckets and bias: the per-offset construction equals the per-pair definition
// bucket(j − (i + offset)) for every query/key pair, and the bias is differentiable in the table.
using System.Linq;
using CoLT5.Nn.Functional;
using CoLT5.Tensors;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Model;

public sealed class RelativePositionTests
{
    private static readonly Gen<(int Q, int K, int Offset, bool Bidirectional, ulong Seed)> Cases =
        from q in Gen.Choose(1, 70)
        from k in Gen.Choose(1, 70)
        from offset in Gen.Choose(0, 300)
        from bidirectional in Gen.Elements(true, false)
        from seed in TensorGen.Seed
        select (q, k, offset, bidirectional, seed);

    [Fact]
    public void BucketsEqualThePerPairDefinition() => Props.Check(Cases, c =>
    {
        using var buckets = RelativePosition.Buckets(c.Q, c.K, c.Bidirectional, 32, 128, c.Offset);
        var got = buckets.ToArray<int>();
        for (var i = 0; i < c.Q; i++)
        {
            for (var j = 0; j < c.K; j++)
                Assert.Equal(RelativePosition.Bucket(j - (i + c.Offset), c.Bidirectional, 32, 128), got[i * c.K + j]);
        }
    });

    [Fact]
    public void BiasReadsTheTableAtEachPairsBucketAndIsDifferentiable() => Props.Check(Cases, c =>
    {
        int q = 1 + c.Q % 9, k = 1 + c.K % 9, heads = 3;
        using var table = TensorGen.Normal([32, heads], c.Seed);
        using var bias = RelativePosition.Bias(table, q, k, c.Bidirectional, 128, c.Offset);
        Assert.Equal(new Shape(heads, q, k), bias.Shape);
        var t = table.ToDoubleArray();
        var b = bias.ToDoubleArray();
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < q; i++)
            {
                for (var j = 0; j < k; j++)
                {
                    var bucket = RelativePosition.Bucket(j - (i + c.Offset), c.Bidirectional, 32, 128);
                    Assert.Equal(t[bucket * heads + h], b[(h * q + i) * k + j]);
                }
            }
        }
        Props.Grad(x => RelativePosition.Bias(x[0], q, k, c.Bidirectional, 128, c.Offset), table);
    });

    /// <summary>The fused attention's bucket map over ±max_distance, with offsets clamped into it, gives every
    /// offset's bucket (T5 buckets saturate at max_distance), for the table sizes the presets use and odd ones.</summary>
    [Theory]
    [InlineData(32, 128, true)]
    [InlineData(32, 128, false)]
    [InlineData(8, 12, true)]
    [InlineData(7, 5, true)]
    [InlineData(2, 1, true)]
    public void ClampedBucketMapGivesEveryOffsetsBucket(int buckets, int maxDistance, bool bidirectional)
    {
        using var store = Model.LayerTestKit.Store(1);
        var table = new CoLT5.Model.Layers.RelativeBias(store.Root("bias"), buckets, 2, maxDistance, 0.5);
        var (map, low) = table.BucketMap(bidirectional);
        for (var offset = -6 * maxDistance - 50; offset <= 6 * maxDistance + 50; offset++)
        {
            var got = map[System.Math.Clamp(offset - low, 0, map.Length - 1)];
            Assert.Equal(RelativePosition.Bucket(offset, bidirectional, buckets, maxDistance), got);
        }
    }
}
