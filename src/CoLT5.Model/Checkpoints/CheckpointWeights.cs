// The weights of a checkpoint folder, whichever way they are stored: one model.safetensors, or shards listed by
// model.safetensors.index.json (Hugging Face's layout for large models). Every file is opened (and its header
// checked) up front, so a missing or malformed shard fails before any tensor is built.
using System;
using System.Collections.Generic;
using System.IO;
using CoLT5.Tensors;
using CoLT5.Tensors.Serialization;

namespace CoLT5.Model.Checkpoints;

/// <summary>Name → tensor access over one safetensors file or a set of shards.</summary>
internal sealed class CheckpointWeights : IDisposable
{
    private readonly List<SafetensorsFile> files = [];
    private readonly Dictionary<string, SafetensorsFile> byName = new(StringComparer.Ordinal);
    private readonly List<string> names = [];

    private CheckpointWeights(string description) => Description = description;

    /// <summary>What was opened: the file, or the index and its shard count.</summary>
    public string Description { get; }

    /// <summary>Tensor names, in file (or index) order.</summary>
    public IReadOnlyList<string> Names => names;

    /// <summary>True when the folder holds weights in a form <see cref="Open"/> reads.</summary>
    public static bool Exists(string directory, string weightsFile) =>
        File.Exists(Path.Combine(directory, weightsFile)) ||
        (weightsFile == Checkpoint.WeightsFile && File.Exists(Path.Combine(directory, ShardIndex.FileName)));

    /// <summary>
    /// Opens <paramref name="weightsFile"/> in <paramref name="directory"/>, or, when that is the default
    /// model.safetensors and absent, the shards named by model.safetensors.index.json.
    /// </summary>
    /// <exception cref="CheckpointException">No weights, an unreadable or malformed file or index, a shard missing,
    /// or a tensor the index lists missing from its shard.</exception>
    public static CheckpointWeights Open(string directory, string weightsFile)
    {
        var single = Path.Combine(directory, weightsFile);
        var indexPath = Path.Combine(directory, ShardIndex.FileName);
        if (File.Exists(single) || weightsFile != Checkpoint.WeightsFile || !File.Exists(indexPath))
        {
            if (!File.Exists(single))
                throw Missing(directory, weightsFile);
            var weights = new CheckpointWeights(weightsFile);
            try
            {
                var file = weights.Add(directory, single);
                foreach (var entry in file.Entries)
                    weights.Map(entry.Name, file);
                return weights;
            }
            catch
            {
                weights.Dispose();
                throw;
            }
        }
        var index = ShardIndex.Read(directory, indexPath);
        var sharded = new CheckpointWeights($"{ShardIndex.FileName} ({index.Shards.Count} shards)");
        try
        {
            var opened = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var shard in index.Shards)
            {
                var path = Path.Combine(directory, shard);
                if (!File.Exists(path))
                    throw new CheckpointException(directory, $"shard {shard}, listed in {ShardIndex.FileName}, is missing");
                opened[shard] = sharded.Add(directory, path);
            }
            foreach (var (name, shard) in index.WeightMap)
            {
                if (!opened[shard].Contains(name))
                {
                    throw new CheckpointException(directory,
                        $"{ShardIndex.FileName} puts tensor '{name}' in {shard}, which does not hold it");
                }
                sharded.Map(name, opened[shard]);
            }
            return sharded;
        }
        catch
        {
            sharded.Dispose();
            throw;
        }
    }

    /// <summary>The error for a folder without weights (<see cref="Exists"/> false).</summary>
    public static CheckpointException Missing(string directory, string weightsFile) =>
        new(directory, weightsFile == Checkpoint.WeightsFile
            ? $"{weightsFile} (or {ShardIndex.FileName}) is missing"
            : $"{weightsFile} is missing");

    /// <summary>The stored entry of <paramref name="name"/>.</summary>
    public SafetensorsEntry Entry(string name) => byName[name].GetEntry(name);

    /// <summary>Reads tensor <paramref name="name"/> converted to <paramref name="dtype"/>.</summary>
    public Tensor Load(string name, DType dtype, Device? device) => byName[name].Load(name, dtype, device);

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var file in files)
            file.Dispose();
        files.Clear();
    }

    private SafetensorsFile Add(string directory, string path)
    {
        try
        {
            var file = SafetensorsFile.Open(path);
            files.Add(file);
            return file;
        }
        catch (SafetensorsException e)
        {
            throw new CheckpointException(directory, e.Message, e);
        }
    }

    private void Map(string name, SafetensorsFile file)
    {
        byName[name] = file;
        names.Add(name);
    }
}
