// Multi-head → grouped-query / multi-query conversion of the decoder's cross-attention, as the GQA paper uptrains
// checkpoints: each group of key and value heads is replaced by the mean of its heads; every other parameter is
// copied unchanged. The converted model then needs a short uptraining (`colt5 train --uptrain`).
using System;
using CoLT5.Nn;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;

namespace CoLT5.Model.Conversion;

/// <summary>Mean-pools the cross-attention key/value heads of a model into fewer groups.</summary>
public static class KvHeadPooling
{
    /// <summary>
    /// A new model (same dtype and device) whose decoder cross-attention has <paramref name="kvHeads"/> key/value
    /// heads: query head h reads group h / (H / G), and the group's k and v projections are the means of the source's
    /// heads in it (rows g·dk … (g + 1)·dk − 1 of each (G·dk, d) weight). The source is left untouched.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kvHeads"/> does not divide the source's current
    /// key/value head count.</exception>
    public static Seq2SeqModel PoolCrossAttention(Seq2SeqModel source, int kvHeads)
    {
        ArgumentNullException.ThrowIfNull(source);
        var from = source.Config.NumCrossKvHeads;
        if (kvHeads < 1 || from % kvHeads != 0)
            throw new ArgumentOutOfRangeException(nameof(kvHeads), kvHeads,
                $"the model has {from} cross-attention key/value heads; the new count must divide it");
        var config = source.Config with { NumCrossKvHeads = kvHeads };
        var store = new ParameterStore(source.Parameters.DType, source.Parameters.Device, new Generator(0));
        try
        {
            using (Tensor.NoGrad())
            {
                foreach (var (name, tensor) in source.Parameters.Parameters)
                {
                    store.Add(name, IsCrossKeyOrValue(name)
                        ? Pool(tensor, from, kvHeads, config.DKv)
                        : tensor.ContiguousCopy());
                }
            }
            var model = new Seq2SeqModel(config, store);
            if (store.Created.Count > 0)
                throw new InvalidOperationException(
                    $"conversion left parameters uninitialised: {string.Join(", ", store.Created)}");
            return model;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>True for decoder.block.i.layer.1.EncDecAttention.{k,v}.weight.</summary>
    public static bool IsCrossKeyOrValue(string name) =>
        name.StartsWith("decoder.block.", StringComparison.Ordinal)
        && (name.EndsWith(".EncDecAttention.k.weight", StringComparison.Ordinal)
            || name.EndsWith(".EncDecAttention.v.weight", StringComparison.Ordinal));

    // (from·dk, d) → (to, from/to, dk, d) → mean over the group → (to·dk, d).
    private static Tensor Pool(Tensor weight, int from, int to, int dk)
    {
        var d = weight.Shape[1];
        if (weight.Shape[0] != from * dk)
            throw new InvalidShapeException("kv_head_pooling", weight.Shape,
                $"{weight.Name} must be ({from}·{dk}, d)");
        using var grouped = weight.Reshape(to, from / to, dk, d);
        using var mean = grouped.Mean(1);
        using var flat = mean.Reshape(to * dk, d);
        return flat.ContiguousCopy();
    }
}
