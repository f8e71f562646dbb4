// SentencePiece against the real library: every encode and decode case of every *.expected.json fixture
// (produced by sentencepiece 0.1.97) must match exactly, and the parser must recover .pieces.tsv and .spec.json.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using CoLT5.Model.Tokenization.SentencePiece;
using CoLT5.Tests.Testing;
using Xunit;

namespace CoLT5.Tests.Tokenization;

public sealed class SentencePieceFixtureTests
{
    /// <summary>Every fixture model, by stem (e.g. t5like_unigram_500).</summary>
    public static IEnumerable<string> ModelStems()
    {
        var dir = FixturePaths.Spm;
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"SentencePiece fixtures not found at {dir} (set COLT5_SPM_FIXTURES)");
        const string suffix = ".expected.json";
        var stems = Directory.GetFiles(dir, "*" + suffix).Select(f => Path.GetFileName(f)[..^suffix.Length])
            .Order(StringComparer.Ordinal).ToArray();
        if (stems.Length == 0)
            throw new InvalidOperationException($"no *.expected.json fixtures in {dir}");
        return stems;
    }

    internal static string ModelPath(string stem) => Path.Combine(FixturePaths.Spm, stem + ".model");

    [Fact]
    public void EveryEncodeAndDecodeCaseMatchesTheLibrary()
    {
        var encodeCases = 0;
        var decodeCases = 0;
        var failures = new List<string>();
        foreach (var stem in ModelStems())
        {
            var expectedPath = Path.Combine(FixturePaths.Spm, stem + ".expected.json");
            using var doc = JsonDocument.Parse(File.ReadAllBytes(expectedPath));
            var root = doc.RootElement;
            var modelPath = Path.Combine(FixturePaths.Spm, root.GetProperty("model").GetString()!);
            var sp = SentencePieceProcessor.Load(modelPath);
            var ids = root.GetProperty("ids");
            Check(failures, stem, "special ids",
                $"{ids.GetProperty("unk")},{ids.GetProperty("bos")},{ids.GetProperty("eos")},{ids.GetProperty("pad")}",
                $"{sp.UnkId},{sp.BosId},{sp.EosId},{sp.PadId}");
            foreach (var c in root.GetProperty("encode").EnumerateArray())
            {
                encodeCases++;
                var input = c.GetProperty("input").GetString()!;
                var label = $"{stem} encode {JsonSerializer.Serialize(input)[..Math.Min(40, input.Length + 2)]}";
                var pieces = sp.EncodeWithOffsets(input);
                Check(failures, label, "ids", Ints(c, "ids"), Join(pieces.Select(p => p.Id)));
                Check(failures, label, "ids (EncodeAsIds)", Ints(c, "ids"), Join(sp.EncodeAsIds(input)));
                Check(failures, label, "pieces", Strings(c, "pieces"), Join(pieces.Select(p => p.Piece)));
                Check(failures, label, "pieces (EncodeAsPieces)", Strings(c, "pieces"), Join(sp.EncodeAsPieces(input)));
                Check(failures, label, "surfaces", Strings(c, "surfaces"), Join(pieces.Select(p => p.Surface)));
                Check(failures, label, "begin_codepoint", Ints(c, "begin_codepoint"),
                    Join(pieces.Select(p => p.CodePointBegin)));
                Check(failures, label, "end_codepoint", Ints(c, "end_codepoint"),
                    Join(pieces.Select(p => p.CodePointEnd)));
                Check(failures, label, "begin_utf8", Ints(c, "begin_utf8"), Join(pieces.Select(p => p.Utf8Begin)));
                Check(failures, label, "end_utf8", Ints(c, "end_utf8"), Join(pieces.Select(p => p.Utf8End)));
                Check(failures, label, "begin_utf16", Ints(c, "begin_utf16"), Join(pieces.Select(p => p.Utf16Begin)));
                Check(failures, label, "end_utf16", Ints(c, "end_utf16"), Join(pieces.Select(p => p.Utf16End)));
                Check(failures, label, "normalized", c.GetProperty("normalized").GetString()!,
                    NormalizedFromPieces(sp, pieces));
                if (pieces.Length > 0)
                    Check(failures, label, "Normalize", c.GetProperty("normalized").GetString()!, sp.Normalize(input));
                Check(failures, label, "decoded", c.GetProperty("decoded").GetString()!,
                    sp.Decode(pieces.Select(p => p.Id).ToArray()));
            }
            foreach (var c in root.GetProperty("decode").EnumerateArray())
            {
                decodeCases++;
                var label = $"{stem} decode '{c.GetProperty("label").GetString()}'";
                var caseIds = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                Check(failures, label, "pieces", Strings(c, "pieces"), Join(caseIds.Select(sp.IdToPiece)));
                Check(failures, label, "decoded", c.GetProperty("decoded").GetString()!, sp.Decode(caseIds));
            }
        }
        Assert.True(encodeCases > 0 && decodeCases > 0, "the fixtures hold no cases");
        Assert.True(failures.Count == 0,
            $"{failures.Count} mismatches over {encodeCases} encode and {decodeCases} decode cases:\n" +
            string.Join("\n", failures.Take(40)));
    }

    [Fact]
    public void ParserRecoversEveryPieceOfThePiecesTable()
    {
        foreach (var stem in ModelStems())
        {
            var proto = SentencePieceProcessor.Load(ModelPath(stem)).Proto;
            var lines = File.ReadAllLines(Path.Combine(FixturePaths.Spm, stem + ".pieces.tsv")).Skip(1).ToArray();
            Assert.Equal(lines.Length, proto.Pieces.Count);
            foreach (var line in lines)
            {
                var cols = line.Split('\t');
                var id = int.Parse(cols[0], CultureInfo.InvariantCulture);
                var entry = proto.Pieces[id];
                Assert.Equal(JsonSerializer.Deserialize<string>(cols[3]), entry.Piece);
                Assert.Equal(cols[1].Replace("_", "", StringComparison.Ordinal),
                    entry.Type.ToString().ToUpperInvariant());
                // Python prints the float32 widened to double with repr: compare as float32.
                Assert.Equal((float)double.Parse(cols[2], CultureInfo.InvariantCulture), entry.Score);
            }
        }
    }

    [Fact]
    public void ParserRecoversTheSpecFields()
    {
        foreach (var stem in ModelStems())
        {
            var proto = SentencePieceProcessor.Load(ModelPath(stem)).Proto;
            using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(FixturePaths.Spm, stem + ".spec.json")));
            var root = doc.RootElement;
            var ts = root.GetProperty("trainer_spec");
            var t = proto.TrainerSpec;
            Assert.Equal(root.GetProperty("num_pieces").GetInt32(), proto.Pieces.Count);
            Assert.Equal(ts.GetProperty("model_type").GetString(), t.ModelType.ToString().ToUpperInvariant());
            Assert.Equal(ts.GetProperty("vocab_size").GetInt32(), t.VocabSize);
            Assert.Equal(ts.GetProperty("byte_fallback").GetBoolean(), t.ByteFallback);
            Assert.Equal(ts.GetProperty("unk_id").GetInt32(), t.UnkId);
            Assert.Equal(ts.GetProperty("bos_id").GetInt32(), t.BosId);
            Assert.Equal(ts.GetProperty("eos_id").GetInt32(), t.EosId);
            Assert.Equal(ts.GetProperty("pad_id").GetInt32(), t.PadId);
            Assert.Equal(ts.GetProperty("unk_piece").GetString(), t.UnkPiece);
            Assert.Equal(ts.GetProperty("bos_piece").GetString(), t.BosPiece);
            Assert.Equal(ts.GetProperty("eos_piece").GetString(), t.EosPiece);
            Assert.Equal(ts.GetProperty("pad_piece").GetString(), t.PadPiece);
            Assert.Equal(ts.GetProperty("unk_surface").GetString(), t.UnkSurface);
            Assert.Equal(ts.GetProperty("has_unk_surface").GetBoolean(), t.HasUnkSurface);
            Assert.Equal(ts.GetProperty("treat_whitespace_as_suffix").GetBoolean(), t.TreatWhitespaceAsSuffix);
            Assert.Equal(ts.GetProperty("user_defined_symbols").EnumerateArray().Select(e => e.GetString()!),
                t.UserDefinedSymbols);
            var ns = root.GetProperty("normalizer_spec");
            var n = proto.NormalizerSpec;
            Assert.Equal(ns.GetProperty("name").GetString(), n.Name);
            Assert.Equal(ns.GetProperty("add_dummy_prefix").GetBoolean(), n.AddDummyPrefix);
            Assert.Equal(ns.GetProperty("remove_extra_whitespaces").GetBoolean(), n.RemoveExtraWhitespaces);
            Assert.Equal(ns.GetProperty("escape_whitespaces").GetBoolean(), n.EscapeWhitespaces);
            Assert.Equal(ns.GetProperty("precompiled_charsmap_len").GetInt32(), n.PrecompiledCharsmap.Length);
            Assert.Equal(ns.GetProperty("precompiled_charsmap_sha256").GetString(),
                Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(n.PrecompiledCharsmap.Span)));
            Assert.Equal(root.GetProperty("has_denormalizer_spec").GetBoolean(), proto.DenormalizerSpec is not null);
            var normal = proto.Pieces.Where(p => p.Type == SentencePieceType.Normal).Select(p => p.Score).ToArray();
            Assert.Equal((float)root.GetProperty("min_normal_score").GetDouble(), normal.Min());
            Assert.Equal((float)root.GetProperty("max_normal_score").GetDouble(), normal.Max());
        }
    }

    [Fact]
    public void CharsmapSingleCodePointRulesMatchTheDecompiledTable()
    {
        // Each row: a code point and what nmt_nfkc maps it to. The code point alone must normalise to the dummy
        // prefix plus its mapping (nothing at all when the mapping deletes it). Mappings containing a space are
        // skipped: the whitespace rules reshape them.
        var path = Directory.GetFiles(FixturePaths.Spm, "nmt_nfkc.*.charsmap.single-codepoint.tsv").Single();
        var sp = SentencePieceProcessor.Load(ModelPath("t5like_unigram_500"));
        var rows = 0;
        foreach (var line in File.ReadLines(path).Where(l => !l.StartsWith('#')))
        {
            var cols = line.Split('\t');
            var source = CodePoint(cols[0]);
            var target = string.Concat(cols[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(CodePoint));
            if (target.Contains(' ', StringComparison.Ordinal))
                continue;
            rows++;
            Assert.Equal(target.Length == 0 ? "" : "\u2581" + target, sp.Normalize(source));
        }
        Assert.True(rows > 4000, $"only {rows} rows checked");
    }

    private static string CodePoint(string hex) =>
        char.ConvertFromUtf32(int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    private static string NormalizedFromPieces(SentencePieceProcessor sp, EncodedPiece[] pieces)
    {
        var bytes = new List<byte>();
        foreach (var p in pieces)
        {
            if (sp.TypeOf(p.Id) == SentencePieceType.Byte)
                bytes.Add(byte.Parse(p.Piece.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            else
                bytes.AddRange(Encoding.UTF8.GetBytes(p.Piece));
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static void Check(List<string> failures, string label, string what, string expected, string actual)
    {
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
            failures.Add($"{label}: {what}\n  expected {expected}\n  actual   {actual}");
    }

    private static string Ints(JsonElement c, string name) =>
        Join(c.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()));

    private static string Strings(JsonElement c, string name) =>
        Join(c.GetProperty(name).EnumerateArray().Select(e => e.GetString()!));

    private static string Join<T>(IEnumerable<T> items) => JsonSerializer.Serialize(items.ToArray());
}
