// Hugging Face checkpoint folders written by SavePretrained and read by FromPretrained: the real T5 / LongT5 fixture
// folders round-trip bit for bit (tensor bytes, config), tied embeddings are stored once, sharded weights with
// model.safetensors.index.json load like one file, F16 / BF16 storage rounds once and then round-trips exactly, the
// tokenizer travels with the folder, stale weight files of the other layout are removed, and hostile indexes fail
// with a CheckpointException that names the problem.
using System;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using CoLT5.Model;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Configuration;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Serialization;
using CoLT5.Tests.Parity;
using CoLT5.Tests.Testing;
using CoLT5.Tests.Training;
using Xunit;

namespace CoLT5.Tests.Model;

[Trait("Category", "Model")]
public sealed class PretrainedFolderTests
{
    private static string Fixture(string name) => Path.Combine(HuggingFaceParityTests.Root, name);

    /// <summary>A Hugging Face folder (F64 weights) loaded in float64 and saved as F64 holds the same tensors with
    /// the same bytes, and the same configuration.</summary>
    [Theory]
    [MemberData(nameof(HuggingFaceParityTests.Models), MemberType = typeof(HuggingFaceParityTests))]
    public void AHuggingFaceFolderRoundTripsBitForBit(string name)
    {
        using var dir = new TempDirectory("colt5-pretrained");
        using (var model = Seq2SeqModel.FromPretrained(Fixture(name), DType.Float64))
            model.SavePretrained(dir.Path, new CheckpointSaveOptions { StoreFloatsAs = SafetensorsDType.F64 });

        using var original = SafetensorsFile.Open(Path.Combine(Fixture(name), Checkpoint.WeightsFile));
        using var saved = SafetensorsFile.Open(dir.Combine(Checkpoint.WeightsFile));
        Assert.Equal("pt", saved.Metadata["format"]);
        var stored = saved.Entries.Select(e => e.Name).ToHashSet();
        foreach (var entry in original.Entries)
        {
            if (!stored.Contains(entry.Name))
            {
                // only the tied aliases may be left out: they are the shared table
                Assert.Contains(entry.Name, new[] { "encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight" });
                Assert.Equal(original.ReadRawBytes("shared.weight"), original.ReadRawBytes(entry.Name));
                continue;
            }
            Assert.Equal(entry.Shape, saved.GetEntry(entry.Name).Shape);
            Assert.Equal(original.ReadRawBytes(entry.Name), saved.ReadRawBytes(entry.Name));
        }
        Assert.Equal(ConfigFile.Read(Path.Combine(Fixture(name), Checkpoint.ConfigFileName)),
            ConfigFile.Read(dir.Combine(Checkpoint.ConfigFileName)));
    }

    /// <summary>Folders transformers 5.17 wrote (tests/fixtures/transformers-5.17: `save_pretrained` of our exports of
    /// the fixture models, sharded F32 and single-file BF16; its configs say tie_word_embeddings: true for every T5
    /// and carry the head's scaling as scale_decoder_outputs) load to the same weights: exactly the float32 values,
    /// or their bfloat16 rounding.</summary>
    [Theory]
    [InlineData("t5-v1_1-gated-gelu-hf-sharded", "t5-v1_1-gated-gelu", false)]
    [InlineData("t5-v1_0-relu-tied-hf-bf16", "t5-v1_0-relu-tied", true)]
    [InlineData("longt5-tglobal-hf-bf16", "longt5-tglobal", true)]
    public void FoldersTransformers517WroteLoadToTheSameWeights(string folder, string fixture, bool bf16)
    {
        var path = Path.Combine(FixturePaths.RepositoryRoot, "tests", "fixtures", "transformers-5.17", folder);
        using var theirs = Seq2SeqModel.FromPretrained(path);
        using var original = Seq2SeqModel.FromPretrained(Fixture(fixture));
        Assert.Equal(original.Config.TieWordEmbeddings, theirs.Config.TieWordEmbeddings);
        Assert.Equal(original.Config.Encoder, theirs.Config.Encoder);
        var loaded = theirs.Parameters.Parameters.ToDictionary(p => p.Name, p => p.Tensor.ToArray<float>());
        Assert.Equal(original.Parameters.Parameters.Count, loaded.Count);
        foreach (var (name, tensor) in original.Parameters.Parameters)
        {
            var want = tensor.ToArray<float>().Select(v => bf16 ? Round(v, SafetensorsDType.BF16) : v).ToArray();
            Assert.True(want.SequenceEqual(loaded[name]), $"{folder}: {name} differs");
        }
    }

    /// <summary>Tied embeddings are stored once, as shared.weight (transformers re-ties the aliases).</summary>
    [Fact]
    public void TiedEmbeddingsAreStoredOnce()
    {
        using var dir = new TempDirectory("colt5-pretrained");
        using (var model = Seq2SeqModel.FromPretrained(Fixture("t5-v1_0-relu-tied")))
        {
            Assert.True(model.Config.TieWordEmbeddings);
            model.SavePretrained(dir.Path);
        }
        using var saved = SafetensorsFile.Open(dir.Combine(Checkpoint.WeightsFile));
        var names = saved.Entries.Select(e => e.Name).ToList();
        Assert.Contains("shared.weight", names);
        Assert.DoesNotContain("lm_head.weight", names);
        Assert.DoesNotContain("encoder.embed_tokens.weight", names);
        Assert.DoesNotContain("decoder.embed_tokens.weight", names);
    }

    /// <summary>config.json carries what transformers reads (model type, architecture, stored dtype), and the folder
    /// has generation_config.json with T5's start, end and pad ids.</summary>
    [Theory]
    [InlineData("t5-v1_1-gated-gelu", "t5", "T5ForConditionalGeneration")]
    [InlineData("longt5-tglobal", "longt5", "LongT5ForConditionalGeneration")]
    public void TheConfigIsOneTransformersReads(string name, string modelType, string architecture)
    {
        using var dir = new TempDirectory("colt5-pretrained");
        using (var model = Seq2SeqModel.FromPretrained(Fixture(name)))
            model.SavePretrained(dir.Path, new CheckpointSaveOptions { StoreFloatsAs = SafetensorsDType.BF16 });
        var config = JsonNode.Parse(File.ReadAllText(dir.Combine(Checkpoint.ConfigFileName)))!;
        Assert.Equal(modelType, (string?)config["model_type"]);
        Assert.Equal(architecture, (string?)config["architectures"]![0]);
        Assert.True((bool)config["is_encoder_decoder"]!);
        Assert.Equal("bfloat16", (string?)config["torch_dtype"]);
        var generation = JsonNode.Parse(File.ReadAllText(dir.Combine(Checkpoint.GenerationConfigFile)))!;
        Assert.Equal(0, (int)generation["decoder_start_token_id"]!);
        Assert.Equal(1, (int)generation["eos_token_id"]!);
        Assert.Equal(0, (int)generation["pad_token_id"]!);
    }

    /// <summary>A model whose cross-attention was pooled to fewer kv heads has no transformers class: its config
    /// names no architecture (our loader still reads it).</summary>
    [Fact]
    public void APooledCrossAttentionModelClaimsNoTransformersArchitecture()
    {
        var config = ModelTestKit.Micro("t5", kvHeads: 1) with { ModelType = "t5" };
        var json = JsonNode.Parse(ConfigFile.ToJson(config))!;
        Assert.Null(json["architectures"]);
        var parsed = ConfigFile.Parse(ConfigFile.ToJson(config));
        Assert.Equal((config.NumHeads, 1), (parsed.NumHeads, parsed.NumCrossKvHeads));
    }

    /// <summary>Above the shard size the weights go to model-0000i-of-0000N.safetensors plus the index; the
    /// folder loads to the same parameters and logits, and a later single-file save removes the shards (and the
    /// other way round), so no reader ever finds weights of two layouts.</summary>
    [Fact]
    public void ShardedWeightsLoadLikeOneFileAndStaleLayoutsAreRemoved()
    {
        using var dir = new TempDirectory("colt5-pretrained");
        using var model = Seq2SeqModel.FromPretrained(Fixture("longt5-local"));
        model.SavePretrained(dir.Path);                                   // one file first
        model.SavePretrained(dir.Path, new CheckpointSaveOptions { MaxShardBytes = 40_000 });

        var files = Directory.GetFiles(dir.Path).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToList();
        Assert.DoesNotContain(Checkpoint.WeightsFile, files);
        var shards = files.Where(f => f.StartsWith("model-", StringComparison.Ordinal)).ToList();
        Assert.True(shards.Count >= 3, $"expected several shards, got {string.Join(", ", files)}");
        Assert.All(shards, s => Assert.EndsWith($"-of-{shards.Count:D5}.safetensors", s));
        var index = ShardIndex.Read(dir.Path, dir.Combine(ShardIndex.FileName));
        Assert.Equal(shards, index.Shards);
        Assert.Equal(model.Parameters.Parameters.Select(p => p.Name).Order(StringComparer.Ordinal),
            index.WeightMap.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(model.Parameters.Parameters.Sum(p => p.Tensor.NumElements * 4), index.TotalSize);
        foreach (var shard in shards)
        {
            using var file = SafetensorsFile.Open(dir.Combine(shard));
            Assert.True(file.Length <= 40_000 + 8 + file.HeaderLength, $"{shard} is {file.Length} bytes");
        }

        using (var loaded = Seq2SeqModel.FromPretrained(dir.Path))
            AssertSameParametersAndLogits(model, loaded);

        model.SavePretrained(dir.Path);                                   // and back to one file
        Assert.Equal([Checkpoint.ConfigFileName, Checkpoint.GenerationConfigFile, Checkpoint.WeightsFile],
            Directory.GetFiles(dir.Path).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToList());
        using var single = Seq2SeqModel.FromPretrained(dir.Path);
        AssertSameParametersAndLogits(model, single);
    }

    /// <summary>F16 and BF16 storage rounds each float32 once (nearest-even); what was stored reloads and re-saves
    /// to identical bytes.</summary>
    [Theory]
    [InlineData(SafetensorsDType.BF16)]
    [InlineData(SafetensorsDType.F16)]
    public void HalfPrecisionStorageRoundsOnceThenRoundTripsExactly(SafetensorsDType format)
    {
        using var dir = new TempDirectory("colt5-pretrained");
        using var again = new TempDirectory("colt5-pretrained");
        var options = new CheckpointSaveOptions { StoreFloatsAs = format };
        using var model = Seq2SeqModel.FromPretrained(Fixture("t5-v1_1-gated-gelu"));
        model.SavePretrained(dir.Path, options);
        using (var loaded = Seq2SeqModel.FromPretrained(dir.Path))
        {
            var reloaded = loaded.Parameters.Parameters.ToDictionary(p => p.Name, p => p.Tensor);
            foreach (var (name, tensor) in model.Parameters.Parameters)
            {
                var want = tensor.ToArray<float>();
                var got = reloaded[name].ToArray<float>();
                for (var i = 0; i < want.Length; i++)
                    Assert.Equal(Round(want[i], format), got[i]);
            }
            loaded.SavePretrained(again.Path, options);
        }
        using var first = SafetensorsFile.Open(dir.Combine(Checkpoint.WeightsFile));
        using var second = SafetensorsFile.Open(again.Combine(Checkpoint.WeightsFile));
        foreach (var entry in first.Entries)
        {
            Assert.Equal(format, entry.FileDType);
            Assert.Equal(first.ReadRawBytes(entry.Name), second.ReadRawBytes(entry.Name));
        }
    }

    /// <summary>The SentencePiece model named in the options is copied into the folder byte for byte, and the
    /// folder's tokenizer loads from it.</summary>
    [Fact]
    public void TheTokenizerTravelsWithTheFolder()
    {
        using var dir = new TempDirectory("colt5-pretrained");
        var spm = Directory.GetFiles(FixturePaths.Spm, "*.model").Order(StringComparer.Ordinal).First();
        Assert.Null(Checkpoint.LoadTokenizer(Fixture("t5-v1_1-gated-gelu")));
        using (var model = Seq2SeqModel.FromPretrained(Fixture("t5-v1_1-gated-gelu")))
            model.SavePretrained(dir.Path, new CheckpointSaveOptions { SentencePieceModel = spm });
        Assert.Equal(File.ReadAllBytes(spm), File.ReadAllBytes(dir.Combine(Checkpoint.SentencePieceFile)));
        var tokenizer = Checkpoint.LoadTokenizer(dir.Path);
        Assert.NotNull(tokenizer);
        Assert.Equal("hello world", tokenizer.Decode(tokenizer.Encode("hello world")));
    }

    /// <summary>transformers 5.17's T5Tokenizer, loaded from a folder we wrote with this SentencePiece model, gave
    /// these ids (perf/device/hf_compat.py, 2026-11-22): 100 sentinels above the 600 pieces although the model is not
    /// in T5's pad/eos/unk layout (as <see cref="Checkpoint.LoadTokenizer"/> gives), "&lt;extra_id_0&gt;" in text
    /// read as the sentinel (our interpretSentinels), the same pieces around it and the same end-of-sequence id.</summary>
    [Fact]
    public void OurTokenizerMatchesTransformersOnTheCopiedModel()
    {
        using var dir = new TempDirectory("colt5-pretrained");
        File.Copy(Path.Combine(FixturePaths.Spm, "bytefallback_unigram_600.model"), dir.Combine(Checkpoint.SentencePieceFile));
        var folder = Checkpoint.LoadTokenizer(dir.Path)!;
        var tokenizer = new CoLT5.Model.Tokenization.SentencePiece.SentencePieceTokenizer(folder.Processor,
            folder.SentinelCount, interpretSentinels: true);
        Assert.Equal(700, tokenizer.VocabSize);
        Assert.Equal([260, 595, 266, 278, 278, 269, 347, 303, 278, 280, 263, 699, 260, 266, 345, 265, 2],
            tokenizer.Encode("Hello world, <extra_id_0> end.", appendEos: true));
    }

    public static TheoryData<string, string> HostileIndexes() => new()
    {
        { "not json {", "not valid JSON" },
        { "[1, 2]", "must hold a JSON object" },
        { "{\"metadata\": {}}", "no \"weight_map\"" },
        { "{\"weight_map\": {}}", "maps no tensors" },
        { "{\"weight_map\": {\"shared.weight\": 7}}", "is not a string" },
        { "{\"weight_map\": {\"shared.weight\": \"../model.safetensors\"}}", "not a plain file name" },
        { "{\"weight_map\": {\"shared.weight\": \"/etc/passwd\"}}", "not a plain file name" },
        { "{\"weight_map\": {\"shared.weight\": \"model-00009-of-00009.safetensors\"}}", "is missing" },
        { "{\"weight_map\": {\"no.such.tensor\": \"{shard1}\"}}", "does not hold it" },
        { "{\"metadata\": {\"total_size\": -5}, \"weight_map\": {\"shared.weight\": \"{shard1}\"}}", "total_size" },
    };

    [Theory]
    [MemberData(nameof(HostileIndexes))]
    public void AHostileIndexIsATypedErrorNamingTheProblem(string index, string expected)
    {
        using var dir = new TempDirectory("colt5-pretrained");
        using (var model = Seq2SeqModel.FromPretrained(Fixture("t5-v1_1-gated-gelu")))
            model.SavePretrained(dir.Path, new CheckpointSaveOptions { MaxShardBytes = 60_000 });
        var firstShard = ShardIndex.Read(dir.Path, dir.Combine(ShardIndex.FileName)).Shards[0];
        File.WriteAllText(dir.Combine(ShardIndex.FileName), index.Replace("{shard1}", firstShard, StringComparison.Ordinal));
        var e = Assert.Throws<CheckpointException>(() => Seq2SeqModel.FromPretrained(dir.Path));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    /// <summary>A shard the index lists but the folder lacks, and an index that leaves a needed tensor out.</summary>
    [Fact]
    public void MissingShardsAndTensorsAreNamed()
    {
        using var dir = new TempDirectory("colt5-pretrained");
        using (var model = Seq2SeqModel.FromPretrained(Fixture("t5-v1_1-gated-gelu")))
            model.SavePretrained(dir.Path, new CheckpointSaveOptions { MaxShardBytes = 60_000 });
        var index = ShardIndex.Read(dir.Path, dir.Combine(ShardIndex.FileName));
        var lastShard = index.Shards[^1];
        File.Move(dir.Combine(lastShard), dir.Combine("moved-away"));
        var missing = Assert.Throws<CheckpointException>(() => Seq2SeqModel.FromPretrained(dir.Path));
        Assert.Contains(lastShard, missing.Message, StringComparison.Ordinal);
        File.Move(dir.Combine("moved-away"), dir.Combine(lastShard));

        var fewer = index.WeightMap.Where(p => p.Key != "shared.weight").ToDictionary(p => p.Key, p => p.Value);
        File.WriteAllText(dir.Combine(ShardIndex.FileName), ShardIndex.ToJson(fewer, 0));
        var absent = Assert.Throws<CheckpointException>(() => Seq2SeqModel.FromPretrained(dir.Path));
        Assert.Contains("missing: shared.weight", absent.Message, StringComparison.Ordinal);
    }

    private static float Round(float value, SafetensorsDType format) => format == SafetensorsDType.F16
        ? (float)(Half)value
        : BitConverter.Int32BitsToSingle(RoundToBFloat16Bits(BitConverter.SingleToInt32Bits(value)) << 16);

    // float32 → bfloat16 bits, round to nearest-even (NaN kept quiet)
    private static int RoundToBFloat16Bits(int bits)
    {
        if ((bits & 0x7fffffff) > 0x7f800000)
            return (bits >> 16) | 0x40;
        return (int)(((uint)bits + 0x7fffu + (((uint)bits >> 16) & 1u)) >> 16);
    }

    private static void AssertSameParametersAndLogits(Seq2SeqModel expected, Seq2SeqModel actual)
    {
        Assert.Equal(expected.Config, actual.Config);
        var loaded = actual.Parameters.Parameters.ToDictionary(p => p.Name, p => p.Tensor);
        Assert.Equal(expected.Parameters.Parameters.Count, loaded.Count);
        foreach (var (name, tensor) in expected.Parameters.Parameters)
            Assert.Equal(tensor.ToArray<float>(), loaded[name].ToArray<float>());
        using var scope = DisposeScope.Enter();
        expected.Eval();
        actual.Eval();
        var ids = Tensor.FromArray<int>([5, 9, 3, 1, 7, 2], new Shape(1, 6));
        var decoder = Tensor.FromArray<int>([0, 4, 8], new Shape(1, 3));
        var mask = Enumerable.Repeat(true, 6).ToArray();
        Assert.Equal(expected.Forward(ids, mask, decoder, null).Logits.ToArray<float>(),
            actual.Forward(ids, mask, decoder, null).Logits.ToArray<float>());
    }
}
