// A minimal append-only array that can also be cut back, reused across calls so the encoder's inner loops do
// not allocate per character.
using System;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>An array with a count; grows by doubling.</summary>
internal sealed class GrowableBuffer<T>
{
    private T[] items;

    public GrowableBuffer(int capacity = 16) => items = new T[Math.Max(capacity, 1)];

    /// <summary>Number of items.</summary>
    public int Count { get; private set; }

    /// <summary>The items written so far.</summary>
    public Span<T> Span => items.AsSpan(0, Count);

    /// <summary>The item at <paramref name="index"/> (must be below <see cref="Count"/>).</summary>
    public ref T this[int index] => ref items[index];

    /// <summary>Appends one item.</summary>
    public void Add(T item)
    {
        if (Count == items.Length)
            Array.Resize(ref items, items.Length * 2);
        items[Count++] = item;
    }

    /// <summary>Appends several items.</summary>
    public void AddRange(ReadOnlySpan<T> values)
    {
        if (Count + values.Length > items.Length)
            Array.Resize(ref items, Math.Max(items.Length * 2, Count + values.Length));
        values.CopyTo(items.AsSpan(Count));
        Count += values.Length;
    }

    /// <summary>Drops items from the end so that <paramref name="count"/> remain.</summary>
    public void Truncate(int count) => Count = count;

    /// <summary>Empties the buffer (keeps its storage).</summary>
    public void Clear() => Count = 0;
}
