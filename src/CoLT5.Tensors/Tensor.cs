// The tensor: a strided view over reference-counted device storage, plus its autograd slot.
using System;
using CoLT5.Tensors.Autograd;
using CoLT5.Tensors.Backends;
using CoLT5.Tensors.Memory;

namespace CoLT5.Tensors;

/// <summary>
/// An n-dimensional array on a device. Views (reshape, permute, narrow, expand) share storage without copying.
/// Tensors are <see cref="IDisposable"/>: disposing returns memory to the backend's pool at once; tensors created
/// inside a <see cref="DisposeScope"/> are disposed with it. Ops record a graph for <see cref="Backward"/> when an
/// input requires gradients and recording is on (see <see cref="NoGrad"/>).
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private readonly Storage storage;
    private readonly long[] strides;
    private readonly long offset;
    private bool requiresGrad;
    private bool disposed;
    private Tensor? grad;

    private Tensor(Storage storage, Shape shape, long[] strides, long offset)
    {
        this.storage = storage;
        Shape = shape;
        this.strides = strides;
        this.offset = offset;
        DisposeScope.Track(this);
    }

    /// <summary>The dimensions.</summary>
    public Shape Shape { get; }

    /// <summary>The element type.</summary>
    public DType DType => storage.Buffer.DType;

    /// <summary>The device holding the data.</summary>
    public Device Device => storage.Backend.Device;

    /// <summary>The backend that runs this tensor's ops.</summary>
    public IBackend Backend => storage.Backend;

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Rank;

    /// <summary>Number of elements.</summary>
    public long NumElements => Shape.NumElements;

    /// <summary>Element strides (0 for broadcast dimensions).</summary>
    public ReadOnlySpan<long> Strides => strides;

    /// <summary>Element offset into the storage.</summary>
    public long Offset => offset;

    /// <summary>True when the elements are dense and row-major.</summary>
    public bool IsContiguous => View.IsContiguous;

    /// <summary>An optional name, used in error messages and by parameter containers.</summary>
    public string? Name { get; set; }

    /// <summary>
    /// Whether gradients flow to this tensor. Settable on leaves (tensors not produced by a recorded op) of a
    /// floating-point dtype; results of recorded ops always report true.
    /// </summary>
    /// <exception cref="AutogradException">Set on a non-leaf or a non-float tensor.</exception>
    public bool RequiresGrad
    {
        get => requiresGrad || GradFn is not null;
        set
        {
            if (GradFn is not null)
                throw new AutogradException("requires_grad", "only leaf tensors can change RequiresGrad; " +
                    "use Detach() to cut a tensor out of the graph");
            if (value && !DType.IsFloatingPoint())
                throw new AutogradException("requires_grad", $"only floating-point tensors can require " +
                    $"gradients, not {DType.Name()}");
            requiresGrad = value;
        }
    }

    /// <summary>
    /// The accumulated gradient of a leaf after <see cref="Backward"/> (null before). The tensor owns it: assigning
    /// a new value (or null) disposes the previous gradient, and disposing the tensor disposes its gradient.
    /// </summary>
    public Tensor? Grad
    {
        get => grad;
        set
        {
            if (value is not null && (value.Shape != Shape || value.DType != DType))
                throw new ShapeMismatchException("grad", Shape, value.Shape, "a gradient must match its tensor");
            if (!ReferenceEquals(grad, value))
                grad?.Dispose();
            grad = value;
        }
    }

    /// <summary>True when the tensor was not produced by a recorded op.</summary>
    public bool IsLeaf => GradFn is null;

    /// <summary>True after <see cref="Dispose"/>.</summary>
    public bool IsDisposed => disposed;

    internal GradFn? GradFn { get; private set; }

    internal DisposeScope? OwnerScope { get; set; }

    internal int StorageVersion => storage.Version;

    /// <summary>The kernel-facing view of this tensor.</summary>
    /// <exception cref="ObjectDisposedException">The tensor was disposed.</exception>
    internal TensorView View
    {
        get
        {
            ThrowIfDisposed();
            return new TensorView(storage.Buffer, Shape, strides, offset);
        }
    }

    /// <summary>Opens a region in which ops do not record gradients.</summary>
    public static NoGradScope NoGrad() => new(true);

    /// <summary>
    /// Back-propagates from this tensor: every leaf that requires grad gets its gradient added to
    /// <see cref="Grad"/>. The graph is freed afterwards unless <paramref name="retainGraph"/>.
    /// </summary>
    /// <param name="gradient">dL/dthis; omitted for a single-element tensor (taken as 1).</param>
    /// <param name="retainGraph">Keep the graph to call backward again.</param>
    public void Backward(Tensor? gradient = null, bool retainGraph = false)
    {
        ThrowIfDisposed();
        Backprop.Run(this, gradient, retainGraph);
    }

    /// <summary>A tensor sharing this data but cut out of the graph (a new leaf without gradient).</summary>
    public Tensor Detach() => Alias();

    /// <summary>Releases this tensor's reference to its storage (and its gradient). Idempotent.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        grad?.Dispose();
        grad = null;
        storage.Release();
    }

    /// <summary>"Tensor(float32 (2, 3) cpu)" plus a flag for gradients.</summary>
    public override string ToString() =>
        $"Tensor({(Name is null ? "" : Name + " ")}{DType.Name()} {Shape} {Device}" +
        $"{(GradFn is not null ? $", grad_fn={GradFn.Name}" : requiresGrad ? ", requires_grad" : "")}" +
        $"{(disposed ? ", disposed" : "")})";

    // ---- construction helpers used by ops ---------------------------------------------------------------

    /// <summary>A new, uninitialised, contiguous tensor on a backend.</summary>
    internal static Tensor Empty(IBackend backend, Shape shape, DType dtype)
    {
        var buffer = backend.Allocate(dtype, shape.NumElements);
        return new Tensor(new Storage(buffer), shape, TensorView.ContiguousStrides(shape), 0);
    }

    /// <summary>A new reference to the same data and layout, outside the graph.</summary>
    internal Tensor Alias()
    {
        ThrowIfDisposed();
        storage.AddRef();
        return new Tensor(storage, Shape, strides, offset);
    }

    /// <summary>A view with another layout over the same storage (no graph record).</summary>
    internal Tensor ViewAs(Shape shape, long[] newStrides, long newOffset)
    {
        ThrowIfDisposed();
        storage.AddRef();
        return new Tensor(storage, shape, newStrides, newOffset);
    }

    /// <summary>True when an op on these inputs must record a node (recording on, some input needs grad).</summary>
    internal static bool Recording(Tensor a) => GradMode.IsEnabled && a.RequiresGrad;

    /// <inheritdoc cref="Recording(Tensor)"/>
    internal static bool Recording(Tensor a, Tensor b) => GradMode.IsEnabled && (a.RequiresGrad || b.RequiresGrad);

    /// <inheritdoc cref="Recording(Tensor)"/>
    internal static bool Recording(ReadOnlySpan<Tensor> inputs)
    {
        if (!GradMode.IsEnabled)
            return false;
        foreach (var t in inputs)
        {
            if (t.RequiresGrad)
                return true;
        }
        return false;
    }

    /// <summary>Attaches the node that produced this tensor and returns the tensor.</summary>
    internal Tensor Attach(GradFn node)
    {
        GradFn = node;
        return this;
    }

    /// <summary>Marks the storage as modified in place (for autograd's saved-tensor check).</summary>
    internal void BumpVersion() => storage.BumpVersion();

    private void ThrowIfDisposed()
    {
        if (disposed)
            throw new ObjectDisposedException(nameof(Tensor),
                $"tensor{(Name is null ? "" : " '" + Name + "'")} of shape {Shape} was disposed");
    }
}
