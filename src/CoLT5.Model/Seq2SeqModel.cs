// The whole encoder-decoder: shared embedding, encoder (T5 / LongT5 / CoLT5 / FNet / Sparse Mixer), decoder with
// cross-attention, and the LM head (untied by default; tied with d^-0.5 scaling for T5 1.0 checkpoints). Training
// loss is token cross-entropy (ignore index −100) with optional z-loss, plus the encoder's auxiliary loss (Sparse
// Mixer's router z-loss) in training mode.
using System;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Configuration;
using CoLT5.Model.Layers;
using CoLT5.Nn;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;

namespace CoLT5.Model;

/// <summary>Logits (B, t, V) and, when labels were given, the mean loss (0-d).</summary>
/// <param name="Logits">(B, t, V).</param>
/// <param name="Loss">The training objective (0-d): cross-entropy, plus z-loss, plus <paramref name="AuxiliaryLoss"/>
/// when there is one; null without labels.</param>
/// <param name="AuxiliaryLoss">The encoder's auxiliary loss (0-d) included in <paramref name="Loss"/>: Sparse
/// Mixer's weighted router z-loss, summed over its MoE layers, in training mode only; null otherwise.</param>
public sealed record Seq2SeqOutput(Tensor Logits, Tensor? Loss, Tensor? AuxiliaryLoss = null) : IDisposable
{
    /// <summary>Releases the tensors.</summary>
    public void Dispose()
    {
        Logits.Dispose();
        Loss?.Dispose();
        AuxiliaryLoss?.Dispose();
    }
}

/// <summary>
/// A CoLT5, T5, LongT5, FNet or Sparse Mixer encoder-decoder over a <see cref="ParameterStore"/> with Hugging Face
/// parameter names. The model owns its store: disposing the model disposes every parameter.
/// </summary>
public sealed class Seq2SeqModel : Module, IDisposable
{
    private readonly Tensor shared;
    private readonly Tensor? lmHead;
    private readonly Encoder encoder;
    private readonly Decoder decoder;

    /// <summary>
    /// Builds the model over <paramref name="store"/>: parameters already in the store (a loaded checkpoint) are
    /// used after a shape check, missing ones are initialised from the store's generator in a fixed order.
    /// </summary>
    public Seq2SeqModel(ModelConfig config, ParameterStore store, Generator? dropoutGenerator = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(store);
        Config = config.Validate();
        Parameters = store;
        var root = store.Root();
        shared = root.Get("shared.weight", new Shape(config.VocabSize, config.DModel), Init.Normal(1.0));
        store.Alias("encoder.embed_tokens.weight", "shared.weight");
        store.Alias("decoder.embed_tokens.weight", "shared.weight");
        var dropout = new Dropout(config.DropoutRate, dropoutGenerator ?? new Generator(0x5eed));
        encoder = Own(new Encoder(root.Sub("encoder"), config, shared, dropout));
        decoder = Own(new Decoder(root.Sub("decoder"), config, shared, dropout));
        if (config.TieWordEmbeddings)
            store.Alias("lm_head.weight", "shared.weight");
        else
            lmHead = root.Get("lm_head.weight", new Shape(config.VocabSize, config.DModel),
                Init.Normal(Math.Pow(config.DModel, -0.5)));
    }

    /// <summary>
    /// Loads a checkpoint folder: ours, or a Hugging Face T5 / T5 v1.1 / flan-t5 / LongT5 one (config.json;
    /// model.safetensors or shards with model.safetensors.index.json; F32, F16, BF16 or F64 weights) with
    /// parameters converted to <paramref name="dtype"/>. The folder's tokenizer: <see cref="Checkpoint.LoadTokenizer"/>.
    /// Same as <see cref="Checkpoint.Load"/>.
    /// </summary>
    /// <exception cref="CheckpointException">A file is missing or malformed, or the weights do not match the
    /// configuration.</exception>
    public static Seq2SeqModel FromPretrained(string directory, DType dtype = DType.Float32, Device? device = null) =>
        Checkpoint.Load(directory, dtype, device);

    /// <summary>Writes the model as a checkpoint folder in Hugging Face's layout (see
    /// <see cref="Checkpoint.Save(Seq2SeqModel, string, CheckpointSaveOptions?)"/>).</summary>
    public void SavePretrained(string directory, CheckpointSaveOptions? options = null) =>
        Checkpoint.Save(this, directory, options);

    /// <summary>A freshly initialised model (parameters drawn from <paramref name="seed"/>).</summary>
    public static Seq2SeqModel Create(ModelConfig config, ulong seed, DType dtype = DType.Float32, Device? device = null) =>
        new(config, new ParameterStore(dtype, device, new Generator(seed)), new Generator(seed ^ 0xD50D));

    /// <summary>The configuration.</summary>
    public ModelConfig Config { get; }

    /// <summary>The named parameters.</summary>
    public ParameterStore Parameters { get; }

    /// <summary>input ids (B, n) int32 with padding mask (B·n, true = real) → encoder output (B, n, d).</summary>
    public Tensor Encode(Tensor inputIds, bool[] mask) => encoder.Forward(inputIds, mask);

    /// <summary>As <see cref="Encode(Tensor, bool[])"/>, reporting each CoLT5 router's decision to
    /// <paramref name="observer"/> (nothing for encoder types without routers).</summary>
    public Tensor Encode(Tensor inputIds, bool[] mask, IRoutingObserver? observer) =>
        encoder.Forward(inputIds, mask, observer);

    /// <summary>Projects the encoder output for decoding (cross keys/values computed once).</summary>
    public DecoderState StartDecoding(Tensor encoderOutput, bool[] mask) => decoder.Start(encoderOutput, mask);

    /// <summary>Logits (B, t, V) for the next t decoder inputs (B, t), extending <paramref name="state"/>.</summary>
    public Tensor DecodeLogits(Tensor decoderInputIds, DecoderState state)
    {
        using var hidden = decoder.Forward(decoderInputIds, state);
        return Head(hidden);
    }

    /// <summary>
    /// Teacher-forced forward: logits for every decoder position and, with <paramref name="labels"/> (B, t; −100 =
    /// ignored), the mean cross-entropy plus <paramref name="zLoss"/>·mean(logsumexp²), plus in training mode the
    /// encoder's auxiliary loss (Sparse Mixer's router z-loss; <see cref="Seq2SeqOutput.AuxiliaryLoss"/>).
    /// </summary>
    public Seq2SeqOutput Forward(Tensor inputIds, bool[] mask, Tensor decoderInputIds, Tensor? labels = null,
        double zLoss = 0)
    {
        var (encoded, auxiliary) = encoder.ForwardWithAuxiliaryLoss(inputIds, mask);
        using (encoded)
        using (var state = StartDecoding(encoded, mask))
        {
            var logits = DecodeLogits(decoderInputIds, state);
            if (labels is null)
            {
                auxiliary?.Dispose();
                return new Seq2SeqOutput(logits, null);
            }
            var loss = Tensor.CrossEntropy(logits, labels, -100, zLoss);
            if (auxiliary is null)
                return new Seq2SeqOutput(logits, loss);
            using (loss)
                return new Seq2SeqOutput(logits, loss + auxiliary, auxiliary);
        }
    }

    // T5.1.1: an untied head; T5 1.0: the embedding, with the decoder output scaled by d^-0.5.
    private Tensor Head(Tensor hidden)
    {
        if (lmHead is not null)
            return Tensor.MatMul(hidden, lmHead, transposeB: true);
        using var scaled = hidden * Math.Pow(Config.DModel, -0.5);
        return Tensor.MatMul(scaled, shared, transposeB: true);
    }

    /// <summary>Disposes every parameter.</summary>
    public void Dispose() => Parameters.Dispose();
}
