// A loaded unigram SentencePiece model: checks the vocabulary as the library does on load, then encodes
// (normalise → Viterbi → unknown merging or byte fallback, with offsets) and decodes exactly like sentencepiece.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>
/// The SentencePiece processor for one <c>.model</c> file: vocabulary, normaliser, unigram encoder and decoder.
/// Instances are immutable and safe to share between threads.
/// </summary>
public sealed class SentencePieceProcessor
{
    // The library keeps two maps: CONTROL, UNKNOWN and BYTE pieces; NORMAL, USER_DEFINED and UNUSED pieces.
    private readonly Dictionary<string, int> reservedIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> pieceIds = new(StringComparer.Ordinal);
    private readonly SentencePieceType[] types;
    private readonly byte[] byteValue;          // the byte of each BYTE piece
    private readonly int[] byteId = new int[256];
    private readonly int unknownPieceId;
    private readonly TextNormalizer normalizer;
    private readonly TextNormalizer? denormalizer;
    private readonly UnigramEncoder encoder;
    private readonly PieceDecoder decoder;

    private SentencePieceProcessor(SentencePieceModelProto proto)
    {
        Proto = proto;
        var source = proto.Source;
        if (proto.TrainerSpec.ModelType != SentencePieceModelType.Unigram)
            throw new SentencePieceUnsupportedModelException(source,
                proto.TrainerSpec.ModelType.ToString().ToUpperInvariant());
        var count = proto.Pieces.Count;
        types = new SentencePieceType[count];
        byteValue = new byte[count];
        Array.Fill(byteId, -1);
        unknownPieceId = -1;
        var trieEntries = new List<(string, int)>();
        var userDefined = new List<(string, int)>();
        for (var id = 0; id < count; id++)
        {
            var (piece, _, type) = proto.Pieces[id];
            var at = proto.PieceOffsets[id];
            types[id] = type;
            if (piece.Length == 0)
                throw new SentencePieceFormatException(source, at, $"piece {id} is empty");
            if (piece.Contains('\0', StringComparison.Ordinal))
                throw new SentencePieceFormatException(source, at, $"piece {id} contains a NUL character");
            var normal = type is SentencePieceType.Normal or SentencePieceType.UserDefined or SentencePieceType.Unused;
            if (!(normal ? pieceIds : reservedIds).TryAdd(piece, id))
                throw new SentencePieceFormatException(source, at, $"piece {id} \"{piece}\" is already defined");
            if (normal)
                trieEntries.Add((piece, id));
            if (type == SentencePieceType.UserDefined)
                userDefined.Add((piece, id));
            if (type == SentencePieceType.Unknown)
            {
                if (unknownPieceId >= 0)
                    throw new SentencePieceFormatException(source, at, $"piece {id} is a second UNKNOWN piece");
                unknownPieceId = id;
            }
            if (type == SentencePieceType.Byte)
            {
                if (!proto.TrainerSpec.ByteFallback)
                    throw new SentencePieceFormatException(source, at,
                        $"byte piece {piece} is present although byte_fallback is false");
                if (ParseBytePiece(piece) is not { } value)
                    throw new SentencePieceFormatException(source, at, $"byte piece \"{piece}\" is not <0xXX>");
                byteValue[id] = value;
                byteId[value] = id;
            }
        }
        if (unknownPieceId < 0)
            throw new SentencePieceFormatException(source, -1, "no piece has type UNKNOWN");
        if (proto.TrainerSpec.ByteFallback && Array.IndexOf(byteId, -1) >= 0)
            throw new SentencePieceFormatException(source, -1,
                $"byte_fallback is true but byte piece <0x{Array.IndexOf(byteId, -1):X2}> is missing");
        if (trieEntries.Count == 0)
            throw new SentencePieceFormatException(source, -1, "no NORMAL, USER_DEFINED or UNUSED piece");

        normalizer = new TextNormalizer(proto.NormalizerSpec, proto.TrainerSpec.TreatWhitespaceAsSuffix,
            LoadCharsmap(proto.NormalizerSpec, source), new PieceTrie(userDefined));
        if (proto.DenormalizerSpec is { PrecompiledCharsmap.IsEmpty: false } denorm)
            denormalizer = new TextNormalizer(denorm, false, LoadCharsmap(denorm, source), null);
        encoder = new UnigramEncoder(new PieceTrie(trieEntries), proto, unknownPieceId);
        UnkId = SpecialId(proto.TrainerSpec.UnkPiece, "<unk>", SentencePieceType.Unknown);
        BosId = SpecialId(proto.TrainerSpec.BosPiece, "<s>", SentencePieceType.Control);
        EosId = SpecialId(proto.TrainerSpec.EosPiece, "</s>", SentencePieceType.Control);
        PadId = SpecialId(proto.TrainerSpec.PadPiece, "<pad>", SentencePieceType.Control);
        decoder = new PieceDecoder(this, proto);
    }

    /// <summary>Loads a <c>.model</c> file.</summary>
    /// <exception cref="SentencePieceFormatException">The file is malformed (the message has the offset).</exception>
    public static SentencePieceProcessor Load(string path) => FromBytes(File.ReadAllBytes(path), path);

    /// <summary>Loads a model from a stream (read to its end); <paramref name="source"/> names it in errors.</summary>
    public static SentencePieceProcessor Load(Stream stream, string source = "<stream>")
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return FromBytes(copy.ToArray(), source);
    }

    /// <summary>Loads a model from its serialized bytes; <paramref name="source"/> names them in errors.</summary>
    public static SentencePieceProcessor FromBytes(ReadOnlySpan<byte> bytes, string source = "<bytes>") =>
        new(ModelProtoParser.Parse(bytes, source));

    /// <summary>The parsed model file.</summary>
    public SentencePieceModelProto Proto { get; }

    /// <summary>Number of pieces (ids 0 to PieceCount − 1).</summary>
    public int PieceCount => types.Length;

    /// <summary>The unknown id (the piece named by <c>unk_piece</c> if it is UNKNOWN, else −1).</summary>
    public int UnkId { get; }

    /// <summary>The begin-of-sentence id (the CONTROL piece named by <c>bos_piece</c>, else −1).</summary>
    public int BosId { get; }

    /// <summary>The end-of-sentence id (the CONTROL piece named by <c>eos_piece</c>, else −1).</summary>
    public int EosId { get; }

    /// <summary>The padding id (the CONTROL piece named by <c>pad_piece</c>, else −1).</summary>
    public int PadId { get; }

    /// <summary>The text of piece <paramref name="id"/>.</summary>
    public string IdToPiece(int id) => Proto.Pieces[CheckId(id)].Piece;

    /// <summary>The id of <paramref name="piece"/> (CONTROL/UNKNOWN/BYTE pieces first), or the unknown piece's
    /// id when there is none, as the library's <c>PieceToId</c>.</summary>
    public int PieceToId(string piece) =>
        reservedIds.TryGetValue(piece, out var id) || pieceIds.TryGetValue(piece, out id) ? id : unknownPieceId;

    /// <summary>The type of piece <paramref name="id"/>.</summary>
    public SentencePieceType TypeOf(int id) => types[CheckId(id)];

    /// <summary>The score of piece <paramref name="id"/>.</summary>
    public float ScoreOf(int id) => Proto.Pieces[CheckId(id)].Score;

    /// <summary>Normalises <paramref name="text"/> as encoding does (whitespace escaped to U+2581).</summary>
    public string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var normalized = new GrowableBuffer<byte>(text.Length * 2 + 4);
        normalizer.Normalize(Encoding.UTF8.GetBytes(text), normalized, new GrowableBuffer<int>(text.Length * 2 + 4));
        return Encoding.UTF8.GetString(normalized.Span);
    }

    /// <summary>Encodes <paramref name="text"/> to ids (no BOS/EOS added).</summary>
    public int[] EncodeAsIds(string text)
    {
        var run = Run(text);
        var ids = new int[run.Pieces.Count];
        for (var i = 0; i < ids.Length; i++)
            ids[i] = run.Pieces[i].Id;
        return ids;
    }

    /// <summary>Encodes <paramref name="text"/> to piece strings (unknown runs appear as their normalised
    /// text).</summary>
    public string[] EncodeAsPieces(string text)
    {
        var run = Run(text);
        var pieces = new string[run.Pieces.Count];
        for (var i = 0; i < pieces.Length; i++)
            pieces[i] = PieceText(run, run.Pieces[i]);
        return pieces;
    }

    /// <summary>Encodes <paramref name="text"/> with each piece's source span in the original text.</summary>
    public EncodedPiece[] EncodeWithOffsets(string text)
    {
        var run = Run(text);
        var map = new SourceOffsetMap(text, run.Utf8Length);
        var result = new EncodedPiece[run.Pieces.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var p = run.Pieces[i];
            int u16Begin = map.Utf16(p.OrigBegin), u16End = map.Utf16(p.OrigEnd);
            var surface = p.HasSurface ? text[u16Begin..u16End] : "";
            result[i] = new EncodedPiece(p.Id, PieceText(run, p), surface, p.OrigBegin, p.OrigEnd,
                map.CodePoint(p.OrigBegin), map.CodePoint(p.OrigEnd), u16Begin, u16End);
        }
        return result;
    }

    /// <summary>
    /// Decodes ids (each in [0, <see cref="PieceCount"/>)) with sentencepiece's rules: CONTROL pieces vanish, the
    /// unknown piece becomes <c>unk_surface</c>, U+2581 becomes a space and a leading one is dropped, byte pieces
    /// are decoded as UTF-8 (U+FFFD per ill-formed byte). EOS does not stop decoding here.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> ids)
    {
        foreach (var id in ids)
            CheckId(id);
        return Denormalize(decoder.Decode(ids));
    }

    /// <summary>Decodes ids where ids at or above <see cref="PieceCount"/> are written as
    /// <paramref name="extraSurface"/> gives them (used for sentinels).</summary>
    internal string Decode(ReadOnlySpan<int> ids, Func<int, string> extraSurface) =>
        Denormalize(decoder.Decode(ids, extraSurface));

    /// <summary>The byte a BYTE piece stands for.</summary>
    internal byte ByteValueOf(int id) => byteValue[id];

    private string Denormalize(string text)
    {
        if (denormalizer is null)
            return text;
        var output = new GrowableBuffer<byte>(text.Length * 2 + 4);
        denormalizer.Normalize(Encoding.UTF8.GetBytes(text), output, new GrowableBuffer<int>(text.Length * 2 + 4));
        return Encoding.UTF8.GetString(output.Span);
    }

    private EncodeRun Run(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var utf8 = Encoding.UTF8.GetBytes(text);
        var normalized = new GrowableBuffer<byte>(utf8.Length * 2 + 4);
        var normToOrig = new GrowableBuffer<int>(utf8.Length * 2 + 4);
        normalizer.Normalize(utf8, normalized, normToOrig);
        var segments = new GrowableBuffer<Segment>(normalized.Count / 2 + 4);
        encoder.Encode(normalized.Span, segments);
        var pieces = new List<RawPiece>(segments.Count);
        var previousUnknown = false;
        var byteFallback = Proto.TrainerSpec.ByteFallback;
        foreach (var (start, end, id) in segments.Span)
        {
            var unknown = types[id] == SentencePieceType.Unknown;
            int origBegin = normToOrig[start], origEnd = normToOrig[end];
            if (unknown && byteFallback)
            {
                // One byte piece per UTF-8 byte; the last one carries the character's source span.
                for (var k = start; k < end; k++)
                {
                    var last = k == end - 1;
                    pieces.Add(new RawPiece(byteId[normalized[k]], k, k + 1, origBegin, last ? origEnd : origBegin,
                        normalized[k], last));
                }
            }
            else if (unknown && previousUnknown)
            {
                // Adjacent unknown characters merge into one unknown piece.
                var merged = pieces[^1];
                pieces[^1] = merged with { NormEnd = end, OrigEnd = origEnd };
            }
            else
            {
                pieces.Add(new RawPiece(id, start, end, origBegin, origEnd, -1, true));
            }
            previousUnknown = unknown;
        }
        return new EncodeRun(utf8.Length, normalized.Span.ToArray(), pieces);
    }

    private string PieceText(EncodeRun run, RawPiece piece)
    {
        if (piece.Byte >= 0)
            return $"<0x{piece.Byte:X2}>";
        if (types[piece.Id] == SentencePieceType.Unknown)
            return Encoding.UTF8.GetString(run.Normalized, piece.NormStart, piece.NormEnd - piece.NormStart);
        return Proto.Pieces[piece.Id].Piece;
    }

    private int SpecialId(string name, string fallback, SentencePieceType required)
    {
        var id = PieceToId(name.Length == 0 ? fallback : name);
        return types[id] == required ? id : -1;
    }

    private int CheckId(int id)
    {
        if ((uint)id >= (uint)types.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"piece id must be in [0, {types.Length})");
        return id;
    }

    private static PrecompiledCharsmap? LoadCharsmap(SentencePieceNormalizerSpec spec, string source) =>
        spec.PrecompiledCharsmap.IsEmpty ? null
            : PrecompiledCharsmap.Load(spec.PrecompiledCharsmap.Span, source, spec.CharsmapOffset);

    private static byte? ParseBytePiece(string piece)
    {
        if (piece.Length != 6 || !piece.StartsWith("<0x", StringComparison.Ordinal) || piece[5] != '>')
            return null;
        static int Hex(char c) => c is >= '0' and <= '9' ? c - '0' : c is >= 'A' and <= 'F' ? c - 'A' + 10 : -1;
        int hi = Hex(piece[3]), lo = Hex(piece[4]);
        return hi < 0 || lo < 0 ? null : (byte)(hi * 16 + lo);
    }

    /// <summary>A piece before strings are built: normalised and original byte ranges, and the byte for byte
    /// pieces (−1 otherwise).</summary>
    private readonly record struct RawPiece(int Id, int NormStart, int NormEnd, int OrigBegin, int OrigEnd, int Byte,
        bool HasSurface);

    private sealed record EncodeRun(int Utf8Length, byte[] Normalized, List<RawPiece> Pieces);
}
