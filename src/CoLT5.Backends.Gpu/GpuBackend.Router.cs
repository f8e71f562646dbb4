// The fused router normalisation on the GPU (Kernels/router.h): coordinate-descent soft top-k forward and backward,
// one work-group per row, float64 arithmetic; devices without float64 take the composed path.
using System.Runtime.InteropServices;
using CoLT5.Backends.Gpu.Runtime;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Gpu;

public sealed partial class GpuBackend
{
    /// <summary>Work-items per row (SG in router.h).</summary>
    private const int RouterThreads = 256;

    /// <summary>False once the router program failed to build here (no float64): later calls return false at once.</summary>
    private bool routerKernels = true;

    /// <inheritdoc/>
    public bool TrySoftTopK(in TensorView scores, in TensorView mask, in TensorView k, in TensorView lambda,
        in TensorView state, SoftTopKParams p)
    {
        const string op = "soft_top_k";
        if (scores.DType != DType.Float32 || RouterKernel("soft_top_k") is not { } kernel)
            return false;
        var (rows, n) = FusedOpChecks.SoftTopK(op, scores, mask, k, state, p);
        FusedOpChecks.RowsLike(op, scores, lambda);
        if (rows == 0)
            return true;
        var args = new KernelArgs();
        View(ref args, scores);
        Mask(ref args, mask);
        View(ref args, k);
        View(ref args, lambda);
        State(ref args, state, p);
        args.Int(n);
        args.Struct(Params(p));
        runtime.Launch(kernel, new Dim3(checked((int)rows)), new Dim3(RouterThreads), args);
        return true;
    }

    /// <inheritdoc/>
    public bool TrySoftTopKBackward(in TensorView scores, in TensorView mask, in TensorView k, in TensorView state,
        in TensorView dLambda, in TensorView dScores, SoftTopKParams p)
    {
        const string op = "soft_top_k_backward";
        if (scores.DType != DType.Float32 || RouterKernel("soft_top_k_backward") is not { } kernel)
            return false;
        var (rows, n) = FusedOpChecks.SoftTopK(op, scores, mask, k, state, p);
        FusedOpChecks.RowsLike(op, scores, dLambda);
        FusedOpChecks.RowsLike(op, scores, dScores);
        if (rows == 0)
            return true;
        var args = new KernelArgs();
        View(ref args, scores);
        Mask(ref args, mask);
        View(ref args, k);
        State(ref args, state, p);
        View(ref args, dLambda);
        View(ref args, dScores);
        args.Int(n);
        args.Struct(Params(p));
        runtime.Launch(kernel, new Dim3(checked((int)rows)), new Dim3(RouterThreads), args);
        return true;
    }

    // (buffer, offset) of the a_t history; a placeholder when T = 0 (an empty state names no memory).
    private void State(ref KernelArgs args, in TensorView state, SoftTopKParams p)
    {
        if (p.Iterations > 0)
        {
            View(ref args, state);
            return;
        }
        args.Buffer(ErrorBuffer);
        args.Long(0);
    }

    // (buffer, offset, has_mask): a placeholder buffer when there is no mask.
    private void Mask(ref KernelArgs args, in TensorView mask)
    {
        if (mask.Buffer is null)
        {
            args.Buffer(ErrorBuffer);
            args.Long(0);
            args.Int(0);
            return;
        }
        View(ref args, mask);
        args.Int(1);
    }

    private static TopKParams Params(SoftTopKParams p) => new()
    {
        Eps = p.Eps,
        EpsInit = double.IsNaN(p.EpsInit) ? 0 : p.EpsInit,
        Decay = p.EpsDecay,
        Iterations = p.Iterations,
        HasInit = double.IsNaN(p.EpsInit) ? 0 : 1,
    };

    // The kernel, or null when the device cannot build float64 code (remembered).
    private GpuKernel? RouterKernel(string entry)
    {
        if (!routerKernels)
            return null;
        try
        {
            return Kernels.Get("router.h", entry, "NEEDS_FP64=1");
        }
        catch (GpuCompileException)
        {
            routerKernels = false;
            return null;
        }
    }

    /// <summary>Bytes identical to router.h's <c>TopKParams</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct TopKParams
    {
        public double Eps, EpsInit, Decay;
        public int Iterations, HasInit;
    }
}
