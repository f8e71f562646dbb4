// Replaces a set of files in a checkpoint directory as one unit. New files are written into a hidden staging
// sub-directory; renaming that stage to ".commit" is the single atomic step that makes the new set current. Its files
// are then moved over the old ones in a fixed order and the empty ".commit" is removed. Killed before the rename, the
// directory keeps the old set (the stale stage is deleted by the next save); killed after it, ".commit" holds the
// rest of the new set and whoever touches the directory next finishes the moves (Complete). So the directory reads
// as the old set or the new set, never as a mix, and files that are not part of the set are left alone, except the
// ones the set says to remove ("!name" steps: stale weight files a new layout replaces, e.g. model.safetensors when
// the new weights are sharded), which go at their place in the order.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace CoLT5.Model.Checkpoints;

/// <summary>Staging, commit and roll-forward of checkpoint files (used by model and training checkpoints).</summary>
internal static class CheckpointCommit
{
    /// <summary>Prefix of staging sub-directories (incomplete saves; deleted by the next save).</summary>
    public const string StagingPrefix = ".staging-";

    /// <summary>The committed-but-not-yet-moved set: its presence means "the new files win".</summary>
    public const string PendingName = ".commit";

    /// <summary>
    /// Test hook, called with the directory and a step: "commit" just before the commit rename, then
    /// "moved NAME" after each file is in place. Throwing simulates a crash at that point.
    /// </summary>
    internal static Action<string, string>? Fault { get; set; }

    /// <summary>
    /// Prepares <paramref name="directory"/> (created if needed, an interrupted commit finished, stale stages
    /// removed) and returns a new empty staging sub-directory in it.
    /// </summary>
    public static string Stage(string directory)
    {
        Directory.CreateDirectory(directory);
        Complete(directory);
        foreach (var stale in Directory.EnumerateDirectories(directory, StagingPrefix + "*").ToList())
            TryDeleteDirectory(stale);
        var stage = Path.Combine(directory, StagingPrefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(stage);
        return stage;
    }

    /// <summary>Marks a step of a commit order that removes a file instead of moving one in.</summary>
    public const char RemovePrefix = '!';

    /// <summary>
    /// Makes the files of <paramref name="stage"/> the directory's, moving them in <paramref name="order"/>; a step
    /// "!name" removes the directory's file <c>name</c> (if present) at that point instead. The stage must hold
    /// exactly the order's other names. After the commit rename a failure leaves the rest pending for
    /// <see cref="Complete"/>.
    /// </summary>
    public static void Commit(string directory, string stage, IReadOnlyList<string> order)
    {
        var moves = order.Where(name => name[0] != RemovePrefix).Order(StringComparer.Ordinal);
        var staged = Directory.GetFiles(stage).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        if (!staged.SequenceEqual(moves, StringComparer.Ordinal))
            throw new InvalidOperationException($"the stage holds [{string.Join(", ", staged)}], expected " +
                $"[{string.Join(", ", moves)}]");
        // The move order travels with the files: "000-model.safetensors", "001-!old.safetensors" (an empty marker),
        // "002-config.json", ...
        for (var i = 0; i < order.Count; i++)
        {
            var step = Path.Combine(stage, $"{i:D3}-{order[i]}");
            if (order[i][0] == RemovePrefix)
                File.WriteAllBytes(step, []);
            else
                File.Move(Path.Combine(stage, order[i]), step);
        }
        Complete(directory);                     // nothing may be pending when the new set becomes pending
        var pending = Path.Combine(directory, PendingName);
        if (Directory.Exists(pending))
            Directory.Delete(pending);           // empty now; a failure here is a real one
        Fault?.Invoke(directory, "commit");
        Directory.Move(stage, pending);          // the commit point
        Complete(directory);
    }

    /// <summary>
    /// Finishes a commit that was interrupted after its commit point: moves the pending files into place in their
    /// order and removes the pending directory. Does nothing when no commit is pending.
    /// </summary>
    public static void Complete(string directory)
    {
        // Another process (a save, or a reader of the same directory) may be finishing the same commit: every step
        // tolerates finding its work already done, and moving a committed set's files in order is right whoever
        // does it.
        var pending = Path.Combine(directory, PendingName);
        if (!Directory.Exists(pending))
            return;
        string[] files;
        try
        {
            files = Directory.GetFiles(pending);
        }
        catch (DirectoryNotFoundException)
        {
            return;                              // finished meanwhile
        }
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            var staged = Path.GetFileName(file);
            var name = staged[(staged.IndexOf('-', StringComparison.Ordinal) + 1)..];
            try
            {
                if (name[0] == RemovePrefix)
                {
                    File.Delete(Path.Combine(directory, name[1..]));     // no error when it is gone already
                    File.Delete(file);
                }
                else
                {
                    File.Move(file, Path.Combine(directory, name), overwrite: true);
                }
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // moved meanwhile
            }
            Fault?.Invoke(directory, (name[0] == RemovePrefix ? "removed " + name[1..] : "moved " + name));
        }
        try
        {
            Directory.Delete(pending);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // gone already, or a newer save committed meanwhile (it finishes its own commit); an empty ".commit"
            // left behind means nothing (IsPending) and the next save removes it
        }
    }

    /// <summary>True while a committed set still has files to move (an empty ".commit" is not pending).</summary>
    public static bool IsPending(string directory)
    {
        try
        {
            return Directory.EnumerateFiles(Path.Combine(directory, PendingName)).Any();
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Deletes a directory tree, ignoring failures (a stage that cannot be removed now is retried later).</summary>
    public static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
                Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
