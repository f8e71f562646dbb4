// A byte trie from piece strings (UTF-8) to ids, flattened into arrays so that walking it allocates nothing.
// The encoder walks it from every character position; the normaliser uses one over the user-defined symbols.
using System;
using System.Collections.Generic;
using System.Text;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>
/// Node 0 is the root. Each node's children are a sorted run of (label, node) pairs; the root's children are
/// also indexed by a 256-entry table. <see cref="Value"/> is the id stored at a node, or −1.
/// </summary>
internal sealed class PieceTrie
{
    /// <summary>The root node.</summary>
    public const int Root = 0;

    private readonly int[] rootTable = new int[256];
    private readonly int[] firstChild;
    private readonly int[] childCount;
    private readonly int[] values;
    private readonly byte[] labels;
    private readonly int[] targets;

    /// <summary>Builds the trie; keys must be distinct and non-empty.</summary>
    public PieceTrie(IEnumerable<(string Key, int Id)> entries)
    {
        var sorted = new List<(byte[] Key, int Id)>();
        foreach (var (key, id) in entries)
            sorted.Add((Encoding.UTF8.GetBytes(key), id));
        sorted.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
        var nodeFirst = new List<int>();
        var nodeCount = new List<int>();
        var nodeValue = new List<int>();
        var edgeLabel = new List<byte>();
        var edgeTarget = new List<int>();
        // Breadth-first over (node, range of sorted keys sharing the node's prefix, depth).
        var queue = new Queue<(int Node, int From, int To, int Depth)>();
        nodeFirst.Add(0);
        nodeCount.Add(0);
        nodeValue.Add(-1);
        queue.Enqueue((Root, 0, sorted.Count, 0));
        while (queue.Count > 0)
        {
            var (node, from, to, depth) = queue.Dequeue();
            var i = from;
            if (i < to && sorted[i].Key.Length == depth)
                nodeValue[node] = sorted[i++].Id;
            nodeFirst[node] = edgeLabel.Count;
            var pending = new List<(int Node, int From, int To)>();
            while (i < to)
            {
                var label = sorted[i].Key[depth];
                var j = i;
                while (j < to && sorted[j].Key[depth] == label)
                    j++;
                var child = nodeFirst.Count;
                nodeFirst.Add(0);
                nodeCount.Add(0);
                nodeValue.Add(-1);
                edgeLabel.Add(label);
                edgeTarget.Add(child);
                pending.Add((child, i, j));
                i = j;
            }
            nodeCount[node] = edgeLabel.Count - nodeFirst[node];
            foreach (var (child, f, t) in pending)
                queue.Enqueue((child, f, t, depth + 1));
        }
        firstChild = [.. nodeFirst];
        childCount = [.. nodeCount];
        values = [.. nodeValue];
        labels = [.. edgeLabel];
        targets = [.. edgeTarget];
        Array.Fill(rootTable, -1);
        for (var k = 0; k < childCount[Root]; k++)
            rootTable[labels[firstChild[Root] + k]] = targets[firstChild[Root] + k];
        IsEmpty = sorted.Count == 0;
    }

    /// <summary>True when the trie holds no keys.</summary>
    public bool IsEmpty { get; }

    /// <summary>The child of <paramref name="node"/> along <paramref name="label"/>, or −1.</summary>
    public int Child(int node, byte label)
    {
        if (node == Root)
            return rootTable[label];
        int lo = firstChild[node], hi = lo + childCount[node] - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >> 1;
            var l = labels[mid];
            if (l == label)
                return targets[mid];
            if (l < label)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        return -1;
    }

    /// <summary>The id stored at <paramref name="node"/>, or −1 when no key ends there.</summary>
    public int Value(int node) => values[node];

    /// <summary>Length in bytes of the longest key that is a prefix of <paramref name="text"/> (0 when none).</summary>
    public int LongestPrefix(ReadOnlySpan<byte> text)
    {
        var node = Root;
        var longest = 0;
        for (var i = 0; i < text.Length; i++)
        {
            node = Child(node, text[i]);
            if (node < 0)
                break;
            if (values[node] >= 0)
                longest = i + 1;
        }
        return longest;
    }
}
