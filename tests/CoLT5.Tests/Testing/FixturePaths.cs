// Locates the shared fixture folders: an environment variable wins, else ../shared/fixtures next to the repository.
using System;
using System.IO;

namespace CoLT5.Tests.Testing;

/// <summary>Fixture directories (the repository's sibling ../shared, or an override).</summary>
public static class FixturePaths
{
    /// <summary>The repository root (the folder holding CoLT5.Native.sln).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The torch-ops fixture folder (<c>COLT5_TORCH_OPS_FIXTURES</c>).</summary>
    public static string TorchOps => Resolve("COLT5_TORCH_OPS_FIXTURES", "torch-ops");

    /// <summary>The SentencePiece fixture folder (<c>COLT5_SPM_FIXTURES</c>).</summary>
    public static string Spm => Resolve("COLT5_SPM_FIXTURES", "spm");

    /// <summary>The folder named by <paramref name="variable"/>, else ../shared/fixtures/<paramref name="name"/>.</summary>
    public static string Resolve(string variable, string name)
    {
        var overridden = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(overridden))
            return Path.GetFullPath(overridden);
        return Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "fixtures", name));
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CoLT5.Native.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException(
            $"cannot find CoLT5.Native.sln above {AppContext.BaseDirectory}");
    }
}
