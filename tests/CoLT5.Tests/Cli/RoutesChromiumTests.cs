// Renders a `colt5 routes` page in headless Chromium: the browser's DOM has every layer view and chart, and the
// screenshot is a full-size, non-blank image. Opt-in (COLT5_CHROMIUM_TESTS=1, trait "Chromium"): CI has no browser.
using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using CoLT5.Model;
using CoLT5.Model.Checkpoints;
using CoLT5.Tests.Training;
using Xunit;

namespace CoLT5.Tests.Cli;

[Trait("Category", "Chromium")]
public sealed class RoutesChromiumTests
{
    [Fact]
    public void ThePageRendersInHeadlessChromium()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("COLT5_CHROMIUM_TESTS") == "1",
            "set COLT5_CHROMIUM_TESTS=1 to render in headless Chromium");
        var browser = new[] { "chromium", "chromium-browser", "google-chrome" }.Select(Find)
            .FirstOrDefault(p => p is not null);
        Assert.SkipWhen(browser is null, "no chromium on PATH");

        using var dir = new TempDirectory("colt5-chromium");
        var checkpoint = dir.Combine("ck");
        using (var model = Seq2SeqModel.Create(TrainingTestKit.MicroConfig(), seed: 4))
            Checkpoint.Save(model, checkpoint);
        var input = dir.Combine("input.txt");
        File.WriteAllText(input, "Routing <check> & \"quotes\" 😀 at 42 tokens.\nSecond line.\n");
        var page = dir.Combine("page.html");
        CliTestKit.Run("routes", "--checkpoint", checkpoint, "--input", input, "--out", page).AssertOk();

        var dom = Chromium(browser!, "--dump-dom", page);
        Assert.Equal(2, Regex.Count(dom, "<h3 id=\"layer-\\d\""));
        Assert.Equal(3, Regex.Count(dom, "<svg [^>]*class=\"chart\""));
        Assert.Contains(">&lt;</b>", dom, StringComparison.Ordinal);         // "<" stays text
        Assert.DoesNotContain("<check", dom, StringComparison.Ordinal);

        var shot = dir.Combine("page.png");
        Chromium(browser!, $"--screenshot={shot} --window-size=1000,900", page);
        var png = File.ReadAllBytes(shot);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.Equal(1000, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4)));   // IHDR width, height
        Assert.Equal(900, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4)));
        Assert.True(png.Length > 20_000, $"a {png.Length}-byte screenshot looks blank");
    }

    private static string? Find(string name) => (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static string Chromium(string browser, string arguments, string page)
    {
        var start = new ProcessStartInfo(browser,
            $"--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run {arguments} file://{page}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(90)), "chromium did not finish in 90 s");
        Assert.True(process.ExitCode == 0, $"chromium exit code {process.ExitCode}: {stderr.Result}");
        return output;
    }
}
