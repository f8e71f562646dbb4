// The rule for checkpoint output directories: a new or empty directory is fine; an existing non-empty one is only
// written into when the user says so (--overwrite) or continues the run that lives there (--resume).
using System.IO;
using System.Linq;

namespace CoLT5.Cli;

/// <summary>Checks an output directory before anything is written.</summary>
internal static class OutputDirectory
{
    /// <summary>Throws unless <paramref name="path"/> is absent or an empty directory, or
    /// <paramref name="overwrite"/> is set.</summary>
    /// <exception cref="CliException">A file, or a non-empty directory without
    /// <paramref name="overwrite"/>.</exception>
    public static void CheckWritable(string path, bool overwrite, string option)
    {
        if (File.Exists(path))
            throw new CliException($"{option} {path} is a file, not a directory");
        if (!Directory.Exists(path) || !Directory.EnumerateFileSystemEntries(path).Any())
            return;
        if (!overwrite)
            throw new CliException($"{option} {path} exists and is not empty; continue the run there with " +
                $"--resume {path}, or pass --overwrite to replace its checkpoint");
    }
}
