// Elementwise binary operators as static-abstract structs (one per op) and the row loops that apply them:
// vector⊕vector, vector⊕scalar-broadcast and scalar⊕vector runs use Vector512 → Vector256 → scalar tails.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>An elementwise binary operator at three widths.</summary>
internal interface IBinaryOperator<T> where T : unmanaged
{
    static abstract T Apply(T a, T b);

    static abstract Vector512<T> Apply(Vector512<T> a, Vector512<T> b);

    static abstract Vector256<T> Apply(Vector256<T> a, Vector256<T> b);
}

internal readonly struct AddOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T a, T b) => a + b;
    public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => a + b;
    public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => a + b;
}

internal readonly struct SubOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T a, T b) => a - b;
    public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => a - b;
    public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => a - b;
}

internal readonly struct MulOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T a, T b) => a * b;
    public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => a * b;
    public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => a * b;
}

internal readonly struct DivOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T a, T b) => a / b;
    public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => a / b;
    public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => a / b;
}

internal readonly struct MaxOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T a, T b) => T.Max(a, b);   // NaN propagates, as torch.maximum
    public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => Vector512.Max(a, b);
    public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => Vector256.Max(a, b);
}

internal readonly struct MinOperator<T> : IBinaryOperator<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T a, T b) => T.Min(a, b);
    public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => Vector512.Min(a, b);
    public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => Vector256.Min(a, b);
}

/// <summary>Row loops for a binary operator over raw pointers with element strides.</summary>
internal static unsafe class BinaryRows
{
    /// <summary>y[i·sy] = a[i·sa] ⊕ b[i·sb] for i &lt; n, choosing a SIMD form when strides allow.</summary>
    public static void Run<T, TOp>(T* a, long sa, T* b, long sb, T* y, long sy, int n)
        where T : unmanaged where TOp : IBinaryOperator<T>
    {
        if (sy == 1 && sa == 1 && sb == 1)
            VectorVector<T, TOp>(a, b, y, n);
        else if (sy == 1 && sa == 1 && sb == 0)
            VectorScalar<T, TOp>(a, *b, y, n);
        else if (sy == 1 && sa == 0 && sb == 1)
            ScalarVector<T, TOp>(*a, b, y, n);
        else
            for (var i = 0; i < n; i++)
                y[i * sy] = TOp.Apply(a[i * sa], b[i * sb]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void VectorVector<T, TOp>(T* a, T* b, T* y, int n) where T : unmanaged where TOp : IBinaryOperator<T>
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                TOp.Apply(Vector512.Load(a + i), Vector512.Load(b + i)).Store(y + i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                TOp.Apply(Vector256.Load(a + i), Vector256.Load(b + i)).Store(y + i);
        }
        for (; i < n; i++)
            y[i] = TOp.Apply(a[i], b[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void VectorScalar<T, TOp>(T* a, T b, T* y, int n) where T : unmanaged where TOp : IBinaryOperator<T>
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vb = Vector512.Create(b);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                TOp.Apply(Vector512.Load(a + i), vb).Store(y + i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vb = Vector256.Create(b);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                TOp.Apply(Vector256.Load(a + i), vb).Store(y + i);
        }
        for (; i < n; i++)
            y[i] = TOp.Apply(a[i], b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScalarVector<T, TOp>(T a, T* b, T* y, int n) where T : unmanaged where TOp : IBinaryOperator<T>
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(a);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                TOp.Apply(va, Vector512.Load(b + i)).Store(y + i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                TOp.Apply(va, Vector256.Load(b + i)).Store(y + i);
        }
        for (; i < n; i++)
            y[i] = TOp.Apply(a, b[i]);
    }
}
