// A seeded random stream: a key plus a position. Each draw reserves a range of counters, so results depend only
// on the seed and the order of draws, never on threads, devices or machines.
using System;

namespace CoLT5.Tensors.Random;

/// <summary>A reproducible random stream (Philox key + offset). Not thread-safe: one per training loop.</summary>
public sealed class Generator
{
    /// <summary>Creates a stream from a seed.</summary>
    public Generator(ulong seed) => Seed = seed;

    /// <summary>The key of the stream.</summary>
    public ulong Seed { get; }

    /// <summary>Counters consumed so far; save it with the seed to resume a stream exactly.</summary>
    public ulong Offset { get; set; }

    /// <summary>Reserves <paramref name="count"/> consecutive elements and returns the first one's counter.</summary>
    public ulong Reserve(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var start = Offset;
        Offset = checked(Offset + (ulong)count);
        return start;
    }

    /// <summary>A uniform double in [0, 1) (host-side draw).</summary>
    public double NextDouble() => Philox.UniformDouble(Seed, Reserve(1));

    /// <summary>A uniform integer in [0, bound).</summary>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        return (int)(Philox.Bits64(Seed, Reserve(1)) % (ulong)bound);
    }

    /// <summary>A standard normal double (host-side draw).</summary>
    public double NextNormal() => Philox.Normal(Seed, Reserve(1));
}
