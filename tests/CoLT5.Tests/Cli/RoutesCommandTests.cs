// `colt5 routes` end to end on micro checkpoints: the page is written (next to the input by default), shows what the
// model's routers chose for the input, works with SentencePiece folders, notes truncation; bad input fails with one
// line, exit code 1 (2 for the command line) and no page.
using System;
using System.IO;
using System.Linq;
using System.Text;
using CoLT5.Cli;
using CoLT5.Model;
using CoLT5.Model.Analysis;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Layers;
using CoLT5.Model.Tokenization;
using CoLT5.Tensors;
using CoLT5.Tests.Testing;
using CoLT5.Tests.Training;
using Xunit;

namespace CoLT5.Tests.Cli;

public sealed class RoutesCommandTests
{
    private const string Text = "Hello <world> & \"friends\" 😀\nline 2: 42 cats.\n";

    private static string RandomCheckpoint(TempDirectory dir, string encoder = "colt5", int vocab = 384)
    {
        var path = dir.Combine($"ck-{encoder}");
        using var model = Seq2SeqModel.Create(TrainingTestKit.MicroConfig(encoder) with { VocabSize = vocab }, seed: 4);
        Checkpoint.Save(model, path);
        return path;
    }

    private static string Input(TempDirectory dir, string text = Text, string name = "input.txt")
    {
        var path = dir.Combine(name);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    /// <summary>The page's FF, q and kv bands in every layer are the routers' choices on the tokenized input.</summary>
    [Fact]
    public void ThePageShowsWhatTheRoutersChose()
    {
        using var dir = new TempDirectory("colt5-routes");
        var checkpoint = RandomCheckpoint(dir);
        var input = Input(dir);
        var run = CliTestKit.Run("routes", "--checkpoint", checkpoint, "--input", input);
        run.AssertOk();
        var page = dir.Combine("input.routes.html");                       // next to the input
        Assert.Matches($"^wrote {System.Text.RegularExpressions.Regex.Escape(page)} \\(49 tokens, 2 layers, \\d+ KiB\\)$",
            run.OutLines.Single());
        var document = RoutesPageTests.Parse(File.ReadAllText(page));

        var ids = new ByteTokenizer().Encode(Text, appendEos: true);
        Assert.Equal(49, ids.Length);
        var trace = new RoutingTrace();
        using (var model = Checkpoint.Load(checkpoint))
        using (var t = Tensor.FromArray<int>(ids, new Shape(1, ids.Length)))
        {
            model.Eval();
            using var output = model.Encode(t, Enumerable.Repeat(true, ids.Length).ToArray(), trace);
        }
        for (var layer = 0; layer < 2; layer++)
        {
            var cells = RoutesPageTests.Cells(document, layer);
            Assert.Equal(ids.Length, cells.Count);
            foreach (var (kind, band) in new[] { (RouterKind.FeedForward, "--f:"), (RouterKind.Query, "--q:"),
                         (RouterKind.KeyValue, "--k:") })
            {
                var shown = Enumerable.Range(0, cells.Count)
                    .Where(i => ((string?)cells[i].Attribute("style") ?? "").Contains(band, StringComparison.Ordinal));
                Assert.Equal(trace[layer, kind].Routed(0).Select(r => r.Position), shown);
            }
        }
        Assert.Contains("😀", document.Root!.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void SentencePieceFoldersTruncationAndOut()
    {
        using var dir = new TempDirectory("colt5-routes");
        var checkpoint = RandomCheckpoint(dir, vocab: 600);
        File.Copy(Path.Combine(FixturePaths.Spm, "t5like_unigram_500.model"), Path.Combine(checkpoint, "spiece.model"));
        var out1 = dir.Combine("sp.html");
        CliTestKit.Run("routes", "--checkpoint", checkpoint, "--input", Input(dir, "The cat sat on the mat."),
            "--out", out1).AssertOk();
        var page = File.ReadAllText(out1);
        Assert.Contains("spiece.model (SentencePiece, 500 pieces + 100 sentinels)", page, StringComparison.Ordinal);
        Assert.Contains("<i>▁</i>", page, StringComparison.Ordinal);

        var out2 = dir.Combine("cut.html");
        var run = CliTestKit.Run("routes", "--checkpoint", checkpoint, "--input", Input(dir, "The cat sat on the mat."),
            "--out", out2, "--max-input-length", "5", "--detail-tokens", "2");
        run.AssertOk();
        Assert.StartsWith("note: the input is ", run.OutLines[0], StringComparison.Ordinal);
        Assert.EndsWith("the page covers the first 4 and EOS (--max-input-length 5)", run.OutLines[0],
            StringComparison.Ordinal);
        var cut = File.ReadAllText(out2);
        Assert.Contains("cut to the first 4 and EOS (limit 5)", cut, StringComparison.Ordinal);
        Assert.Contains("shows the first 2 of the 5 tokens", cut, StringComparison.Ordinal);
    }

    [Fact]
    public void ATrainedCheckpointAndStandardInput()
    {
        using var dir = new TempDirectory("colt5-routes");
        var checkpoint = CliTestKit.TrainedCheckpoint(dir, steps: 2);
        var page = dir.Combine("stdin.html");
        var run = CliTestKit.Run(["routes", "--checkpoint", checkpoint, "--input", "-", "--out", page],
            stdin: "copy: w1x1");
        run.AssertOk();
        var document = RoutesPageTests.Parse(File.ReadAllText(page));
        Assert.Equal("copy: w1x1</s>", string.Concat(RoutesPageTests.Cells(document, 0).Select(c => c.Value)));
        Assert.Contains("&lt;stdin&gt;", File.ReadAllText(page), StringComparison.Ordinal);
    }

    [Fact]
    public void BadInputIsOneLineAndWritesNothing()
    {
        using var dir = new TempDirectory("colt5-routes");
        var checkpoint = RandomCheckpoint(dir);
        var input = Input(dir);
        var page = dir.Combine("page.html");
        CliRun Routes(params string[] extra) =>
            CliTestKit.Run(["routes", .. extra, "--out", page]);

        Routes("--checkpoint", dir.Combine("missing"), "--input", input)
            .AssertOneLineError(ExitCodes.Error, "the checkpoint directory does not exist");
        Routes("--checkpoint", RandomCheckpoint(dir, "t5"), "--input", input)
            .AssertOneLineError(ExitCodes.Error, "the checkpoint's encoder has no routers (it is t5;");
        Routes("--checkpoint", RandomCheckpoint(dir, "longt5-tglobal"), "--input", input)
            .AssertOneLineError(ExitCodes.Error, "the checkpoint's encoder has no routers");
        Routes("--checkpoint", checkpoint, "--input", Input(dir, " \n\t\n", "blank.txt"))
            .AssertOneLineError(ExitCodes.Error, "blank.txt: the input is empty");
        Routes("--checkpoint", checkpoint, "--input", Input(dir, "", "empty.txt"))
            .AssertOneLineError(ExitCodes.Error, "empty.txt: the input is empty");
        var invalid = dir.Combine("latin1.txt");
        File.WriteAllBytes(invalid, [(byte)'a', (byte)'b', (byte)'c', 0xE9, (byte)'d']);
        Routes("--checkpoint", checkpoint, "--input", invalid)
            .AssertOneLineError(ExitCodes.Error, "latin1.txt: invalid UTF-8 at byte 3");
        Routes("--checkpoint", checkpoint, "--input", dir.Path)
            .AssertOneLineError(ExitCodes.Error, "is a directory, not a file");
        Routes("--checkpoint", checkpoint, "--input", dir.Combine("nope.txt"))
            .AssertOneLineError(ExitCodes.Error, "nope.txt: file not found");
        CliTestKit.Run("routes", "--checkpoint", checkpoint, "--input", "-")
            .AssertOneLineError(ExitCodes.Error, "--input - needs --out");
        CliTestKit.Run("routes", "--checkpoint", checkpoint, "--input", input, "--out", dir.Path)
            .AssertOneLineError(ExitCodes.Error, "is a directory, not a file");
        CliTestKit.Run("routes", "--checkpoint", checkpoint, "--input", input, "--out", dir.Combine("no", "p.html"))
            .AssertOneLineError(ExitCodes.Error, "does not exist");
        File.Delete(Path.Combine(checkpoint, Checkpoint.WeightsFile));
        Routes("--checkpoint", checkpoint, "--input", input)
            .AssertOneLineError(ExitCodes.Error, "model.safetensors (or model.safetensors.index.json) is missing");
        CliTestKit.Run("routes", "--input", input).AssertOneLineError(ExitCodes.Usage, "--checkpoint");
        CliTestKit.Run("routes", "--checkpoint", checkpoint, "--input", input, "--detail-tokens", "0")
            .AssertOneLineError(ExitCodes.Usage, "--detail-tokens expects a whole number ≥ 1, got '0'");
        Assert.False(File.Exists(page));
        Assert.Empty(Directory.EnumerateFiles(dir.Path, "*.tmp", SearchOption.AllDirectories));
    }
}
