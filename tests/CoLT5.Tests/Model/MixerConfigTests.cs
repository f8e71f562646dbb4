// The FNet and Sparse Mixer configuration: encoder names both ways, the layer layouts (attention at the TOP, MoE in
// the MIDDLE, the paper's Base and Small placements), the expert capacity formula, validation of every new field,
// and the checkpoint names each encoder's parameters get.
using System;
using System.Globalization;
using System.Linq;
using CoLT5.Model;
using CoLT5.Model.Configuration;
using Xunit;

namespace CoLT5.Tests.Model;

public sealed class MixerConfigTests
{
    [Theory]
    [InlineData("fnet", "fourier", EncoderType.FNet)]
    [InlineData("fourier", "fourier", EncoderType.FNet)]
    [InlineData("sparse-mixer", "sparse-mixer", EncoderType.SparseMixer)]
    public void TheEncoderSwitchKnowsTheNewNames(string name, string configValue, EncoderType type)
    {
        var config = Presets.Get("tiny").WithEncoder(name);
        Assert.Equal(configValue, config.EncoderAttentionType);
        Assert.Equal(type, config.Encoder);
        Assert.Equal(config.Encoder, config.WithEncoder(config.Encoder.CliName()).Encoder);
        var error = Assert.Throws<ConfigException>(() => config.WithEncoder("hartley"));
        Assert.Contains("fnet, sparse-mixer", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Sparse Mixer Base (14 layers, 4 + 4) puts attention in 10–13 and MoE in 5–8; Small (8 layers)
    /// attention in 4–7 and MoE in 2–5 (spec 2.1).</summary>
    [Theory]
    [InlineData(14, 4, 4, new[] { 10, 11, 12, 13 }, new[] { 5, 6, 7, 8 })]
    [InlineData(8, 4, 4, new[] { 4, 5, 6, 7 }, new[] { 2, 3, 4, 5 })]
    [InlineData(2, 1, 1, new[] { 1 }, new[] { 1 })]
    [InlineData(7, 2, 3, new[] { 5, 6 }, new[] { 2, 3, 4 })]
    [InlineData(6, 0, 0, new int[0], new int[0])]
    public void AttentionGoesToTheTopAndMoeToTheMiddle(int layers, int attention, int moe, int[] attentionAt,
        int[] moeAt)
    {
        var config = new ModelConfig { NumLayers = layers, AttentionLayers = attention, MoeLayers = moe }
            .WithEncoder("sparse-mixer").Validate();
        Assert.Equal(attentionAt, Enumerable.Range(0, layers).Where(config.HasAttention));
        Assert.Equal(moeAt, Enumerable.Range(0, layers).Where(config.HasMoe));
    }

    [Fact]
    public void TheDefaultsFollowThePapersFourAndFourWhereTheStackAllows()
    {
        foreach (var (layers, expected) in new[] { (2, 1), (8, 4), (12, 4), (24, 4) })
        {
            var config = new ModelConfig { NumLayers = layers }.WithEncoder("sparse-mixer");
            Assert.Equal(expected, config.SparseAttentionLayers);
            Assert.Equal(expected, config.SparseMoeLayers);
        }
        var fnet = Presets.Get("base").WithEncoder("fnet");
        Assert.All(Enumerable.Range(0, fnet.NumLayers), i => Assert.False(fnet.HasAttention(i) || fnet.HasMoe(i)));
        var t5 = Presets.Get("base").WithEncoder("t5");
        Assert.All(Enumerable.Range(0, t5.NumLayers), i => Assert.True(t5.HasAttention(i) && !t5.HasMoe(i)));
    }

    /// <summary>C = max(round(cf·T/E), 4), at most T: 32 for one 512-token example at cf 1 and E = 16, 256 at
    /// T = 4096, 16 at cf 0.5 (Fast Sparse Mixer), and never more than the row holds.</summary>
    [Theory]
    [InlineData(512, 16, 1.0, 32)]
    [InlineData(4096, 16, 1.0, 256)]
    [InlineData(512, 16, 0.5, 16)]
    [InlineData(40, 16, 1.0, 4)]
    [InlineData(3, 16, 1.0, 3)]
    [InlineData(0, 16, 1.0, 0)]
    [InlineData(40, 2, 1.0, 20)]
    [InlineData(10, 4, 1.0, 4)]
    public void ExpertCapacityFollowsTheFormula(int tokens, int experts, double factor, int expected)
    {
        var config = new ModelConfig { NumExperts = experts, ExpertCapacityFactor = factor }
            .WithEncoder("sparse-mixer");
        Assert.Equal(expected, config.ExpertCapacity(tokens));
    }

    public static TheoryData<string, string> BadMixerFields() => new()
    {
        { "num_experts", "0" },
        { "expert_capacity_factor", "0" },
        { "expert_capacity_factor", "Infinity" },
        { "moe_layers", "-1" },
        { "moe_layers", "3" },
        { "attention_layers", "3" },
        { "mixing_length", "0" },
        { "router_z_loss", "-0.0001" },
        { "router_z_loss", "NaN" },
    };

    [Theory]
    [MemberData(nameof(BadMixerFields))]
    public void AnInvalidMixerFieldIsReportedWithItsName(string field, string value)
    {
        var v = double.Parse(value, CultureInfo.InvariantCulture);
        var config = Presets.Get("tiny").WithEncoder("sparse-mixer");
        config = field switch
        {
            "num_experts" => config with { NumExperts = (int)v },
            "expert_capacity_factor" => config with { ExpertCapacityFactor = v },
            "moe_layers" => config with { MoeLayers = (int)v },
            "attention_layers" => config with { AttentionLayers = (int)v },
            "mixing_length" => config with { MixingLength = (int)v },
            _ => config with { RouterZLoss = v },
        };
        var error = Assert.Throws<ConfigException>(() => config.Validate());
        Assert.Contains($"{field} must", error.Message, StringComparison.Ordinal);
        // the same values mean nothing to another encoder type, so they are not checked there
        (config with { EncoderAttentionType = "full" }).Validate();
    }

    [Fact]
    public void TheNewFieldsSurviveConfigJson()
    {
        var config = Presets.Get("tiny").WithEncoder("sparse-mixer") with
        {
            NumExperts = 8,
            ExpertCapacityFactor = 0.5,
            MoeLayers = 2,
            AttentionLayers = 1,
            MixingLength = 256,
            RouterZLoss = 1e-3,
        };
        var json = ConfigFile.ToJson(config);
        foreach (var field in new[] { "num_experts", "expert_capacity_factor", "moe_layers", "attention_layers",
                     "mixing_length", "router_z_loss" })
            Assert.Contains($"\"{field}\"", json, StringComparison.Ordinal);
        Assert.Equal(config, ConfigFile.Parse(json));
        Assert.Equal(EncoderType.FNet, ConfigFile.Parse(ConfigFile.ToJson(Presets.Get("tiny").WithEncoder("fnet")))
            .Encoder);
    }

    /// <summary>The checkpoint names of docs/checkpoint-format.md: Sparse Mixer's mixing kernels in the lower
    /// blocks, T5 attention with the one bias table in its first attention block, the MoE router and stacked experts;
    /// FNet's encoder blocks hold only norms and feed-forwards.</summary>
    [Fact]
    public void ParametersGetTheDocumentedNames()
    {
        using var mixer = Seq2SeqModel.Create(ModelTestKit.Micro("sparse-mixer"), seed: 1);
        var names = mixer.Parameters.Parameters.ToDictionary(p => p.Name, p => p.Tensor.Shape.ToString());
        Assert.Equal("(32, 32)", names["encoder.block.0.layer.0.Mixing.seq_kernel"]);
        Assert.Equal("(16, 16)", names["encoder.block.0.layer.0.Mixing.hidden_kernel"]);
        Assert.True(names.ContainsKey("encoder.block.0.layer.1.DenseReluDense.wi_0.weight"));
        Assert.Equal("(32, 4)", names["encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"]);
        Assert.True(names.ContainsKey("encoder.block.1.layer.0.SelfAttention.q.weight"));
        Assert.Equal("(4, 16)", names["encoder.block.1.layer.1.MoE.router.weight"]);
        Assert.Equal("(4)", names["encoder.block.1.layer.1.MoE.router.bias"]);
        Assert.Equal("(4, 24, 16)", names["encoder.block.1.layer.1.MoE.experts.wi_0.weight"]);
        Assert.Equal("(4, 24, 16)", names["encoder.block.1.layer.1.MoE.experts.wi_1.weight"]);
        Assert.Equal("(4, 16, 24)", names["encoder.block.1.layer.1.MoE.experts.wo.weight"]);
        Assert.DoesNotContain(names.Keys, n => n.StartsWith("encoder.block.0.layer.0.SelfAttention",
            StringComparison.Ordinal));

        using var fnet = Seq2SeqModel.Create(ModelTestKit.Micro("fnet"), seed: 1);
        var encoder = fnet.Parameters.Parameters.Select(p => p.Name).Where(n => n.StartsWith("encoder.",
            StringComparison.Ordinal)).ToArray();
        Assert.All(encoder, n => Assert.True(n.Contains("layer_norm", StringComparison.Ordinal)
            || n.Contains(".layer.1.DenseReluDense.", StringComparison.Ordinal), n));
    }
}
