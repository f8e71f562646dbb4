// ModelConfig.Validate: every CoLT5 router field is checked up front, with a message that names the field and the
// value, instead of failing at the first router call.
using System;
using System.Globalization;
using CoLT5.Model.Configuration;
using Xunit;

namespace CoLT5.Tests.Model;

public sealed class ModelConfigTests
{
    public static TheoryData<string, string> BadRouterFields() => new()
    {
        { "router_eps_init", "0" },
        { "router_eps_init", "-4" },
        { "router_eps_init", "NaN" },
        { "router_eps_init", "Infinity" },
        { "router_eps_decay", "0" },
        { "router_eps_decay", "-0.7" },
        { "router_eps_decay", "1.5" },
        { "router_eps_decay", "NaN" },
        { "router_eps", "0" },
        { "router_eps", "Infinity" },
        { "router_iters", "0" },
        { "router_k_ratio", "0.5" },
        { "router_k_ratio", "Infinity" },
        { "routed_ff_tokens", "0" },
        { "routed_ff_tokens", "Infinity" },
        { "routed_q_tokens", "-1" },
        { "routed_kv_tokens", "0" },
        { "routed_kv_tokens", "NaN" },
    };

    [Theory]
    [MemberData(nameof(BadRouterFields))]
    public void AnInvalidRouterFieldIsReportedWithItsNameAndValue(string field, string value)
    {
        var config = With(Presets.Get("tiny"), field, double.Parse(value, CultureInfo.InvariantCulture));
        var error = Assert.Throws<ConfigException>(() => config.Validate());
        Assert.Contains($"{field} must", error.Message, StringComparison.Ordinal);
        Assert.Contains($"got {value}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheDefaultsAndTheSpecsEpsilonScalingAreValid()
    {
        Presets.Get("tiny").Validate();
        // spec D3's option: ε₀ = 4, ×0.7 per iteration, 20 iterations
        (Presets.Get("tiny") with { RouterEpsInit = 4, RouterEpsDecay = 0.7, RouterIters = 20 }).Validate();
        // router fields of another encoder type are not used, so not checked
        (Presets.Get("tiny").WithEncoder("t5") with { RouterEpsDecay = 0 }).Validate();
    }

    [Fact]
    public void AllProblemsAreReportedInOneMessage()
    {
        var config = Presets.Get("tiny") with { RouterEpsInit = 0, RouterEpsDecay = 2, RouterKRatio = 0 };
        var error = Assert.Throws<ConfigException>(() => config.Validate());
        foreach (var field in new[] { "router_eps_init", "router_eps_decay", "router_k_ratio" })
            Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    private static ModelConfig With(ModelConfig config, string field, double value) => field switch
    {
        "router_eps_init" => config with { RouterEpsInit = value },
        "router_eps_decay" => config with { RouterEpsDecay = value },
        "router_eps" => config with { RouterEps = value },
        "router_iters" => config with { RouterIters = (int)value },
        "router_k_ratio" => config with { RouterKRatio = value },
        "routed_ff_tokens" => config with { RoutedFfTokens = value },
        "routed_q_tokens" => config with { RoutedQTokens = value },
        "routed_kv_tokens" => config with { RoutedKvTokens = value },
        _ => throw new ArgumentException($"unknown field {field}", nameof(field)),
    };
}
