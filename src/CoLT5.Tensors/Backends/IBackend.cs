// The op-level backend contract: everything the tensor layer asks of a device. CPU, reference, OpenCL and CUDA
// backends implement it; the tensor and model code never sees a kernel or a native handle.
using System;

namespace CoLT5.Tensors.Backends;

/// <summary>
/// A compute device. Kernels take <see cref="TensorView"/>s over buffers the backend allocated. Conventions:
/// output views are written, never read (unless the op says it accumulates); inputs may be arbitrarily strided
/// unless an op says "contiguous"; an output may alias an input only when the two views are identical.
/// Float ops support <see cref="DType.Float32"/> and (on the CPU) <see cref="DType.Float64"/>; index tensors are
/// <see cref="DType.Int32"/>; masks are <see cref="DType.Bool"/>. Work is enqueued in order; only
/// <see cref="Download"/> and <see cref="Synchronize"/> wait for it.
/// </summary>
public interface IBackend : IDisposable
{
    /// <summary>The device this backend drives.</summary>
    Device Device { get; }

    /// <summary>A human-readable description ("cpu: 2 threads, AVX-512", "PoCL pthread ...").</summary>
    string Description { get; }

    /// <summary>Allocates uninitialised memory for <paramref name="length"/> elements (pooled where possible).</summary>
    IDeviceBuffer Allocate(DType dtype, long length);

    /// <summary>Copies host bytes into a buffer at a byte offset.</summary>
    void Upload(ReadOnlySpan<byte> source, IDeviceBuffer destination, long byteOffset);

    /// <summary>Copies buffer bytes to the host, waiting for pending work first.</summary>
    void Download(IDeviceBuffer source, long byteOffset, Span<byte> destination);

    /// <summary>Waits until every enqueued kernel has finished (and surfaces asynchronous errors).</summary>
    void Synchronize();

    /// <summary>Sets every element of <paramref name="destination"/> to <paramref name="value"/>.</summary>
    void Fill(in TensorView destination, double value);

    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/> (same shape, any strides),
    /// converting the element type when the dtypes differ.</summary>
    void Copy(in TensorView source, in TensorView destination);

    /// <summary>y = op(x), elementwise; x and y have the same shape.</summary>
    void Unary(UnaryOp op, in TensorView x, in TensorView y, UnaryParams p);

    /// <summary>dx = dy · op'(x) elementwise; <paramref name="y"/> is op(x) (kernels may use either).</summary>
    void UnaryBackward(UnaryOp op, in TensorView x, in TensorView y, in TensorView dy, in TensorView dx,
        UnaryParams p);

    /// <summary>y = a op b elementwise; a and b are already broadcast (stride 0) to y's shape.</summary>
    void Binary(BinaryOp op, in TensorView a, in TensorView b, in TensorView y);

    /// <summary>y = (a op b) as bool; a and b are broadcast to y's shape and share a dtype.</summary>
    void Compare(CompareOp op, in TensorView a, in TensorView b, in TensorView y);

    /// <summary>y = cond ? a : b; all three inputs are broadcast to y's shape.</summary>
    void Where(in TensorView condition, in TensorView a, in TensorView b, in TensorView y);

    /// <summary>Reduces x along <paramref name="axis"/>; y has x's shape with that axis set to 1.</summary>
    void Reduce(ReduceOp op, in TensorView x, int axis, in TensorView y);

    /// <summary>Max or min along <paramref name="axis"/> with the index of the first extreme element
    /// (int32); values and indices have x's shape with that axis set to 1.</summary>
    void ReduceWithIndex(ReduceOp op, in TensorView x, int axis, in TensorView values, in TensorView indices);

    /// <summary>
    /// Batched product c = alpha·a·b + beta·c. a is (..., M, K), b is (..., K, N), c is (..., M, N) and contiguous;
    /// batch dimensions are equal (broadcasting is resolved into zero strides). Transposed operands are expressed
    /// by their strides. beta = 0 never reads c.
    /// </summary>
    void MatMul(in TensorView a, in TensorView b, in TensorView c, double alpha, double beta);

    /// <summary>Softmax (or log-softmax) over the last axis of a contiguous x; stable for ±large and -inf.</summary>
    void Softmax(in TensorView x, in TensorView y, bool log);

    /// <summary>Gradient of <see cref="Softmax"/> given its output y and upstream dy (all contiguous).</summary>
    void SoftmaxBackward(in TensorView y, in TensorView dy, in TensorView dx, bool log);

    /// <summary>
    /// T5 RMSNorm over the last axis: y = w · x · rstd with rstd = 1/√(mean(x²) + eps), statistics in at least
    /// float32. x, y: (R, D) contiguous; w: (D); rstd: (R) written for the backward.
    /// </summary>
    void RmsNorm(in TensorView x, in TensorView weight, in TensorView y, in TensorView rstd, double eps);

    /// <summary>Gradients of <see cref="RmsNorm"/>: dx (R, D) and dweight (D) are overwritten.</summary>
    void RmsNormBackward(in TensorView x, in TensorView weight, in TensorView rstd, in TensorView dy,
        in TensorView dx, in TensorView dweight);

    /// <summary>
    /// Row-wise cross-entropy parts for logits (R, V) contiguous and int32 targets (R): lse[r] = log Σ e^logits and
    /// nll[r] = lse[r] - logits[r, target[r]], or 0 where target = <paramref name="ignoreIndex"/>.
    /// </summary>
    void CrossEntropy(in TensorView logits, in TensorView targets, in TensorView nll, in TensorView lse,
        int ignoreIndex);

    /// <summary>
    /// dlogits[r] = (gNll[r] + gLse[r])·softmax(logits[r]) - gNll[r]·onehot(target[r]), zero rows for ignored
    /// targets' nll part. gNll, gLse: (R) upstream gradients of nll and lse.
    /// </summary>
    void CrossEntropyBackward(in TensorView logits, in TensorView targets, in TensorView lse, in TensorView gradNll,
        in TensorView gradLse, in TensorView dlogits, int ignoreIndex);

    /// <summary>torch.gather: y[.., i, ..] = x[.., index[.., i, ..], ..] along <paramref name="axis"/>;
    /// y has index's shape.</summary>
    void Gather(in TensorView x, int axis, in TensorView index, in TensorView y);

    /// <summary>torch.scatter_add_ in place: destination[.., index[.., i, ..], ..] += source[.., i, ..].</summary>
    void ScatterAdd(in TensorView destination, int axis, in TensorView index, in TensorView source);

    /// <summary>torch.index_select with a 1-D int32 index along <paramref name="axis"/>.</summary>
    void IndexSelect(in TensorView x, int axis, in TensorView index, in TensorView y);

    /// <summary>torch.index_add_ in place with a 1-D int32 index along <paramref name="axis"/>.</summary>
    void IndexAdd(in TensorView destination, int axis, in TensorView index, in TensorView source);

    /// <summary>The k largest (or smallest) entries along the last axis, sorted, ties to the lower index.</summary>
    void TopK(in TensorView x, int k, bool largest, in TensorView values, in TensorView indices);

    /// <summary>
    /// Fills <paramref name="destination"/> (contiguous) with counter-based random numbers: element i uses the
    /// stream (seed, offset + i), so results are identical on every backend and machine.
    /// </summary>
    void Random(RandomKind kind, ulong seed, ulong offset, in TensorView destination, double a, double b);

    /// <summary>
    /// Optional fused coordinate-descent soft top-k (the CoLT5 router's normalisation, spec §8), row by row. For
    /// row r with scores s (n), k = k[r] and the ε schedule of <see cref="SoftTopKParams"/>: masked (false)
    /// positions get the score −max of the dtype; a = 0, b = −s; T times
    /// a ← ε_t·(ln k − logsumexp((s + b)/ε_t)) with masked entries of (s + b)/ε_t set to −max, then
    /// b ← −relu(s + a); finally λ = exp((s + a + b)/ε_(T+1)), and λ = 0 exactly at masked positions. The
    /// result must match the composed tensor ops to rounding (fusing may reorder sums and use a different
    /// logsumexp shift).
    /// <para>
    /// Views, all contiguous and row-major: <paramref name="scores"/> (R, n) float32 or float64;
    /// <paramref name="mask"/> (R, n) bool with true = a real token, or <c>default(TensorView)</c> (null buffer) for
    /// none; <paramref name="k"/> (R) in the scores' dtype, the per-row budget (positive; keeping k at most the
    /// row's number of real tokens, and giving rows with no real token any meaning, is the caller's job: such a row
    /// gets λ = 0); <paramref name="lambda"/> (R, n) written; <paramref name="state"/> (R,
    /// <see cref="SoftTopKParams.StateLength"/>) float64 whatever the scores' dtype, written with what the backward
    /// needs: state[r, t − 1] = a_t, the a after iteration t (O(R·T), never a per-iteration copy of the n-vectors).
    /// </para>
    /// </summary>
    /// <returns>False, having written nothing, when the backend has no fused kernel (for this dtype); callers
    /// then compose the iterations from tensor ops.</returns>
    bool TrySoftTopK(in TensorView scores, in TensorView mask, in TensorView k, in TensorView lambda,
        in TensorView state, SoftTopKParams p) => false;

    /// <summary>
    /// Gradient of <see cref="TrySoftTopK"/>: <paramref name="dScores"/> (R, n) is overwritten with dL/ds given
    /// <paramref name="dLambda"/> = dL/dλ (R, n), exactly what reverse-mode autograd gives through the unrolled
    /// iterations (relu′(0) = 0, k and the mask receive no gradient), and 0 at masked positions whatever
    /// dLambda holds there. <paramref name="scores"/>, <paramref name="mask"/>, <paramref name="k"/>,
    /// <paramref name="state"/> and <paramref name="p"/> are those of a successful forward on this backend (the
    /// state as it wrote it). <paramref name="dScores"/> may alias <paramref name="dLambda"/> but not the scores.
    /// Memory beyond the outputs stays O(n) per row in flight.
    /// </summary>
    /// <returns>False, having written nothing, when the backend has no fused kernel (for this dtype).</returns>
    bool TrySoftTopKBackward(in TensorView scores, in TensorView mask, in TensorView k, in TensorView state,
        in TensorView dLambda, in TensorView dScores, SoftTopKParams p) => false;

    /// <summary>
    /// Optional fused Fourier mixing (FNet's token mixer): for each batch row b of <paramref name="x"/> (B, N, d),
    /// y[b] = scale · Re(F_N · x[b] · F_d), the real part of the unnormalised 2D DFT over (sequence, hidden), with
    /// [F_L]_(jk) = e^(−2πi·jk/L). The operator is self-adjoint under the Frobenius inner product, so the backward is
    /// the same call on the upstream gradient. <paramref name="x"/> and <paramref name="y"/> are contiguous, of the
    /// same shape and floating dtype; y may alias x (the whole row is read before any of it is written). Non-finite
    /// inputs propagate (every output of a row with a NaN may be NaN).
    /// </summary>
    /// <returns>False, having written nothing, when the backend has no fused kernel (for this dtype); callers then
    /// compose the transform from two real products with cached cos/sin matrices.</returns>
    bool TryFourierMix(in TensorView x, in TensorView y, double scale) => false;

    /// <summary>True when <see cref="TryAttention"/> has kernels here: layers then take the fused path, and
    /// otherwise their device-friendly composed one (blocked local attention, dense biases).</summary>
    bool HasFusedAttention => false;

    /// <summary>
    /// Optional fused attention (flash-style: online softmax over key tiles, no Tq × Tk matrix in memory) in T5
    /// conventions over the union of <paramref name="main"/> and, when present, <paramref name="side"/> (the
    /// transient-global summary tokens): out = Σ_j softmax_j(q·k_j + bias_j) v_j over the keys each set allows
    /// (see <see cref="AttentionKeys"/>); a query that may read no key gets out = 0 and lse = −∞.
    /// <paramref name="q"/> (B, H, Tq, D) and <paramref name="output"/> (B, H, Tq, D) need unit stride on D only;
    /// <paramref name="lse"/> (B, H, Tq) contiguous, written with the log-sum-exp of each row (what the backward
    /// needs). Keys and values may have G kv heads, G dividing H (query head h reads kv head h / (H/G)); both sets
    /// have the same G.
    /// </summary>
    /// <returns>False, having written nothing, when the backend has no fused kernel (for this dtype).</returns>
    bool TryAttention(in TensorView q, in AttentionKeys main, in AttentionKeys side, in TensorView output,
        in TensorView lse) => false;

    /// <summary>
    /// Gradient of <see cref="TryAttention"/> given dL/d output <paramref name="dOutput"/> (B, H, Tq, D, unit stride
    /// on D), recomputing the score tiles from the saved <paramref name="output"/> and <paramref name="lse"/>.
    /// Writes every view of <paramref name="grads"/>. Masks, positions and bucket maps receive no gradient.
    /// </summary>
    /// <returns>False, having written nothing, when the backend has no fused kernel (for this dtype).</returns>
    bool TryAttentionBackward(in TensorView q, in AttentionKeys main, in AttentionKeys side, in TensorView output,
        in TensorView lse, in TensorView dOutput, in AttentionGradients grads) => false;
}
