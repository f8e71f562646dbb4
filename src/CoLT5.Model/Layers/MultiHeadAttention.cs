// T5 multi-head attention with grouped key/value heads: full encoder self-attention, causal decoder self-attention
// with a key/value cache, and decoder cross-attention (kv heads 1 = MQA, G = GQA, H = MHA).
using System;
using CoLT5.Nn;
using CoLT5.Nn.Functional;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;

namespace CoLT5.Model.Layers;

/// <summary>
/// q: (H·dk, d), k and v: (G·dk, d), o: (d, H·dk), Hugging Face names q/k/v/o. Initialisation as Mesh TensorFlow:
/// q ~ N(0, (d·dk)^-1/2) (the 1/√dk of the logits folded in), k, v ~ N(0, d^-1/2), o ~ N(0, (H·dk)^-1/2).
/// </summary>
public sealed class MultiHeadAttention : Module
{
    private readonly Linear q, k, v, o;
    private readonly Dropout dropout;

    /// <summary>Creates the projections under <paramref name="p"/>.</summary>
    public MultiHeadAttention(ParameterBuilder p, int dModel, int heads, int kvHeads, int dKv, Dropout dropout)
    {
        if (heads % kvHeads != 0)
            throw new ArgumentException($"{heads} heads cannot share {kvHeads} key/value heads", nameof(kvHeads));
        Heads = heads;
        KvHeads = kvHeads;
        q = Own(new Linear(p.Sub("q"), dModel, heads * dKv, Math.Pow(dModel * (double)dKv, -0.5)));
        k = Own(new Linear(p.Sub("k"), dModel, kvHeads * dKv, Math.Pow(dModel, -0.5)));
        v = Own(new Linear(p.Sub("v"), dModel, kvHeads * dKv, Math.Pow(dModel, -0.5)));
        o = Own(new Linear(p.Sub("o"), heads * dKv, dModel, Math.Pow(heads * (double)dKv, -0.5)));
        this.dropout = Own(dropout);
    }

    /// <summary>Query heads H.</summary>
    public int Heads { get; }

    /// <summary>Key/value heads G.</summary>
    public int KvHeads { get; }

    /// <summary>Keys and values of <paramref name="input"/> (B, S, d): each (B, G, S, dk).</summary>
    public (Tensor K, Tensor V) KeysValues(Tensor input)
    {
        using var kp = k.Forward(input);
        using var vp = v.Forward(input);
        return (AttentionCore.SplitHeads(kp, KvHeads), AttentionCore.SplitHeads(vp, KvHeads));
    }

    /// <summary>
    /// Attention of queries from <paramref name="x"/> (B, T, d) over the given keys and values (B, G, S, dk);
    /// <paramref name="bias"/> broadcasts to (B, H, T, S) (relative bias plus masks). Returns (B, T, d).
    /// </summary>
    public Tensor Forward(Tensor x, Tensor keys, Tensor values, Tensor? bias)
    {
        using var qp = q.Forward(x);
        using var qh = AttentionCore.SplitHeads(qp, Heads);
        using var context = AttentionCore.Attend(qh, keys, values, bias, dropout);
        using var merged = AttentionCore.MergeHeads(context);
        return o.Forward(merged);
    }

    /// <summary>True when the Attend overloads run fused now on <paramref name="device"/> (attention dropout
    /// inactive, fused kernels there).</summary>
    public bool FusedOn(Device device) => AttentionCore.CanFuse(dropout, device);

    /// <summary>
    /// Attention of queries from <paramref name="x"/> (B, T, d) over the key sets of <see cref="FusedAttention"/>
    /// (keys and values (B, H, S, dk), grouped heads already repeated). Returns (B, T, d).
    /// </summary>
    public Tensor Attend(Tensor x, AttentionKeySet main, AttentionKeySet? side = null)
    {
        using var qp = q.Forward(x);
        using var qh = AttentionCore.SplitHeads(qp, Heads);
        using var context = FusedAttention.Forward(qh, main, side);
        using var merged = AttentionCore.MergeHeads(context);
        return o.Forward(merged);
    }

    /// <summary>Fused self-attention over <paramref name="x"/> itself; <paramref name="keySet"/> says which keys each
    /// query reads and with what bias.</summary>
    public Tensor Attend(Tensor x, Func<Tensor, Tensor, AttentionKeySet> keySet)
    {
        ArgumentNullException.ThrowIfNull(keySet);
        var (keys, values) = KeysValues(x);
        using (keys)
        using (values)
            return Attend(x, keySet(keys, values));
    }

    /// <summary>Self-attention over <paramref name="x"/> itself.</summary>
    public Tensor Forward(Tensor x, Tensor? bias)
    {
        var (keys, values) = KeysValues(x);
        using (keys)
        using (values)
            return Forward(x, keys, values, bias);
    }
}
