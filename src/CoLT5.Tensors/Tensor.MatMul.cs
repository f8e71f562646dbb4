// Matrix products: torch.matmul semantics (1-D vectors, broadcast batch dimensions) plus transposed operands.
using CoLT5.Tensors.Autograd;
using CoLT5.Tensors.Backends;

namespace CoLT5.Tensors;

public sealed partial class Tensor
{
    /// <summary>this @ other with torch.matmul semantics.</summary>
    public Tensor MatMul(Tensor other) => MatMul(this, other);

    /// <summary>
    /// op(a) @ op(b) where op transposes the last two dimensions when asked. a: (..., M, K) — or (..., K, M) with
    /// <paramref name="transposeA"/>; b: (..., K, N) — or (..., N, K) with <paramref name="transposeB"/>.
    /// Batch dimensions broadcast; a 1-D operand is a row (a) or column (b) vector that is squeezed away again.
    /// A linear layer is <c>MatMul(x, w, transposeB: true)</c> with w of shape (out, in).
    /// </summary>
    /// <exception cref="ShapeMismatchException">Inner dimensions or batch dimensions do not agree.</exception>
    public static Tensor MatMul(Tensor a, Tensor b, bool transposeA = false, bool transposeB = false)
    {
        const string name = "matmul";
        var backend = SameBackend(name, a, b);
        SameDType(name, a, b);
        a.RequireFloat(name);
        if (a.Rank == 0 || b.Rank == 0)
            throw new ShapeMismatchException(name, a.Shape, b.Shape, "both operands need at least one dimension");
        if (a.Rank == 1 || b.Rank == 1)
            return MatMulVector(a, b, transposeA, transposeB);

        // Fold a's batch dimensions into M when b is a plain matrix: one large GEMM instead of many small ones,
        // and the weight gradient becomes a single product with no broadcast reduction.
        if (b.Rank == 2 && a.Rank > 2 && !transposeA)
        {
            var k = a.Shape[^1];
            using var flat = a.Reshape(-1, k);
            using var product = MatMul(flat, b, false, transposeB);
            int[] dims = [.. a.Shape.Dims[..^1], product.Shape[1]];
            return product.Reshape(dims);
        }

        int m = a.Shape[transposeA ? -1 : -2], ka = a.Shape[transposeA ? -2 : -1];
        int kb = b.Shape[transposeB ? -1 : -2], n = b.Shape[transposeB ? -2 : -1];
        if (ka != kb)
            throw new ShapeMismatchException(name, a.Shape, b.Shape, $"inner dimensions differ ({ka} vs {kb})" +
                (transposeA || transposeB ? $" with transposeA={transposeA}, transposeB={transposeB}" : ""));
        var batchA = new Shape(a.Shape.Dims[..^2]);
        var batchB = new Shape(b.Shape.Dims[..^2]);
        Shape batch;
        try
        {
            batch = Shape.Broadcast(batchA, batchB, name);
        }
        catch (ShapeMismatchException)
        {
            throw new ShapeMismatchException(name, a.Shape, b.Shape,
                $"batch dimensions {batchA} and {batchB} do not broadcast");
        }

        var c = Empty(backend, new Shape([.. batch.Dims, m, n]), a.DType);
        backend.MatMul(OperandView(a, batch, m, ka, transposeA), OperandView(b, batch, kb, n, transposeB), c.View, 1, 0);
        return Recording(a, b) ? c.Attach(new MatMulBackward(a, b, transposeA, transposeB)) : c;
    }

    // The logical (rows × cols) view of an operand, with its batch dimensions broadcast to `batch`.
    private static TensorView OperandView(Tensor t, Shape batch, int rows, int cols, bool transposed)
    {
        var stored = new Shape([.. batch.Dims, transposed ? cols : rows, transposed ? rows : cols]);
        var view = t.BroadcastView(stored, "matmul");
        var s = (long[])view.Strides.Clone();
        if (transposed)
            (s[^1], s[^2]) = (s[^2], s[^1]);
        return new TensorView(view.Buffer, new Shape([.. batch.Dims, rows, cols]), s, view.Offset);
    }

    private static Tensor MatMulVector(Tensor a, Tensor b, bool transposeA, bool transposeB)
    {
        // A vector operand is a row (a) or a column (b); transposing a vector changes nothing.
        var a2 = a.Rank == 1 ? a.Unsqueeze(0) : null;
        var b2 = b.Rank == 1 ? b.Unsqueeze(1) : null;
        try
        {
            using var product = MatMul(a2 ?? a, b2 ?? b, transposeA && a2 is null, transposeB && b2 is null);
            if (a2 is not null && b2 is not null)
                return product.Reshape();
            return a2 is not null ? product.Squeeze(-2) : product.Squeeze(-1);
        }
        finally
        {
            a2?.Dispose();
            b2?.Dispose();
        }
    }

    private sealed class MatMulBackward : GradFn
    {
        private readonly Tensor a, b;
        private readonly bool transposeA, transposeB;

        public MatMulBackward(Tensor a, Tensor b, bool transposeA, bool transposeB) : base(a, b)
        {
            this.a = Save(a);
            this.b = Save(b);
            this.transposeA = transposeA;
            this.transposeB = transposeB;
        }

        public override Tensor?[] Backward(Tensor grad)
        {
            // With A = op(a), B = op(b), C = A·B: dA = dC·Bᵀ and dB = Aᵀ·dC; a transposed operand gets the
            // transpose of those, written as one product each so no transposed copy is materialised.
            Tensor? ga = null, gb = null;
            if (NeedsGrad(0))
            {
                using var full = transposeA
                    ? MatMul(b, grad, transposeA: transposeB, transposeB: true)
                    : MatMul(grad, b, transposeA: false, transposeB: !transposeB);
                ga = full.SumTo(a.Shape);
            }
            if (NeedsGrad(1))
            {
                using var full = transposeB
                    ? MatMul(grad, a, transposeA: true, transposeB: transposeA)
                    : MatMul(a, grad, transposeA: !transposeA, transposeB: false);
                gb = full.SumTo(b.Shape);
            }
            return [ga, gb];
        }
    }
}
