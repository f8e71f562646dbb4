// Writing a whole file so that readers see the old one or the new one, never a part: a temporary file in the same
// directory, flushed, then renamed over the target; the temporary file is removed if anything fails.
using System;
using System.IO;
using System.Text;

namespace CoLT5.Cli.Output;

/// <summary>Atomic whole-file writes.</summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="text"/> as UTF-8 (no byte-order mark) to <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The directory does not exist or cannot be written.</exception>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        WriteAllBytes(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));
    }

    /// <summary>Copies the file <paramref name="source"/> to <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The source cannot be read, or the target directory written.</exception>
    public static void Copy(string source, string path) => WriteAllBytes(path, File.ReadAllBytes(source));

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The directory does not exist or cannot be written.</exception>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(bytes);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? ".";
        var name = Path.GetFileName(full);
        var temp = Path.Combine(directory, $".{name[..Math.Min(name.Length, 64)]}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
                // the original error matters more than a leftover temporary file
            }
            throw;
        }
    }
}
