// Runs one perf case in a child process of this same program (so its peak RSS is its own and an out-of-memory kill
// ends only that case) and reads back the one JSON result line the child prints.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace CoLT5.Perf;

public static class ChildCase
{
    private const string ResultPrefix = "RESULT ";

    /// <summary>Prints <paramref name="result"/> as the child's result line.</summary>
    public static void Emit<T>(T result) => Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(result));

    /// <summary>Runs this program with <paramref name="args"/>; the parsed result, or null and why not.</summary>
    public static T? Run<T>(IEnumerable<string> args, out string failure) where T : class
    {
        var process = Environment.ProcessPath!;
        var start = new ProcessStartInfo(process)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(process) == "dotnet")          // started as `dotnet CoLT5.Perf.dll`
            start.ArgumentList.Add(typeof(ChildCase).Assembly.Location);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        var stderr = child.StandardError.ReadToEndAsync();
        var stdout = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith(ResultPrefix, StringComparison.Ordinal));
        if (child.ExitCode == 0 && line is not null)
        {
            failure = "";
            return JsonSerializer.Deserialize<T>(line[ResultPrefix.Length..]);
        }
        var why = child.ExitCode is 137 or -9 ? "killed (out of memory?)" : $"exit {child.ExitCode}";
        var first = stderr.Result.Trim().Split('\n').FirstOrDefault() ?? "";       // the exception's message
        failure = $"{why}: {first[..Math.Min(first.Length, 160)]}";
        return null;
    }
}
