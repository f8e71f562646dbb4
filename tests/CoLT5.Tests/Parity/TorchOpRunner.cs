// Maps each torch-ops fixture op onto our tensor API (and the Nn functional layer for T5 buckets, attention and
// the router), returning the outputs by the fixture's names.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using CoLT5.Nn.Functional;
using CoLT5.Tensors;
using CoLT5.Tests.Testing;

namespace CoLT5.Tests.Parity;

/// <summary>Runs one fixture case's computation with our engine.</summary>
public static class TorchOpRunner
{
    public static Dictionary<string, Tensor> Run(TorchCase c, IReadOnlyDictionary<string, Tensor> x)
    {
        var p = c.Params;
        Tensor In(string name) => x[name];
        Dictionary<string, Tensor> Y(Tensor y) => new() { ["y"] = y };
        switch (c.Op)
        {
            case "add": return Y(In("a") + In("b"));
            case "sub": return Y(In("a") - In("b"));
            case "mul": return Y(In("a") * In("b"));
            case "div": return Y(In("a") / In("b"));
            case "exp": return Y(In("x").Exp());
            case "log": return Y(In("x").Log());
            case "sqrt": return Y(In("x").Sqrt());
            case "rsqrt": return Y(In("x").Rsqrt());
            case "pow_scalar": return Y(In("x").Pow(c.Number("exponent")));
            case "tanh": return Y(In("x").Tanh());
            case "sigmoid": return Y(In("x").Sigmoid());
            case "relu": return Y(In("x").Relu());
            case "gelu_tanh": return Y(In("x").GeluTanh());
            case "abs": return Y(In("x").Abs());
            case "maximum": return Y(In("a").Maximum(In("b")));
            case "minimum": return Y(In("a").Minimum(In("b")));
            case "clamp": return Y(In("x").Clamp(c.NullableNumber("min"), c.NullableNumber("max")));
            case "where": return Y(Tensor.Where(In("cond"), In("a"), In("b")));
            case "masked_fill": return Y(In("x").MaskedFill(In("mask"), c.Number("value")));
            case "sum" or "mean": return Y(Reduce(c, In("x")));
            case "max":
                {
                    var (values, indices) = In("x").MaxWithIndex(c.Int("dim"), c.Bool("keepdim"));
                    return new() { ["values"] = values, ["indices"] = indices };
                }
            case "logsumexp": return Y(In("x").LogSumExp(c.Int("dim"), c.Bool("keepdim")));
            case "matmul":
                return Y(Tensor.MatMul(In("a"), In("b"), c.Bool("transpose_a"), c.Bool("transpose_b")));
            case "softmax": return Y(Masked(c, x).Softmax(c.Int("dim")));
            case "log_softmax": return Y(Masked(c, x).LogSoftmax(c.Int("dim")));
            case "rmsnorm": return Y(In("x").RmsNorm(In("w"), c.Number("eps")));
            case "geglu_ff": return Y(GegluFeedForward(In("x"), In("W0"), In("W1"), In("Wo")));
            case "cross_entropy":
                return new() { ["loss"] = Tensor.CrossEntropy(In("logits"), In("targets"), c.Int("ignore_index")) };
            case "z_loss":
                return new()
                {
                    ["loss"] = Tensor.ZLoss(In("logits"), In("targets"), c.Number("coef"), c.Bool("masked"),
                        p.TryGetProperty("ignore_index", out _) ? c.Int("ignore_index") : -100),
                };
            case "embedding": return Y(Tensor.Embedding(In("weight"), In("ids")));
            case "gather": return Y(In("x").Gather(c.Int("dim"), In("index")));
            case "index_select": return Y(In("x").IndexSelect(c.Int("dim"), In("index")));
            case "scatter_add": return Y(In("x").ScatterAdd(c.Int("dim"), In("index"), In("src")));
            case "index_add": return Y(In("x").IndexAdd(c.Int("dim"), In("index"), In("source")));
            case "topk":
                {
                    var (values, indices) = In("x").TopK(c.Int("k"), c.Bool("largest"));
                    return new() { ["values"] = values, ["indices"] = indices };
                }
            case "concat": return Y(Tensor.Cat(Order(c, x), c.Int("dim")));
            case "stack": return Y(Tensor.Stack(Order(c, x), c.Int("dim")));
            case "split":
                {
                    var pieces = p.TryGetProperty("split_sizes", out var sizes)
                        ? In("x").Split(sizes.Deserialize<int[]>()!, c.Int("dim"))
                        : In("x").Split(c.Int("split_size"), c.Int("dim"));
                    return pieces.Select((t, i) => (t, i)).ToDictionary(e => $"y{e.i}", e => e.t);
                }
            case "narrow": return Y(In("x").Narrow(c.Int("dim"), c.Int("start"), c.Int("length")));
            case "chain": return Y(Chain(c, x));
            case "t5_relative_position_bucket": return new() { ["bucket"] = Buckets(c, In("relative_position")) };
            case "t5_position_bias":
                return new()
                {
                    ["bias"] = RelativePosition.Bias(In("table"), c.Int("q_len"), c.Int("k_len"),
                        c.Bool("bidirectional"), c.Int("max_distance")),
                };
            case "t5_attention" or "t5_local_attention": return Y(T5Attention(c, x));
            case "coor_descent":
                return new()
                {
                    ["scores"] = SoftTopK.Composed(In("s"), x.GetValueOrDefault("mask"), c.Number("k"),
                        c.Number("eps"), c.Int("n_iters"), c.NullableNumber("eps_init"), c.Number("eps_decay")),
                };
            default: throw new NotSupportedException($"no runner for fixture op '{c.Op}' ({c.Name})");
        }
    }

    private static Tensor Reduce(TorchCase c, Tensor x)
    {
        var all = c.Params.GetProperty("dim").ValueKind == JsonValueKind.Null;
        var mean = c.Op == "mean";
        if (all)
            return mean ? x.Mean() : x.Sum();
        return mean ? x.Mean(c.Int("dim"), c.Bool("keepdim")) : x.Sum(c.Int("dim"), c.Bool("keepdim"));
    }

    private static Tensor Masked(TorchCase c, IReadOnlyDictionary<string, Tensor> x) =>
        c.Params.TryGetProperty("mask", out _) ? x["x"] + x["mask"] : x["x"].Contiguous();

    private static Tensor[] Order(TorchCase c, IReadOnlyDictionary<string, Tensor> x) =>
        c.Params.GetProperty("order").Deserialize<string[]>()!.Select(n => x[n]).ToArray();

    private static Tensor GegluFeedForward(Tensor x, Tensor w0, Tensor w1, Tensor wo)
    {
        using var gate = Tensor.MatMul(x, w0, transposeB: true);
        using var act = gate.GeluTanh();
        using var linear = Tensor.MatMul(x, w1, transposeB: true);
        using var hidden = act * linear;
        return Tensor.MatMul(hidden, wo, transposeB: true);
    }

    private static Tensor Chain(TorchCase c, IReadOnlyDictionary<string, Tensor> x)
    {
        var current = x["x"].Contiguous();
        foreach (var step in c.Params.GetProperty("steps").EnumerateArray())
        {
            using var previous = current;
            current = step.GetProperty("op").GetString() switch
            {
                "transpose" => previous.Transpose(step.GetProperty("dim0").GetInt32(), step.GetProperty("dim1").GetInt32()),
                "permute" => previous.Permute(step.GetProperty("dims").Deserialize<int[]>()!),
                "reshape" => previous.Reshape(step.GetProperty("shape").Deserialize<int[]>()!),
                "matmul" => previous.MatMul(x[step.GetProperty("with").GetString()!]),
                var op => throw new NotSupportedException($"chain step {op}"),
            };
        }
        return current;
    }

    private static Tensor Buckets(TorchCase c, Tensor relative)
    {
        var rel = relative.ToArray<int>();
        var ids = rel.Select(r => RelativePosition.Bucket(r, c.Bool("bidirectional"), c.Int("num_buckets"),
            c.Int("max_distance"))).ToArray();
        return Tensor.FromArray<int>(ids, relative.Shape);
    }

    private static Tensor T5Attention(TorchCase c, IReadOnlyDictionary<string, Tensor> x)
    {
        var input = x["x"];
        int batch = input.Shape[0], t = input.Shape[1], heads = c.Int("heads"), kvHeads = c.Int("kv_heads");
        var maskValue = c.Number("mask_value");
        using var q = Tensor.MatMul(input, x["Wq"], transposeB: true);
        using var k = Tensor.MatMul(input, x["Wk"], transposeB: true);
        using var v = Tensor.MatMul(input, x["Wv"], transposeB: true);
        using var qh = Attention.SplitHeads(q, heads);
        using var kh = Attention.SplitHeads(k, kvHeads);
        using var vh = Attention.SplitHeads(v, kvHeads);
        using var bias = RelativePosition.Bias(x["rel_bias"], t, t, c.Bool("bidirectional"), c.Int("max_distance"));

        // allowed[b, i, j] = key j is real (and, for local attention, |i - j| <= r; for causal, j <= i)
        var allowed = new bool[batch * t * t];
        var keyMask = x["attention_mask"].ToArray<bool>();
        var radius = c.Params.TryGetProperty("local_radius", out var r) ? r.GetInt32() : int.MaxValue;
        var causal = c.Bool("causal");
        for (var b = 0; b < batch; b++)
        {
            for (var i = 0; i < t; i++)
            {
                for (var j = 0; j < t; j++)
                    allowed[(b * t + i) * t + j] = keyMask[b * t + j] && Math.Abs(i - j) <= radius && (!causal || j <= i);
            }
        }
        using var allowedTensor = Tensor.FromArray<bool>(allowed, new Shape(batch, 1, t, t));
        using var mask = Attention.AdditiveMask(allowedTensor, maskValue, input.DType);
        using var context = Attention.ScaledDotProduct(qh, kh, vh, bias, mask);
        using var merged = Attention.MergeHeads(context);
        return Tensor.MatMul(merged, x["Wo"], transposeB: true);
    }
}
