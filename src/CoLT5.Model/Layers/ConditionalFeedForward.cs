// CoLT5 conditional feed-forward (spec §2.2): a light FF (d_ff/2) on every token plus a heavy FF (4·d_ff) on the
// m routed tokens, its output weighted by the router and scattered back: X + FF_light(X) + s̃·FF_heavy(X).
using CoLT5.Model.Configuration;
using CoLT5.Nn;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;

namespace CoLT5.Model.Layers;

/// <summary>Light FF on all tokens plus routed heavy FF (names LightFF, HeavyFF, router).</summary>
public sealed class ConditionalFeedForward : Module
{
    private readonly FeedForward light, heavy;
    private readonly Router router;
    private readonly ModelConfig config;

    /// <summary>Creates the branches and the router under <paramref name="p"/> (the FF sub-layer).</summary>
    public ConditionalFeedForward(ParameterBuilder p, ModelConfig config, Dropout dropout)
    {
        this.config = config;
        light = Own(new FeedForward(p.Sub("LightFF"), config, config.DFfLight, dropout));
        heavy = Own(new FeedForward(p.Sub("HeavyFF"), config, config.DFfHeavy, dropout));
        router = Own(new Router(p.Sub("router"), config));
    }

    /// <summary>h: the normed input (B, n, d) → light + routed heavy output (B, n, d).</summary>
    public Tensor Forward(Tensor h, EncoderContext context)
    {
        // light feed-forward sees every token
        using var lightOut = light.Forward(h);
        // heavy feed-forward sees only the m routed tokens, weighted by their router score
        using var route = router.Forward(h, context, config.FfTokens);
        context.Observe(RouterKind.FeedForward, route);
        using var heavyOut = RoutedBranch.Apply(h, route, heavy.Forward);
        return lightOut + heavyOut;
    }
}

/// <summary>Gather routed rows → branch → scale by router weights → scatter-add back.</summary>
public static class RoutedBranch
{
    /// <summary>Routed rows of h (B, n, d): (B·S, d).</summary>
    public static Tensor Gather(Tensor h, Route route)
    {
        using var rows = h.Reshape(-1, h.Shape[^1]);
        return rows.IndexSelect(0, route.FlatIndex);
    }

    /// <summary>(B·S, d) routed outputs scaled by the weights and added at their positions into zeros (B, n, d).</summary>
    public static Tensor Scatter(Tensor routed, Route route, Tensor like)
    {
        using var weights = route.Weights.Reshape(-1, 1);
        using var scaled = routed * weights;
        using var zeros = Tensor.Zeros(new Shape(like.Shape[0] * like.Shape[1], like.Shape[2]), like.DType, like.Device);
        using var sums = zeros.IndexAdd(0, route.FlatIndex, scaled);
        return sums.Reshape(like.Shape);
    }

    /// <summary>Gather, run <paramref name="branch"/>, scale and scatter back.</summary>
    public static Tensor Apply(Tensor h, Route route, System.Func<Tensor, Tensor> branch)
    {
        using var selected = Gather(h, route);
        using var output = branch(selected);
        return Scatter(output, route, h);
    }
}
