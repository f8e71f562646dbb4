// Checkpoint saves are atomic as a unit: whatever point a save fails or is killed at, the directory loads as the old
// checkpoint or the new one (never new weights beside an old config.json), and files that are not part of the
// checkpoint are left alone, and a load running while saves commit never pairs two of them. Crashes are simulated
// with CheckpointCommit.Fault; all tests that set it live here, so they never run at the same time.
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using CoLT5.Model;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Configuration;
using CoLT5.Model.Training;
using CoLT5.Tests.Training;
using Xunit;

namespace CoLT5.Tests.Model;

public sealed class CheckpointSaveTests
{
    // Two models whose weights cannot be loaded with each other's config (different heavy FF widths).
    private static Seq2SeqModel Old() => Seq2SeqModel.Create(ModelTestKit.Micro("colt5"), seed: 1);

    private static Seq2SeqModel New() =>
        Seq2SeqModel.Create(ModelTestKit.Micro("colt5") with { DFfHeavy = 32 }, seed: 2);

    [Fact]
    public void AFailureWhileWritingTheConfigNeverLeavesNewWeightsBesideTheOldConfig()
    {
        using var dir = new TempDirectory("colt5-checkpoint");
        using var old = Old();
        using var fresh = New();
        Checkpoint.Save(old, dir.Path);
        // config.json is written through config.json.tmp; a directory in its way makes that write fail
        Directory.CreateDirectory(dir.Combine(Checkpoint.ConfigFileName + ".tmp"));
        try
        {
            Checkpoint.Save(fresh, dir.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a failed save is fine; what it leaves behind must still be one whole checkpoint
        }
        using var loaded = Checkpoint.Load(dir.Path);
        AssertSameModel(loaded.Config == old.Config ? old : fresh, loaded);
    }

    public static TheoryData<string, bool> CrashPoints() => new()
    {
        { "commit", false },                                    // before the commit point: the old checkpoint
        { "moved " + Checkpoint.WeightsFile, true },            // after it: the new one, finished by the reader
        { "moved " + Checkpoint.ConfigFileName, true },
    };

    [Theory]
    [MemberData(nameof(CrashPoints))]
    public void ACrashAtAnyPointLeavesTheOldOrTheNewCheckpoint(string crashAt, bool expectNew)
    {
        using var dir = new TempDirectory("colt5-checkpoint");
        using var old = Old();
        using var fresh = New();
        Checkpoint.Save(old, dir.Path);
        File.WriteAllText(dir.Combine("notes.txt"), "not part of the checkpoint");
        CrashDuringSave(dir.Path, crashAt, () => Checkpoint.Save(fresh, dir.Path));

        using (var loaded = Checkpoint.Load(dir.Path))
            AssertSameModel(expectNew ? fresh : old, loaded);
        Assert.Equal(["config.json", "generation_config.json", "model.safetensors", "notes.txt"],
            Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // the next save works and replaces whatever was there
        Checkpoint.Save(old, dir.Path);
        using var again = Checkpoint.Load(dir.Path);
        AssertSameModel(old, again);
    }

    public static TheoryData<string, bool> ShardedCrashPoints() => new()
    {
        { "commit", false },
        { "moved {first shard}", true },
        { "moved " + ShardIndex.FileName, true },
        { "removed " + Checkpoint.WeightsFile, true },
        { "moved " + Checkpoint.ConfigFileName, true },
    };

    /// <summary>A save that switches the folder from one weights file to shards (whose commit also removes the old
    /// model.safetensors) leaves the old single-file checkpoint or the new sharded one, whichever point it dies at.</summary>
    [Theory]
    [MemberData(nameof(ShardedCrashPoints))]
    public void ACrashWhileShardingLeavesTheOldOrTheNewCheckpoint(string crashAt, bool expectNew)
    {
        using var dir = new TempDirectory("colt5-checkpoint");
        using var old = Old();
        using var fresh = New();
        Checkpoint.Save(old, dir.Path);
        var bytes = fresh.Parameters.Parameters.Sum(p => p.Tensor.NumElements * 4);
        var sharded = new CheckpointSaveOptions { MaxShardBytes = bytes / 3 + 1 };
        using (var probe = new TempDirectory("colt5-checkpoint"))
        {
            Checkpoint.Save(fresh, probe.Path, sharded);
            var first = ShardIndex.Read(probe.Path, probe.Combine(ShardIndex.FileName)).Shards[0];
            crashAt = crashAt.Replace("{first shard}", first, StringComparison.Ordinal);
        }
        CrashDuringSave(dir.Path, crashAt, () => Checkpoint.Save(fresh, dir.Path, sharded));

        using (var loaded = Checkpoint.Load(dir.Path))
            AssertSameModel(expectNew ? fresh : old, loaded);
        var files = Directory.GetFiles(dir.Path).Select(f => Path.GetFileName(f)!).ToList();
        Assert.Equal(expectNew, files.Contains(ShardIndex.FileName));
        Assert.Equal(!expectNew, files.Contains(Checkpoint.WeightsFile));
    }

    [Fact]
    public void ASaveCrashedAfterItsCommitPointIsFinishedBySaveAndByReaders()
    {
        using var dir = new TempDirectory("colt5-checkpoint");
        using var old = Old();
        using var fresh = New();
        Checkpoint.Save(old, dir.Path);
        CrashDuringSave(dir.Path, "moved " + Checkpoint.WeightsFile, () => Checkpoint.Save(fresh, dir.Path));
        Assert.True(Directory.Exists(dir.Combine(".commit")), "the crash left no pending commit to test with");

        // the pending set is the new checkpoint, whichever reader comes first
        Checkpoint.Recover(dir.Path);
        Assert.False(Directory.Exists(dir.Combine(".commit")));
        Assert.Equal(fresh.Config, ConfigFile.Read(dir.Combine(Checkpoint.ConfigFileName)));
        using var loaded = Checkpoint.Load(dir.Path);
        AssertSameModel(fresh, loaded);
    }

    [Fact]
    public void ATrainingCheckpointCrashedDuringItsCommitResumesFromTheNewStep()
    {
        using var dir = new TempDirectory("colt5-checkpoint");
        using var trainer = Trainer.Create(TrainingTestKit.MicroConfig(), TrainingTestKit.Options(steps: 4),
            TrainingTestKit.MiniRetrieval());
        trainer.Run(dir.Path, stopAtStep: 2, cancellationToken: TrainingTestKit.Ct);
        trainer.Run(stopAtStep: 3, cancellationToken: TrainingTestKit.Ct);
        CrashDuringSave(dir.Path, "moved " + Checkpoint.ConfigFileName, () => trainer.SaveCheckpoint(dir.Path));

        Assert.Equal(3, TrainingCheckpoint.ReadState(dir.Path).Step);      // finished, digests and all
        using var resumed = Trainer.Resume(dir.Path);
        Assert.Equal(3, resumed.Step);
        Assert.Empty(Directory.GetDirectories(dir.Path));
    }

    [Fact]
    public async Task LoadsRunningDuringSavesNeverMixTwoCheckpoints()
    {
        using var dir = new TempDirectory("colt5-checkpoint");
        using var old = Old();
        using var fresh = New();
        Checkpoint.Save(old, dir.Path);
        using var stop = new CancellationTokenSource();
        var saves = 0;
        var saver = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
                Checkpoint.Save(saves++ % 2 == 0 ? fresh : old, dir.Path);
        }, TestContext.Current.CancellationToken);
        int loads = 0, retried = 0;
        var clock = Stopwatch.StartNew();
        try
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(4))
            {
                try
                {
                    // a mixed pair would fail with a shape mismatch (the two configs differ in d_ff_heavy)
                    using var loaded = Checkpoint.Load(dir.Path);
                    AssertSameModel(loaded.Config == old.Config ? old : fresh, loaded);
                    loads++;
                }
                catch (CheckpointException e) when (e.Message.Contains("kept changing", StringComparison.Ordinal))
                {
                    retried++;                     // three reads in a row each overlapped a save: allowed
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await saver;
        }
        Assert.True(loads > 0 && saves > 1, $"{loads} loads, {retried} given up, {saves} saves");
    }

    // Runs `save` with a simulated crash at `step` of a commit into `directory` (other directories are unaffected).
    private static void CrashDuringSave(string directory, string step, Action save)
    {
        var target = Path.GetFullPath(directory);
        CheckpointCommit.Fault = (d, at) =>
        {
            if (at == step && Path.GetFullPath(d) == target)
                throw new IOException($"simulated crash at '{at}'");
        };
        try
        {
            var crash = Assert.Throws<IOException>(save);
            Assert.Contains(step, crash.Message, StringComparison.Ordinal);
        }
        finally
        {
            CheckpointCommit.Fault = null;
        }
    }

    private static void AssertSameModel(Seq2SeqModel expected, Seq2SeqModel actual)
    {
        Assert.Equal(expected.Config, actual.Config);
        var want = expected.Parameters.Parameters.ToDictionary(p => p.Name, p => p.Tensor.ToDoubleArray());
        var got = actual.Parameters.Parameters.ToDictionary(p => p.Name, p => p.Tensor.ToDoubleArray());
        Assert.Equal(want.Keys.Order(StringComparer.Ordinal), got.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, values) in want)
            Assert.True(values.SequenceEqual(got[name]), $"{name} differs");
    }
}
