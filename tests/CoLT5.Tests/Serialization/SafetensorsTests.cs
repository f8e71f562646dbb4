// Safetensors reader and writer: every fixture's verdict, bit-exact round trips, the written header's layout,
// atomic replacement, hostile inputs built in memory, and the Hugging Face T5 checkpoints.
using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using CoLT5.Tensors;
using CoLT5.Tensors.Serialization;
using CoLT5.Tests.Testing;
using Xunit;

namespace CoLT5.Tests.Serialization;

public sealed class SafetensorsTests : IDisposable
{
    private const string HostileName = "hostile.safetensors";
    private const ulong Max48 = (1UL << 48) - 1;
    private const SafetensorsErrorKind Deser = SafetensorsErrorKind.InvalidHeaderDeserialization;

    // Fixture files whose verdict is a policy of this reader rather than a reference error name.
    private static readonly Dictionary<string, SafetensorsErrorKind> PolicyVerdicts = new(StringComparer.Ordinal)
    {
        ["bad_duplicate_key.safetensors"] = SafetensorsErrorKind.DuplicateKey,
        ["strict_extra_field.safetensors"] = SafetensorsErrorKind.UnknownField,
    };

    private readonly string tempDir;

    public SafetensorsTests()
    {
        tempDir = Path.Combine(Path.GetTempPath(), "colt5-safetensors-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(tempDir);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(tempDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string FixtureDir => FixturePaths.Resolve("COLT5_SAFETENSORS_FIXTURES", "safetensors");

    private static string HfDir => FixturePaths.Resolve("COLT5_HF_FIXTURES", "hf-t5");

    // ---- fixture verdicts -----------------------------------------------------------------------------------

    public static TheoryData<string> FixtureFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(FixtureDir, "*.safetensors").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(FixtureFiles))]
    public void Fixture_file_gets_its_expected_verdict(string fileName)
    {
        var path = Path.Combine(FixtureDir, fileName);
        var expected = ExpectedCase(fileName);
        if (expected.TryGetProperty("size", out var size))
            Assert.Equal(size.GetInt64(), new FileInfo(path).Length);

        if (expected.GetProperty("valid").GetBoolean())
        {
            using var file = SafetensorsFile.Open(path);
            CheckValidFile(file, expected);
            using var inMemory = SafetensorsFile.FromBytes(File.ReadAllBytes(path), fileName);
            CheckValidFile(inMemory, expected);
            return;
        }

        var referenceError = expected.TryGetProperty("reference_error", out var r) ? r.GetString() : null;
        var kind = ExpectedKind(fileName, referenceError);
        var fromFile = Assert.Throws<SafetensorsException>(() =>
            OpenAndLoadEverything(() => SafetensorsFile.Open(path)));
        var fromMemory = Assert.Throws<SafetensorsException>(() =>
            OpenAndLoadEverything(() => SafetensorsFile.FromBytes(File.ReadAllBytes(path), fileName)));
        if (kind is not null)
        {
            Assert.Equal(kind, fromFile.Kind);
            Assert.Equal(kind, fromMemory.Kind);
        }
        Assert.Equal(path, fromFile.Path);
        Assert.Contains(path, fromFile.Message, StringComparison.Ordinal);
        Assert.Equal(fromFile.Kind, fromMemory.Kind);
        Assert.Equal(fromFile.TensorName, fromMemory.TensorName);
        Assert.Equal(fromFile.ByteOffset, fromMemory.ByteOffset);
        if (fromFile.TensorName is not null)
            Assert.Contains(fromFile.TensorName, fromFile.Message, StringComparison.Ordinal);
        if (fromFile.ByteOffset is long offset)
            Assert.Contains($"byte {offset}", fromFile.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_expected_case_has_its_file()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(FixtureDir, "expected.json")));
        var cases = doc.RootElement.GetProperty("cases").EnumerateArray().ToList();
        Assert.NotEmpty(cases);
        foreach (var c in cases)
            Assert.True(File.Exists(Path.Combine(FixtureDir, c.GetProperty("file").GetString()!)));
    }

    [Fact]
    public void Fixture_metadata_and_entry_details_are_exposed()
    {
        using (var file = SafetensorsFile.Open(Path.Combine(FixtureDir, "valid_dtypes.safetensors")))
        {
            Assert.Equal("pt", file.Metadata["format"]);
            Assert.Equal("dtypes", file.Metadata["note"]);
            Assert.Equal(2, file.Metadata.Count);
            // Entries come in data order; the file is laid out by descending alignment.
            Assert.Equal(["scalar.f64", "ids.i64", "half", "brain", "bytes.u8", "mask"],
                file.Entries.Select(e => e.Name).ToArray());
            var scalar = file.GetEntry("scalar.f64");
            Assert.Empty(scalar.Shape);
            Assert.Equal(1, scalar.ElementCount);
            Assert.Equal(0, scalar.Begin);
            Assert.Equal(8, scalar.End);
            Assert.Equal(file.DataOffset, scalar.FileOffset);
            Assert.Equal(SafetensorsDType.F64, scalar.FileDType);
            using var t = file.Load("scalar.f64", DType.Float64);
            Assert.Equal(0, t.Rank);
            Assert.Equal(Math.PI, t.Item());
            Assert.Equal("scalar.f64", t.Name);
        }
        using (var file = SafetensorsFile.Open(Path.Combine(FixtureDir, "valid_basic_f32.safetensors")))
        {
            Assert.Empty(file.Metadata);
            Assert.Equal(72, file.DataOffset); // the header is padded to 64 bytes
        }
        var unaligned = Path.Combine(FixtureDir, "valid_whitespace_padded_unaligned.safetensors");
        using (var file = SafetensorsFile.Open(unaligned))
            Assert.NotEqual(0, file.HeaderLength % 8);
    }

    private static JsonElement ExpectedCase(string fileName)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(FixtureDir, "expected.json")));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("file").GetString() == fileName)
                return c.Clone();
        }
        Assert.Fail($"{fileName} has no case in expected.json");
        throw new InvalidOperationException();
    }

    private static SafetensorsErrorKind? ExpectedKind(string fileName, string? referenceError)
    {
        if (PolicyVerdicts.TryGetValue(fileName, out var policy))
            return policy;
        if (referenceError is { Length: > 0 } && char.IsLetter(referenceError[0])
            && Enum.TryParse<SafetensorsErrorKind>(referenceError, ignoreCase: false, out var kind))
            return kind;
        return null; // an unknown kind of invalid file: any SafetensorsException will do
    }

    private static void OpenAndLoadEverything(Func<SafetensorsFile> open)
    {
        using var file = open();
        foreach (var entry in file.Entries)
        {
            var target = entry.NaturalTarget(DType.Float64)
                ?? throw new SafetensorsException(SafetensorsErrorKind.UnsupportedConversion, file.Path, "test");
            file.Load(entry.Name, target).Dispose();
        }
    }

    private static void CheckValidFile(SafetensorsFile file, JsonElement expected)
    {
        var tensors = expected.TryGetProperty("tensors", out var t) ? t : default;
        if (tensors.ValueKind == JsonValueKind.Object)
            Assert.Equal(tensors.EnumerateObject().Count(), file.Entries.Count);
        foreach (var entry in file.Entries)
        {
            JsonElement? exp = null;
            if (tensors.ValueKind == JsonValueKind.Object && tensors.TryGetProperty(entry.Name, out var e))
                exp = e;
            if (exp is JsonElement x)
            {
                Assert.Equal(x.GetProperty("dtype").GetString(), entry.DTypeName);
                Assert.Equal(x.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), entry.Shape);
            }
            var values = exp?.GetProperty("values");
            if (entry.FileDType.IsLoadableFloat())
                CheckFloatEntry(file, entry, values);
            else if (entry.FileDType.IsLoadableInteger())
                CheckIntegerEntry(file, entry, values);
            else
                Assert.Equal(SafetensorsErrorKind.UnsupportedConversion,
                    Assert.Throws<SafetensorsException>(() => file.Load(entry.Name)).Kind);
        }
    }

    private static void CheckFloatEntry(SafetensorsFile file, SafetensorsEntry entry, JsonElement? values)
    {
        using var t64 = file.Load(entry.Name, DType.Float64);
        using var t32 = file.Load(entry.Name, DType.Float32);
        Assert.Equal(entry.Shape.Select(d => (int)d), t64.Shape.ToArray());
        var d = t64.ToArray<double>();
        var f = t32.ToArray<float>();
        Assert.Equal(entry.ElementCount, d.Length);
        for (var i = 0; i < d.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits((float)d[i]), BitConverter.SingleToInt32Bits(f[i]));
        if (values is JsonElement v)
        {
            var exp = v.EnumerateArray().Select(x => x.GetDouble()).ToArray();
            Assert.Equal(exp.Select(BitConverter.DoubleToInt64Bits), d.Select(BitConverter.DoubleToInt64Bits));
        }
        if (entry.FileDType == SafetensorsDType.BF16)
        {
            using var bf = file.Load(entry.Name, DType.BFloat16);
            Assert.Equal(file.ReadRawBytes(entry.Name), RawBytes(bf));
        }
    }

    private static void CheckIntegerEntry(SafetensorsFile file, SafetensorsEntry entry, JsonElement? values)
    {
        var raw = DecodeIntegers(file.ReadRawBytes(entry.Name), entry.FileDType);
        Assert.Equal(entry.ElementCount, raw.Length);
        if (values is JsonElement v)
            Assert.Equal(v.EnumerateArray().Select(x => Int128.Parse(x.GetRawText())), raw);
        if (raw.All(x => x >= int.MinValue && x <= int.MaxValue))
        {
            using var ti = file.Load(entry.Name, DType.Int32);
            Assert.Equal(raw.Select(x => (int)x), ti.ToArray<int>());
        }
        else
        {
            var ex = Assert.Throws<SafetensorsException>(() => file.Load(entry.Name, DType.Int32));
            Assert.Equal(SafetensorsErrorKind.ValueOutOfRange, ex.Kind);
            Assert.Equal(entry.Name, ex.TensorName);
            var bad = Array.FindIndex(raw, x => x < int.MinValue || x > int.MaxValue);
            Assert.Equal(entry.FileOffset + (bad * entry.FileDType.BitSize() / 8), ex.ByteOffset);
        }
        if (raw.All(x => x == 0 || x == 1))
        {
            using var tb = file.Load(entry.Name, DType.Bool);
            Assert.Equal(raw.Select(x => x == 1), tb.ToArray<bool>());
        }
        else
        {
            Assert.Equal(SafetensorsErrorKind.ValueOutOfRange,
                Assert.Throws<SafetensorsException>(() => file.Load(entry.Name, DType.Bool)).Kind);
        }
        Assert.Equal(SafetensorsErrorKind.UnsupportedConversion,
            Assert.Throws<SafetensorsException>(() => file.Load(entry.Name, DType.Float32)).Kind);
    }

    // Independent little-endian integer decoding (does not use the library's codec).
    private static Int128[] DecodeIntegers(byte[] bytes, SafetensorsDType dtype)
    {
        var size = dtype.BitSize() / 8;
        var result = new Int128[bytes.Length / size];
        for (var i = 0; i < result.Length; i++)
        {
            var s = bytes.AsSpan(i * size, size);
            result[i] = dtype switch
            {
                SafetensorsDType.Bool or SafetensorsDType.U8 => s[0],
                SafetensorsDType.I8 => (sbyte)s[0],
                SafetensorsDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(s),
                SafetensorsDType.U16 => BinaryPrimitives.ReadUInt16LittleEndian(s),
                SafetensorsDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(s),
                SafetensorsDType.U32 => BinaryPrimitives.ReadUInt32LittleEndian(s),
                SafetensorsDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(s),
                SafetensorsDType.U64 => BinaryPrimitives.ReadUInt64LittleEndian(s),
                _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
            };
        }
        return result;
    }

    // ---- round trips ----------------------------------------------------------------------------------------

    [Fact]
    public void Float32_round_trip_is_bit_exact_including_nan_payloads()
    {
        var bits = new uint[]
        {
            0x00000000, 0x80000000, 0x3F800000, 0xBFC00000, 0x00000001, 0x807FFFFF, 0x7F7FFFFF, 0xFF7FFFFF,
            0x7F800000, 0xFF800000, 0x7FC00000, 0x7FC12345, 0x7F800001, 0xFFFFFFFF,
        };
        var rng = new Random(17);
        var all = bits.Concat(Enumerable.Range(0, 46).Select(_ => (uint)rng.NextInt64(0, 1L << 32))).ToArray();
        using var t = FromRaw(Bytes(all), new Shape(6, 10), DType.Float32);
        var path = Write(("w", t));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal("F32", file.GetEntry("w").DTypeName);
        Assert.Equal(Bytes(all), file.ReadRawBytes("w"));
        using var back = file.Load("w", DType.Float32);
        Assert.Equal(new[] { 6, 10 }, back.Shape.ToArray());
        Assert.Equal(Bytes(all), RawBytes(back));
    }

    [Fact]
    public void Float64_round_trip_is_bit_exact()
    {
        var bits = new ulong[]
        {
            0, 0x8000000000000000, 0x3FF0000000000000, 0x0000000000000001, 0x7FEFFFFFFFFFFFFF, 0x7FF0000000000000,
            0xFFF0000000000000, 0x7FF8000000000000, 0x7FF0000000000001, 0x7FF8DEADBEEF0001,
        };
        var rng = new Random(18);
        var all = bits.Concat(Enumerable.Range(0, 22).Select(_ => (ulong)rng.NextInt64() * 2 + 1)).ToArray();
        using var t = FromRaw(Bytes(all), new Shape(2, 4, 4), DType.Float64);
        var path = Write(("d", t));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal("F64", file.GetEntry("d").DTypeName);
        using var back = file.Load("d", DType.Float64);
        Assert.Equal(Bytes(all), RawBytes(back));
        Assert.Equal(Bytes(all), file.ReadRawBytes("d"));
    }

    [Fact]
    public void BFloat16_round_trip_is_bit_exact_and_widens_exactly()
    {
        var rng = new Random(19);
        var all = new ushort[] { 0x0000, 0x8000, 0x3F80, 0x7F80, 0xFF80, 0x7FC1, 0x7F81, 0x0001, 0x7F7F }
            .Concat(Enumerable.Range(0, 39).Select(_ => (ushort)rng.Next(0, 1 << 16))).ToArray();
        using var t = FromRaw(Bytes(all), new Shape(4, 12), DType.BFloat16);
        var path = Write(("b", t));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal("BF16", file.GetEntry("b").DTypeName);
        Assert.Equal(Bytes(all), file.ReadRawBytes("b"));
        using var back = file.Load("b", DType.BFloat16);
        Assert.Equal(Bytes(all), RawBytes(back));
        using var wide = file.Load("b", DType.Float32);
        Assert.Equal(all.Select(b => (uint)b << 16), Bits32(wide));
    }

    [Fact]
    public void Float16_round_trip_is_bit_exact_for_half_values()
    {
        var rng = new Random(20);
        var halves = new ushort[] { 0x0000, 0x8000, 0x3C00, 0x0001, 0x03FF, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00 }
            .Concat(Enumerable.Range(0, 200).Select(_ => (ushort)rng.Next(0, 1 << 16))
                .Where(h => (h & 0x7C00) != 0x7C00))
            .ToArray();
        var floats = halves.Select(h => (float)BitConverter.UInt16BitsToHalf(h)).ToArray();
        using var t = Tensor.FromArray<float>(floats, new Shape(floats.Length));
        var path = Path.Combine(tempDir, "half.safetensors");
        SafetensorsWriter.Write(path, [("h", t)], null, SafetensorsDType.F16);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal("F16", file.GetEntry("h").DTypeName);
        Assert.Equal(Bytes(halves), file.ReadRawBytes("h"));
        using var back = file.Load("h", DType.Float32);
        Assert.Equal(floats.Select(BitConverter.SingleToUInt32Bits), Bits32(back));
        // Writing the loaded tensor as F16 again reproduces the file.
        var again = Path.Combine(tempDir, "half2.safetensors");
        SafetensorsWriter.Write(again, [("h", back)], null, SafetensorsDType.F16);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    [Fact]
    public void Int32_and_bool_round_trip_exactly()
    {
        var ints = new[] { 0, 1, -1, int.MinValue, int.MaxValue, 123456789, -987654321 };
        var bools = new[] { true, false, false, true, true };
        using var ti = Tensor.FromArray<int>(ints, new Shape(7));
        using var tb = Tensor.FromArray<bool>(bools, new Shape(5));
        var path = Write(("i", ti), ("m", tb));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal("I32", file.GetEntry("i").DTypeName);
        Assert.Equal("BOOL", file.GetEntry("m").DTypeName);
        using var i2 = file.Load("i", DType.Int32);
        using var b2 = file.Load("m", DType.Bool);
        Assert.Equal(ints, i2.ToArray<int>());
        Assert.Equal(bools, b2.ToArray<bool>());
        Assert.Equal(new byte[] { 1, 0, 0, 1, 1 }, file.ReadRawBytes("m"));
        using var asInt = file.Load("m", DType.Int32);
        Assert.Equal(new[] { 1, 0, 0, 1, 1 }, asInt.ToArray<int>());
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    [InlineData(DType.BFloat16)]
    [InlineData(DType.Int32)]
    [InlineData(DType.Bool)]
    public void Scalars_and_zero_sized_tensors_round_trip(DType dtype)
    {
        var size = dtype.SizeOf();
        var scalarBytes = Enumerable.Range(0, size).Select(i => (byte)(dtype == DType.Bool ? 1 : 0x41 + i)).ToArray();
        using var scalar = FromRaw(scalarBytes, Shape.Scalar, dtype);
        using var empty1 = FromRaw([], new Shape(0), dtype);
        using var empty3 = FromRaw([], new Shape(2, 0, 3), dtype);
        var path = Write(("s", scalar), ("e1", empty1), ("e3", empty3));
        using var file = SafetensorsFile.Open(path);
        var s = file.GetEntry("s");
        Assert.Empty(s.Shape);
        Assert.Equal(size, s.ByteLength);
        Assert.Equal(0, file.GetEntry("e1").ByteLength);
        Assert.Equal(new long[] { 2, 0, 3 }, file.GetEntry("e3").Shape);
        using var s2 = file.Load("s", dtype);
        Assert.Equal(0, s2.Rank);
        Assert.Equal(scalarBytes, RawBytes(s2));
        using var e2 = file.Load("e3", dtype);
        Assert.Equal(new[] { 2, 0, 3 }, e2.Shape.ToArray());
        Assert.Equal(0, e2.NumElements);
        using var e1 = file.Load("e1", dtype);
        Assert.Equal(new[] { 0 }, e1.Shape.ToArray());
    }

    [Fact]
    public void Rewriting_a_loaded_file_reproduces_it_byte_for_byte()
    {
        var rng = new Random(21);
        using var a = Tensor.RandN(new Shape(3, 5), new CoLT5.Tensors.Random.Generator(1));
        using var b = Tensor.RandN(new Shape(7), new CoLT5.Tensors.Random.Generator(2), dtype: DType.Float64);
        using var c = Tensor.RandN(new Shape(2, 2), new CoLT5.Tensors.Random.Generator(3)).To(DType.BFloat16);
        using var d = Tensor.FromArray<int>(Enumerable.Range(0, 9).Select(_ => rng.Next()).ToArray(), new Shape(3, 3));
        using var e = Tensor.FromArray<bool>([true, false, true], new Shape(3));
        var meta = new Dictionary<string, string> { ["k"] = "v" };
        var first = Write(meta, ("a", a), ("b", b), ("c", c), ("d", d), ("e", e));
        using var file = SafetensorsFile.Open(first);
        var loaded = file.Entries.Select(en => (en.Name, file.Load(en.Name, Natural(en)))).ToList();
        try
        {
            var second = Path.Combine(tempDir, "again.safetensors");
            SafetensorsWriter.Write(second, loaded, file.Metadata.ToDictionary());
            Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        }
        finally
        {
            foreach (var (_, t) in loaded)
                t.Dispose();
        }
    }

    [Fact]
    public void Non_contiguous_tensors_are_written_row_major()
    {
        using var t = Tensor.FromArray<float>([1, 2, 3, 4, 5, 6], new Shape(2, 3));
        using var tt = t.Transpose(0, 1);
        Assert.False(tt.IsContiguous);
        var path = Write(("t", tt));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(new long[] { 3, 2 }, file.GetEntry("t").Shape);
        using var back = file.Load("t");
        Assert.Equal(new float[] { 1, 4, 2, 5, 3, 6 }, back.ToArray<float>());
    }

    [Fact]
    public void Narrowing_on_write_rounds_to_nearest_even()
    {
        // float32 -> bf16: ties go to even, anything above the tie rounds up, overflow goes to infinity.
        var f = new[]
        {
            1f, 1f + MathF.Pow(2, -8), 1f + 3 * MathF.Pow(2, -8), 1f + MathF.Pow(2, -8) + MathF.Pow(2, -20),
            float.MaxValue, -0f, float.NaN,
        };
        using var t = Tensor.FromArray<float>(f, new Shape(f.Length));
        var path = Path.Combine(tempDir, "bf.safetensors");
        SafetensorsWriter.Write(path, [("f", t)], storeAs: DType.BFloat16);
        using (var file = SafetensorsFile.Open(path))
        {
            var bf = U16(file.ReadRawBytes("f"));
            Assert.Equal(new ushort[] { 0x3F80, 0x3F80, 0x3F82, 0x3F81, 0x7F80, 0x8000 }, bf[..6]);
            Assert.Equal(0x7FC0, bf[6] & 0x7FC0); // a quiet NaN
            // The same bits as the engine's own float32 -> bfloat16 conversion.
            using var engine = t.To(DType.BFloat16);
            Assert.Equal(RawBytes(engine), file.ReadRawBytes("f"));
        }

        // float64 -> bf16 and -> f16 are correctly rounded (no double rounding through float32).
        var d = new[]
        {
            1 + Math.Pow(2, -8) + Math.Pow(2, -30), 1 + Math.Pow(2, -8), 1 + Math.Pow(2, -11) + Math.Pow(2, -40),
            1 + Math.Pow(2, -11), 1e300, -1e-300,
        };
        using var td = Tensor.FromArray<double>(d, new Shape(d.Length));
        SafetensorsWriter.Write(path, [("d", td)], storeAs: DType.BFloat16);
        using (var file = SafetensorsFile.Open(path))
            Assert.Equal(new ushort[] { 0x3F81, 0x3F80, 0x3F80, 0x3F80, 0x7F80, 0x8000 }, U16(file.ReadRawBytes("d")));
        SafetensorsWriter.Write(path, [("d", td)], null, SafetensorsDType.F16);
        using (var file = SafetensorsFile.Open(path))
            Assert.Equal(new ushort[] { 0x3C04, 0x3C04, 0x3C01, 0x3C00, 0x7C00, 0x8000 }, U16(file.ReadRawBytes("d")));

        // float64 -> f32 on load rounds to nearest too.
        SafetensorsWriter.Write(path, [("d", td)]);
        using (var file = SafetensorsFile.Open(path))
        {
            using var f32 = file.Load("d", DType.Float32);
            Assert.Equal(d.Select(x => (float)x), f32.ToArray<float>());
            using var bf16 = file.Load("d", DType.BFloat16);
            Assert.Equal(new ushort[] { 0x3F81, 0x3F80, 0x3F80, 0x3F80, 0x7F80, 0x8000 }, U16(RawBytes(bf16)));
        }
    }

    // ---- written header ---------------------------------------------------------------------------------------

    [Fact]
    public void Written_header_is_ordered_padded_and_carries_metadata()
    {
        var odd = "we\"ird\\name\n\u0001\u00e9\U0001F600";
        using var f1 = Tensor.FromArray<float>([1, 2], new Shape(2));
        using var f2 = Tensor.FromArray<float>([3], new Shape(1));
        using var f3 = Tensor.FromArray<float>([4, 5, 6], new Shape(3));
        using var d = Tensor.FromArray<double>([7], Shape.Scalar);
        using var i = Tensor.FromArray<int>([8, 9, 10], new Shape(3));
        using var h = Tensor.FromArray<float>([1, 2, 3], new Shape(3)).To(DType.BFloat16);
        using var m = Tensor.FromArray<bool>([true, false, true, true, false], new Shape(5));
        using var z = Tensor.FromArray<float>([], new Shape(0, 4));
        var meta = new Dictionary<string, string> { ["zeta"] = "last", ["author"] = "colt5" };
        var path = Write(meta, ("b", f1), ("a", f2), ("\u00e9", f3), (odd, f2), ("m", m), ("h", h), ("i", i),
            ("z", z), ("d", d));

        var bytes = File.ReadAllBytes(path);
        var n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        var headerBytes = bytes.AsSpan(8, (int)n);
        var close = headerBytes.LastIndexOf((byte)'}');
        Assert.True(headerBytes[(close + 1)..].IndexOfAnyExcept((byte)' ') < 0, "padding is spaces only");
        Assert.True(n - close - 1 < 8, "at most 7 padding bytes");

        using var doc = JsonDocument.Parse(headerBytes.ToArray());
        var props = doc.RootElement.EnumerateObject().ToList();
        Assert.Equal("__metadata__", props[0].Name);
        Assert.Equal(["format", "author", "zeta"], props[0].Value.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("pt", props[0].Value.GetProperty("format").GetString());
        // Descending dtype alignment (F64, F32, I32, BF16, BOOL), then name in UTF-8 byte order.
        Assert.Equal(new[] { "d", "a", "b", odd, "z", "\u00e9", "i", "h", "m" }, props.Skip(1).Select(p => p.Name));
        long expectedBegin = 0;
        foreach (var p in props.Skip(1))
        {
            var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            Assert.Equal(expectedBegin, offsets[0]);
            var dtype = p.Value.GetProperty("dtype").GetString()!;
            Assert.True(SafetensorsDTypes.TryParse(dtype, out var dt));
            Assert.Equal(0, (8 + n + offsets[0]) % (dt.BitSize() / 8)); // every tensor is aligned in the file
            Assert.Equal(["dtype", "shape", "data_offsets"], p.Value.EnumerateObject().Select(q => q.Name).ToArray());
            expectedBegin = offsets[1];
        }
        Assert.Equal(bytes.Length - 8 - n, expectedBegin);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal("colt5", file.Metadata["author"]);
        using var weird = file.Load(odd);
        Assert.Equal(new float[] { 3 }, weird.ToArray<float>());
    }

    [Fact]
    public void Metadata_format_can_be_overridden_and_empty_files_match_the_fixture()
    {
        using var t = Tensor.FromArray<float>([1], new Shape(1));
        var path = Write(new Dictionary<string, string> { ["format"] = "mlx" }, ("t", t));
        using (var file = SafetensorsFile.Open(path))
        {
            Assert.Equal("mlx", file.Metadata["format"]);
            Assert.Single(file.Metadata);
        }
        var empty = Path.Combine(tempDir, "empty.safetensors");
        SafetensorsWriter.Write(empty, []);
        Assert.Equal(File.ReadAllBytes(Path.Combine(FixtureDir, "valid_empty_with_metadata.safetensors")),
            File.ReadAllBytes(empty));
    }

    [Fact]
    public void Writer_refuses_bad_names_metadata_and_dtypes()
    {
        using var t = Tensor.FromArray<float>([1], new Shape(1));
        var path = Path.Combine(tempDir, "refused.safetensors");
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("a", t), ("a", t)]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("__metadata__", t)]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("bad\ud800", t)]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("a", t)],
            new Dictionary<string, string> { ["k"] = "\udc00" }));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("a", t)], storeAs: DType.Int32));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("a", t)], null, SafetensorsDType.I8));
        Assert.Empty(Directory.GetFileSystemEntries(tempDir));
    }

    [Fact]
    public void Writer_refuses_a_header_over_100_MB()
    {
        using var t = Tensor.FromArray<float>([1], new Shape(1));
        var path = Path.Combine(tempDir, "huge.safetensors");
        // Each control character is escaped as \u00XX (6 bytes): a 17-million-character value needs 100 MB.
        var meta = new Dictionary<string, string> { ["blob"] = new string('\u0001', 16_666_667) };
        var ex = Assert.Throws<SafetensorsException>(() => SafetensorsWriter.Write(path, [("a", t)], meta));
        Assert.Equal(SafetensorsErrorKind.HeaderTooLarge, ex.Kind);
        Assert.Empty(Directory.GetFileSystemEntries(tempDir));
    }

    // ---- atomic replacement ---------------------------------------------------------------------------------

    [Fact]
    public void A_failing_enumeration_leaves_the_old_file_and_no_temp()
    {
        var path = Path.Combine(tempDir, "model.safetensors");
        var old = "old content"u8.ToArray();
        File.WriteAllBytes(path, old);
        using var t = Tensor.FromArray<float>([1, 2, 3], new Shape(3));

        IEnumerable<(string, Tensor)> Failing()
        {
            yield return ("first", t);
            throw new InvalidOperationException("enumeration failed halfway");
        }

        Assert.Throws<InvalidOperationException>(() => SafetensorsWriter.Write(path, Failing()));
        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFileSystemEntries(tempDir));
    }

    [Fact]
    public void A_failure_mid_write_leaves_the_old_file_and_no_temp()
    {
        var path = Path.Combine(tempDir, "model.safetensors");
        var old = "old content"u8.ToArray();
        File.WriteAllBytes(path, old);
        using var a = Tensor.FromArray<float>(Enumerable.Range(0, 1000).Select(i => (float)i).ToArray(),
            new Shape(1000));
        using var b = Tensor.FromArray<float>([1, 2, 3], new Shape(3));
        var sawTemp = false;
        var ex = Assert.Throws<IOException>(() => SafetensorsWriter.Write(path, [("a", a), ("b", b)], null, null, i =>
        {
            // Mid-write: the data goes to a temp file next to the target; the target is untouched.
            var files = Directory.GetFileSystemEntries(tempDir);
            sawTemp = files.Length == 2 && files.Any(f => f.EndsWith(".tmp", StringComparison.Ordinal));
            Assert.Equal(old, File.ReadAllBytes(path));
            if (i == 0)
                throw new IOException("simulated disk full");
        }));
        Assert.Equal("simulated disk full", ex.Message);
        Assert.True(sawTemp);
        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFileSystemEntries(tempDir));

        // A failure when no file existed leaves none.
        var fresh = Path.Combine(tempDir, "fresh.safetensors");
        Assert.Throws<IOException>(() => SafetensorsWriter.Write(fresh, [("a", a)], null, null,
            _ => throw new IOException("simulated")));
        Assert.False(File.Exists(fresh));
        Assert.Equal([path], Directory.GetFileSystemEntries(tempDir));

        // A successful write replaces the content.
        SafetensorsWriter.Write(path, [("a", a), ("b", b)]);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(2, file.Entries.Count);
        Assert.Equal([path], Directory.GetFileSystemEntries(tempDir));
    }

    // ---- hostile inputs -----------------------------------------------------------------------------------

    [Fact]
    public void Every_truncation_of_a_valid_file_is_rejected_with_the_right_kind()
    {
        var sources = new List<byte[]> { File.ReadAllBytes(Path.Combine(FixtureDir, "valid_dtypes.safetensors")) };
        using (var a = Tensor.FromArray<float>([1, 2, 3, 4], new Shape(2, 2)))
        using (var b = Tensor.FromArray<int>([5, 6, 7], new Shape(3)))
        using (var c = Tensor.FromArray<bool>([true], Shape.Scalar))
            sources.Add(File.ReadAllBytes(Write(("a", a), ("b", b), ("c", c))));
        var failures = new List<string>();
        foreach (var full in sources)
        {
            var n = (long)BinaryPrimitives.ReadUInt64LittleEndian(full);
            for (var len = 0; len < full.Length; len++)
            {
                var expected = len < 8 ? SafetensorsErrorKind.HeaderTooSmall
                    : len < 8 + n ? SafetensorsErrorKind.InvalidHeaderLength
                    : SafetensorsErrorKind.MetadataIncompleteBuffer;
                try
                {
                    using var f = SafetensorsFile.FromBytes(full.AsMemory(0, len), HostileName);
                    failures.Add($"length {len}: opened");
                }
                catch (SafetensorsException e) when (e.Kind == expected)
                {
                }
                catch (Exception e)
                {
                    failures.Add($"length {len}: {e.GetType().Name} {e.Message}");
                }
            }
        }
        Assert.Empty(failures);
    }

    [Fact]
    public void Huge_header_lengths_are_rejected_before_allocation()
    {
        var body = "{}      "u8.ToArray();
        foreach (var n in new[] { ulong.MaxValue, 1UL << 63, 100_000_001UL, (ulong)uint.MaxValue + 1 })
        {
            var ex = OpenFails(Build(body, [], n), SafetensorsErrorKind.HeaderTooLarge);
            Assert.Equal(0, ex.ByteOffset);
        }
        OpenFails(Build(body, [], 100_000_000), SafetensorsErrorKind.InvalidHeaderLength);
        OpenFails(Build(body, [], 9), SafetensorsErrorKind.InvalidHeaderLength);
        OpenFails(Build([], [], 0), SafetensorsErrorKind.InvalidHeaderDeserialization);
        OpenFails([1, 2, 3, 4, 5, 6, 7], SafetensorsErrorKind.HeaderTooSmall);
        OpenFails([], SafetensorsErrorKind.HeaderTooSmall);
    }

    [Fact]
    public void Offsets_and_dimensions_near_2_pow_48_are_handled()
    {
        var max = Max48.ToString();
        var over = (Max48 + 1).ToString();
        OpenFails(Json(Entry("t", "U8", $"[{max}]", $"[0,{max}]"), [1]), SafetensorsErrorKind.MetadataIncompleteBuffer);
        OpenFails(Json(Entry("t", "U8", $"[{over}]", $"[0,{over}]"), [1]), SafetensorsErrorKind.ValidationOverflow);
        OpenFails(Json(Entry("t", "U8", "[1]", $"[0,{ulong.MaxValue}]"), [1]), SafetensorsErrorKind.ValidationOverflow);
        OpenFails(Json(Entry("t", "U8", "[1]", "[0,18446744073709551616]"), [1]),
            SafetensorsErrorKind.InvalidHeaderDeserialization);
        OpenFails(Json(Entry("t", "U8", $"[{max},0,{over}]", "[0,0]"), []), SafetensorsErrorKind.ValidationOverflow);
        // The reference multiplies left to right: an overflow before a zero dimension is still an overflow.
        OpenFails(Json(Entry("t", "U8", "[1099511627776,1099511627776,0]", "[0,0]"), []),
            SafetensorsErrorKind.ValidationOverflow);
        // A huge dimension times zero is a valid empty tensor, too large for this engine's shapes to load.
        using (var f = SafetensorsFile.FromBytes(Json(Entry("t", "F32", $"[{max},0]", "[0,0]"), []), HostileName))
        {
            Assert.Equal(0, f.GetEntry("t").ElementCount);
            Assert.Equal((long)Max48, f.GetEntry("t").Shape[0]);
            var ex = Assert.Throws<SafetensorsException>(() => f.Load("t"));
            Assert.Equal(SafetensorsErrorKind.UnsupportedShape, ex.Kind);
            Assert.Equal("t", ex.TensorName);
        }
        using (var f = SafetensorsFile.FromBytes(Json(Entry("t", "F32", "[2147483647,0]", "[0,0]"), []), HostileName))
        {
            using var t = f.Load("t");
            Assert.Equal(new[] { int.MaxValue, 0 }, t.Shape.ToArray());
        }
    }

    // Header JSON with ' for " (no test name contains an apostrophe), the data length, and the verdict.
    public static TheoryData<string, int, SafetensorsErrorKind> MalformedHeaders() => new()
    {
        { "{'t':{'dtype':'F4','shape':[3],'data_offsets':[0,1]}}", 1, SafetensorsErrorKind.MisalignedSlice },
        { "{'t':{'dtype':'F32','shape':[2],'data_offsets':[0,4]}}", 4, SafetensorsErrorKind.TensorInvalidInfo },
        { "{'b':{'dtype':'U8','shape':[1],'data_offsets':[1,2]}}", 2, SafetensorsErrorKind.InvalidOffset },
        {
            "{'a':{'dtype':'U8','shape':[1],'data_offsets':[0,1]},'b':{'dtype':'U8','shape':[1],'data_offsets':[0,1]}}",
            1, SafetensorsErrorKind.InvalidOffset
        },
        { "{'t':{'dtype':'U8','shape':[1],'data_offsets':[0,1],'t':1}}", 1, SafetensorsErrorKind.UnknownField },
        { "{'t':{'dtype':'U8','shape':[1],'dtype':'U8','data_offsets':[0,1]}}", 1, SafetensorsErrorKind.DuplicateKey },
        { "{'__metadata__':{'a':'x','a':'y'}}", 0, SafetensorsErrorKind.DuplicateKey },
        { "{'__metadata__':{},'__metadata__':{}}", 0, SafetensorsErrorKind.DuplicateKey },
        {
            "{'t':{'dtype':'U8','shape':[1],'data_offsets':[0,1],'x':{'k':1,'k':2}}}", 1,
            SafetensorsErrorKind.DuplicateKey
        },
        { "{'__metadata__':null}", 0, Deser },
        { "{'__metadata__':['pt']}", 0, Deser },
        { "{'__metadata__':{'k':'\\udc00'}}", 0, Deser },
        { "{'t':5}", 0, Deser },
        { "{'t':{'dtype':'U8','shape':[1],'data_offsets':[0,1,1]}}", 1, Deser },
        { "{'t':{'dtype':'U8','shape':[1],'data_offsets':[0]}}", 1, Deser },
        { "{'t':{'dtype':'U8','shape':'1','data_offsets':[0,1]}}", 1, Deser },
        { "{'t':{'dtype':8,'shape':[1],'data_offsets':[0,1]}}", 1, Deser },
        { "{'t':{'dtype':'u8','shape':[1],'data_offsets':[0,1]}}", 1, Deser },
        { "{'t':{'dtype':'U8','shape':[1],'data_offsets':[-0,1]}}", 1, Deser },
        { "{'t':{'dtype':'U8','shape':[1e0],'data_offsets':[0,1]}}", 1, Deser },
        { "{'t':{'dtype':'U8','shape':[true],'data_offsets':[0,1]}}", 1, Deser },
        { "{'t':{'shape':[1],'data_offsets':[0,1]}}", 1, Deser },
        { "{'t':{'dtype':'U8','data_offsets':[0,1]}}", 1, Deser },
        { "{'\\ud800':{'dtype':'U8','shape':[1],'data_offsets':[0,1]}}", 1, Deser },
        { "{/*c*/}", 0, Deser },
        { "{'__metadata__':{},}", 0, Deser },
        { "{}{}", 0, Deser },
        { "'x'", 0, Deser },
        { "null", 0, Deser },
    };

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void Malformed_headers_are_rejected(string json, int dataLength, SafetensorsErrorKind kind)
    {
        var ex = OpenFails(Json(json.Replace('\'', '"'), new byte[dataLength]), kind);
        if (kind is SafetensorsErrorKind.UnknownField or SafetensorsErrorKind.MisalignedSlice
            or SafetensorsErrorKind.TensorInvalidInfo)
            Assert.Equal("t", ex.TensorName);
    }

    [Fact]
    public void Header_bytes_that_are_not_json_text_are_rejected()
    {
        var valid = "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}"u8.ToArray();
        // A UTF-8 byte-order mark is not JSON whitespace.
        OpenFails(Build([0xEF, 0xBB, 0xBF, .. valid], [7]), SafetensorsErrorKind.InvalidHeaderDeserialization);
        // NUL padding instead of spaces.
        OpenFails(Build([.. valid, 0, 0, 0], [7]), SafetensorsErrorKind.InvalidHeaderDeserialization);
        // Invalid UTF-8: the error points at the offending byte.
        var latin = Encoding.Latin1.GetBytes("{\"a\u00ff\":1}");
        var ex = OpenFails(Build(latin, []), SafetensorsErrorKind.InvalidHeader);
        Assert.Equal(8 + 3, ex.ByteOffset);
        // Overlong encoding and an encoded surrogate are not UTF-8 either.
        OpenFails(Build([(byte)'{', (byte)'"', 0xC0, 0xAF, (byte)'"', (byte)':', (byte)'1', (byte)'}'], []),
            SafetensorsErrorKind.InvalidHeader);
        OpenFails(Build([(byte)'{', (byte)'"', 0xED, 0xA0, 0x80, (byte)'"', (byte)':', (byte)'1', (byte)'}'], []),
            SafetensorsErrorKind.InvalidHeader);
        // Deep nesting is rejected by the parser's depth limit, not by a stack overflow.
        var deep = "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":" + new string('[', 100_000)
            + new string(']', 100_000) + "}}";
        OpenFails(Json(deep, [1]), SafetensorsErrorKind.InvalidHeaderDeserialization);
        // A JSON syntax error reports where it is.
        var syntax = OpenFails(Build("{\"a\" 1}"u8.ToArray(), []), SafetensorsErrorKind.InvalidHeaderDeserialization);
        Assert.Equal(8 + 5, syntax.ByteOffset);
    }

    [Fact]
    public void Empty_tensors_may_share_offsets_and_sit_between_others()
    {
        var json = "{\"z1\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}," +
            "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}," +
            "\"z0\":{\"dtype\":\"F64\",\"shape\":[3,0],\"data_offsets\":[0,0]}," +
            "\"z2\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[4,4]}," +
            "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        using var f = SafetensorsFile.FromBytes(Json(json, [0, 0, 128, 63, 0, 0, 0, 64]), HostileName);
        Assert.Equal(["z0", "z1", "a", "z2", "b"], f.Entries.Select(e => e.Name).ToArray());
        var all = f.LoadAll();
        try
        {
            Assert.Equal(new float[] { 1 }, all["a"].ToArray<float>());
            Assert.Equal(new float[] { 2 }, all["b"].ToArray<float>());
            Assert.Equal(DType.Int32, all["z2"].DType);
            Assert.Equal(0, all["z0"].NumElements);
        }
        finally
        {
            foreach (var t in all.Values)
                t.Dispose();
        }
    }

    [Fact]
    public void Load_errors_name_the_tensor_and_the_byte()
    {
        var json = "{\"m\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}," +
            "\"q\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[3,4]}," +
            "\"h\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[4,6]}," +
            "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[6,10]}," +
            "\"n\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[10,26]}}";
        var data = new byte[26];
        data[0] = 1;
        data[2] = 2; // a BOOL byte that is neither 0 nor 1
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(10), -5);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(18), 1L << 40);
        var bytes = Json(json, data);
        using var f = SafetensorsFile.FromBytes(bytes, HostileName);
        var dataStart = f.DataOffset;

        var ex = Assert.Throws<SafetensorsException>(() => f.Load("m", DType.Bool));
        Assert.Equal(SafetensorsErrorKind.ValueOutOfRange, ex.Kind);
        Assert.Equal("m", ex.TensorName);
        Assert.Equal(dataStart + 2, ex.ByteOffset);
        Assert.Contains(HostileName, ex.Message, StringComparison.Ordinal);
        Assert.Contains("'m'", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"byte {dataStart + 2}", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<SafetensorsException>(() => f.Load("n", DType.Int32));
        Assert.Equal(SafetensorsErrorKind.ValueOutOfRange, ex.Kind);
        Assert.Equal(dataStart + 18, ex.ByteOffset);

        Assert.Equal(SafetensorsErrorKind.UnsupportedConversion,
            Assert.Throws<SafetensorsException>(() => f.Load("q")).Kind);
        Assert.Equal(SafetensorsErrorKind.UnsupportedConversion,
            Assert.Throws<SafetensorsException>(() => f.Load("h", DType.Int32)).Kind);
        Assert.Equal(SafetensorsErrorKind.UnsupportedConversion,
            Assert.Throws<SafetensorsException>(() => f.Load("i", DType.Float32)).Kind);
        var missing = Assert.Throws<SafetensorsException>(() => f.Load("nope"));
        Assert.Equal(SafetensorsErrorKind.TensorNotFound, missing.Kind);
        Assert.Equal("nope", missing.TensorName);
        var all = Assert.Throws<SafetensorsException>(() => f.LoadAll());
        Assert.Equal("m", all.TensorName);
        Assert.Equal(SafetensorsErrorKind.UnsupportedConversion,
            Assert.Throws<SafetensorsException>(() => f.Load("q", DType.Int32)).Kind);
        Assert.Throws<ArgumentException>(() => f.LoadAll(DType.Int32));
    }

    [Fact]
    public void Random_corruption_only_ever_raises_SafetensorsException()
    {
        var seeds = new List<byte[]> { File.ReadAllBytes(Path.Combine(FixtureDir, "valid_dtypes.safetensors")) };
        using (var a = Tensor.FromArray<float>([1, 2, 3, 4], new Shape(2, 2)))
        using (var b = Tensor.FromArray<double>([5, 6], new Shape(2)))
            seeds.Add(File.ReadAllBytes(Write(("a", a), ("b", b))));
        var rng = new Random(1234);
        var failures = new List<string>();
        var targets = new[] { DType.Float32, DType.Float64, DType.BFloat16, DType.Int32, DType.Bool };
        const string Alphabet = "{}[]\":,0123456789-.eE \\u";
        for (var iter = 0; iter < 4000; iter++)
        {
            var bytes = (byte[])seeds[iter % seeds.Count].Clone();
            var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            var edits = rng.Next(1, 5);
            for (var k = 0; k < edits; k++)
            {
                var at = rng.Next(100) < 90 ? 8 + rng.Next(n) : rng.Next(bytes.Length);
                bytes[at] = rng.Next(3) switch
                {
                    0 => (byte)rng.Next(256),
                    1 => (byte)Alphabet[rng.Next(Alphabet.Length)],
                    _ => (byte)(bytes[at] ^ (1 << rng.Next(8))),
                };
            }
            try
            {
                using var f = SafetensorsFile.FromBytes(bytes, HostileName);
                foreach (var entry in f.Entries)
                {
                    foreach (var target in targets)
                    {
                        try
                        {
                            f.Load(entry.Name, target).Dispose();
                        }
                        catch (SafetensorsException)
                        {
                        }
                    }
                }
            }
            catch (SafetensorsException)
            {
            }
            catch (Exception e)
            {
                failures.Add($"iteration {iter}: {e.GetType().Name}: {e.Message}");
            }
        }
        Assert.Empty(failures);
    }

    [Fact]
    public void A_file_that_shrinks_after_opening_fails_with_IoError()
    {
        using var t = Tensor.FromArray<float>(new float[64], new Shape(64));
        var path = Write(("t", t));
        using var file = SafetensorsFile.Open(path);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write,
            FileShare.ReadWrite | FileShare.Delete))
            stream.SetLength(file.DataOffset + 10);
        var ex = Assert.Throws<SafetensorsException>(() => file.Load("t"));
        Assert.Equal(SafetensorsErrorKind.IoError, ex.Kind);
        Assert.Equal("t", ex.TensorName);
    }

    [Fact]
    public void Loads_are_thread_safe_and_honour_the_device()
    {
        using var t = Tensor.FromArray<float>(Enumerable.Range(0, 4096).Select(i => (float)i).ToArray(),
            new Shape(64, 64));
        var path = Write(("t", t));
        using var file = SafetensorsFile.Open(path);
        var sums = new double[32];
        Parallel.For(0, sums.Length, i =>
        {
            using var x = file.Load("t", i % 2 == 0 ? DType.Float32 : DType.Float64);
            sums[i] = x.ToDoubleArray().Sum();
        });
        Assert.All(sums, s => Assert.Equal(4095.0 * 4096 / 2, s));
        using var r = file.Load("t", DType.Float32, Device.Reference);
        Assert.Equal(Device.Reference, r.Device);
        Assert.Equal(t.ToArray<float>(), r.ToArray<float>());
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.Load("t"));
    }

    [Fact]
    public void Missing_files_raise_the_usual_io_errors()
    {
        Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open(Path.Combine(tempDir, "absent.safetensors")));
    }

    // ---- Hugging Face T5 checkpoints ---------------------------------------------------------------------------

    public static TheoryData<string> HfModels()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.EnumerateDirectories(HfDir).Order(StringComparer.Ordinal))
        {
            if (File.Exists(Path.Combine(dir, "model.safetensors")))
                data.Add(Path.GetFileName(dir));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(HfModels))]
    public void Hf_checkpoint_loads_and_its_f64_rounds_to_its_f32_file(string model)
    {
        var dir = Path.Combine(HfDir, model);
        using var f64 = SafetensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        using var f32 = SafetensorsFile.Open(Path.Combine(dir, "model.f32.safetensors"));
        Assert.Equal("pt", f64.Metadata["format"]);
        Assert.Equal("pt", f32.Metadata["format"]);
        Assert.Equal(f64.Entries.Select(e => e.Name).Order(StringComparer.Ordinal),
            f32.Entries.Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Contains(f64.Entries, e => e.Name == "shared.weight");
        foreach (var entry in f64.Entries)
        {
            Assert.Equal("F64", entry.DTypeName);
            Assert.Equal(entry.Shape, f32.GetEntry(entry.Name).Shape);
            Assert.Equal("F32", f32.GetEntry(entry.Name).DTypeName);
            using var d = f64.Load(entry.Name, DType.Float64);
            using var narrowed = f64.Load(entry.Name, DType.Float32);
            using var stored = f32.Load(entry.Name, DType.Float32);
            Assert.Equal(entry.Shape.Select(x => (int)x), stored.Shape.ToArray());
            var doubles = d.ToArray<double>();
            var expected = stored.ToArray<float>();
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), Bits32(narrowed).Select(b => (int)b));
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits),
                doubles.Select(x => BitConverter.SingleToInt32Bits((float)x)));
            Assert.Contains(doubles, x => x != 0);
        }
    }

    [Theory]
    [MemberData(nameof(HfModels))]
    public void Hf_checkpoint_is_reproduced_byte_for_byte_by_the_writer(string model)
    {
        foreach (var (fileName, dtype) in new[]
            { ("model.safetensors", DType.Float64), ("model.f32.safetensors", DType.Float32) })
        {
            var source = Path.Combine(HfDir, model, fileName);
            using var file = SafetensorsFile.Open(source);
            var all = file.LoadAll(dtype);
            try
            {
                var copy = Path.Combine(tempDir, fileName);
                SafetensorsWriter.Write(copy, all.Select(kv => (kv.Key, kv.Value)));
                Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(copy));
            }
            finally
            {
                foreach (var t in all.Values)
                    t.Dispose();
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private string Write(params (string Name, Tensor Tensor)[] tensors) => Write(null, tensors);

    private string Write(Dictionary<string, string>? metadata, params (string Name, Tensor Tensor)[] tensors)
    {
        var path = Path.Combine(tempDir, Guid.NewGuid().ToString("N") + ".safetensors");
        SafetensorsWriter.Write(path, tensors, metadata);
        return path;
    }

    private static DType Natural(SafetensorsEntry entry) => entry.FileDType switch
    {
        SafetensorsDType.F64 => DType.Float64,
        SafetensorsDType.BF16 => DType.BFloat16,
        _ => entry.NaturalTarget() ?? throw new InvalidOperationException(entry.DTypeName),
    };

    private static SafetensorsException OpenFails(byte[] bytes, SafetensorsErrorKind kind)
    {
        var ex = Assert.Throws<SafetensorsException>(() => SafetensorsFile.FromBytes(bytes, HostileName).Dispose());
        Assert.Equal(kind, ex.Kind);
        Assert.Equal(HostileName, ex.Path);
        Assert.StartsWith(HostileName, ex.Message, StringComparison.Ordinal);
        return ex;
    }

    private static string Entry(string name, string dtype, string shape, string offsets) =>
        $"{{\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}}}";

    private static byte[] Json(string json, byte[] data) => Build(Encoding.UTF8.GetBytes(json), data, pad: true);

    private static byte[] Build(byte[] header, byte[] data, ulong? lengthField = null, bool pad = false)
    {
        var padded = pad
            ? header.Concat(Enumerable.Repeat((byte)' ', (8 - (header.Length % 8)) % 8)).ToArray()
            : header;
        var result = new byte[8 + padded.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, lengthField ?? (ulong)padded.Length);
        padded.CopyTo(result, 8);
        data.CopyTo(result, 8 + padded.Length);
        return result;
    }

    private static byte[] RawBytes(Tensor t)
    {
        using var dense = t.Contiguous();
        var size = t.DType.SizeOf();
        var bytes = new byte[t.NumElements * size];
        dense.Backend.Download(dense.View.Buffer, dense.Offset * size, bytes);
        return bytes;
    }

    private static Tensor FromRaw(byte[] bytes, Shape shape, DType dtype)
    {
        var t = Tensor.Empty(shape, dtype);
        if (bytes.Length > 0)
            t.Backend.Upload(bytes, t.View.Buffer, 0);
        return t;
    }

    private static uint[] Bits32(Tensor t)
    {
        Assert.Equal(DType.Float32, t.DType);
        return t.ToArray<float>().Select(BitConverter.SingleToUInt32Bits).ToArray();
    }

    private static ushort[] U16(byte[] bytes) =>
        Enumerable.Range(0, bytes.Length / 2)
            .Select(i => BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2))).ToArray();

    private static byte[] Bytes<T>(T[] values) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
