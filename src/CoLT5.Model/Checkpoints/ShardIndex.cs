// model.safetensors.index.json, the map of a sharded checkpoint: {"metadata": {"total_size": bytes}, "weight_map":
// {tensor name: shard file name}}, as Hugging Face writes and reads it. Parsing is strict about what could make a
// loader read the wrong file (shard names must be plain file names in the checkpoint folder).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CoLT5.Model.Checkpoints;

/// <summary>The tensor → shard map of a sharded checkpoint.</summary>
public sealed class ShardIndex
{
    /// <summary>The index file name.</summary>
    public const string FileName = "model.safetensors.index.json";

    /// <summary>Largest index file read (a real index for a 10B-parameter model is well under 1 MB).</summary>
    private const long MaxIndexBytes = 64L << 20;

    private ShardIndex(IReadOnlyDictionary<string, string> weightMap, long? totalSize)
    {
        WeightMap = weightMap;
        TotalSize = totalSize;
    }

    /// <summary>Tensor name → shard file name (a plain name in the checkpoint folder).</summary>
    public IReadOnlyDictionary<string, string> WeightMap { get; }

    /// <summary>metadata.total_size: the tensors' data bytes, when the index states it.</summary>
    public long? TotalSize { get; }

    /// <summary>The distinct shard files, in name order.</summary>
    public IReadOnlyList<string> Shards => WeightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>Reads and checks <paramref name="path"/>.</summary>
    /// <exception cref="CheckpointException">Unreadable, too large, not the expected JSON shape, or a shard name
    /// that is not a plain file name.</exception>
    public static ShardIndex Read(string directory, string path)
    {
        string text;
        try
        {
            var length = new FileInfo(path).Length;
            if (length > MaxIndexBytes)
                throw new CheckpointException(directory, $"{FileName} is {length} bytes (at most {MaxIndexBytes})");
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException and not CheckpointException or UnauthorizedAccessException)
        {
            throw new CheckpointException(directory, $"cannot read {FileName}: {e.Message}", e);
        }
        return Parse(directory, text);
    }

    /// <summary>Parses index JSON text (see <see cref="Read"/>).</summary>
    public static ShardIndex Parse(string directory, string json)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject
                ?? throw new CheckpointException(directory, $"{FileName} must hold a JSON object");
        }
        catch (JsonException e)
        {
            throw new CheckpointException(directory, $"{FileName} is not valid JSON: {e.Message}", e);
        }
        if (root["weight_map"] is not JsonObject map)
            throw new CheckpointException(directory, $"{FileName} has no \"weight_map\" object");
        var weights = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in map)
        {
            if (value is not JsonValue v || !v.TryGetValue<string>(out var shard))
                throw new CheckpointException(directory, $"{FileName}: the shard of '{name}' is not a string");
            RequirePlainName(directory, shard, name);
            weights[name] = shard;
        }
        if (weights.Count == 0)
            throw new CheckpointException(directory, $"{FileName} maps no tensors");
        long? total = null;
        if (root["metadata"] is JsonObject meta && meta["total_size"] is { } size)
        {
            if (size is not JsonValue value || !value.TryGetValue<long>(out var bytes) || bytes < 0)
                throw new CheckpointException(directory, $"{FileName}: metadata.total_size is not a byte count");
            total = bytes;
        }
        return new ShardIndex(weights, total);
    }

    /// <summary>The index JSON for <paramref name="weightMap"/> (names sorted, as Hugging Face writes it).</summary>
    public static string ToJson(IReadOnlyDictionary<string, string> weightMap, long totalSize)
    {
        var map = new JsonObject();
        foreach (var (name, shard) in weightMap.OrderBy(p => p.Key, StringComparer.Ordinal))
            map[name] = shard;
        var root = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = totalSize },
            ["weight_map"] = map,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>The file name of shard <paramref name="index"/> (1-based) of <paramref name="count"/>, as Hugging
    /// Face names them: model-00001-of-00003.safetensors.</summary>
    public static string ShardName(int index, int count) => $"model-{index:D5}-of-{count:D5}.safetensors";

    // A shard must be a file directly in the checkpoint folder: no separators, no "." / "..", no rooted paths.
    private static void RequirePlainName(string directory, string shard, string tensor)
    {
        if (shard.Length == 0 || shard is "." or ".." || shard.IndexOfAny(['/', '\\', '\0']) >= 0 ||
            Path.IsPathRooted(shard))
        {
            throw new CheckpointException(directory,
                $"{FileName}: tensor '{tensor}' names shard '{shard}', which is not a plain file name in the folder");
        }
    }
}
