// The named parameters of a model, in creation order. Modules ask for a parameter by its checkpoint name; the store
// returns the existing tensor (loaded from a checkpoint, or shared such as a tied embedding) or creates it.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;

namespace CoLT5.Nn;

/// <summary>
/// Name → parameter tensor (float, <c>RequiresGrad</c>), with Hugging Face style dotted names. Creating a model over a
/// store that already holds tensors (a loaded checkpoint) reuses them after checking their shapes; everything the
/// model asks for and the checkpoint lacks is initialised from the store's generator. The store owns its tensors.
/// </summary>
public sealed class ParameterStore : IDisposable
{
    private readonly Dictionary<string, Tensor> tensors = new(StringComparer.Ordinal);
    private readonly List<string> order = [];
    private readonly HashSet<string> requested = new(StringComparer.Ordinal);
    private readonly List<string> created = [];

    /// <summary>A store creating parameters of <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public ParameterStore(DType dtype = DType.Float32, Device? device = null, Generator? generator = null)
    {
        DType = dtype;
        Device = device ?? Device.Cpu;
        Generator = generator ?? new Generator(0);
    }

    /// <summary>Element type of new parameters.</summary>
    public DType DType { get; }

    /// <summary>Device of new parameters.</summary>
    public Device Device { get; }

    /// <summary>The stream new parameters are drawn from (creation order decides the values).</summary>
    public Generator Generator { get; }

    /// <summary>Parameters in creation (or load) order.</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> Parameters => order.Select(n => (n, tensors[n])).ToList();

    /// <summary>Number of parameters (distinct tensors).</summary>
    public int Count => order.Count;

    /// <summary>Total elements over all parameters.</summary>
    public long ElementCount => tensors.Values.Sum(t => t.NumElements);

    /// <summary>The parameter called <paramref name="name"/>, or null.</summary>
    public Tensor? Find(string name) => tensors.GetValueOrDefault(name);

    /// <summary>The names the model asked for (to report checkpoint entries nothing used).</summary>
    public IReadOnlySet<string> Requested => requested;

    /// <summary>The names initialised fresh by <see cref="Get"/> (not supplied beforehand, e.g. by a checkpoint).</summary>
    public IReadOnlyList<string> Created => created;

    /// <summary>
    /// The parameter <paramref name="name"/> with <paramref name="shape"/>: the existing one (shape-checked) or a
    /// new one filled by <paramref name="init"/>.
    /// </summary>
    /// <exception cref="ShapeMismatchException">An existing tensor of that name has another shape.</exception>
    public Tensor Get(string name, Shape shape, Init init)
    {
        requested.Add(name);
        if (tensors.TryGetValue(name, out var existing))
        {
            if (existing.Shape != shape)
                throw new ShapeMismatchException("parameter", existing.Shape, shape,
                    $"'{name}' exists with shape {existing.Shape} but the model needs {shape} (a checkpoint from " +
                    "another configuration?)");
            return existing;
        }
        var t = init switch
        {
            NormalInit n => Tensor.RandN(shape, Generator, 0, n.Std, DType, Device),
            UniformInit u => Tensor.Rand(shape, Generator, u.Low, u.High, DType, Device),
            ConstantInit c => Tensor.Full(shape, c.Value, DType, Device),
            _ => throw new ArgumentException($"unknown initialiser {init}", nameof(init)),
        };
        Add(name, t);
        created.Add(name);
        return t;
    }

    /// <summary>Registers a tensor under <paramref name="name"/> (it becomes a trainable leaf owned by the store).</summary>
    /// <exception cref="ArgumentException">The name is taken.</exception>
    public void Add(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!tensors.TryAdd(name, tensor))
            throw new ArgumentException($"parameter '{name}' already exists", nameof(name));
        tensor.Name = name;
        tensor.RequiresGrad = true;
        order.Add(name);
    }

    /// <summary>Makes <paramref name="alias"/> another name for the existing parameter <paramref name="name"/>
    /// (tied weights: one tensor, several checkpoint names; listed once in <see cref="Parameters"/>).</summary>
    public Tensor Alias(string alias, string name)
    {
        requested.Add(alias);
        return tensors[name];
    }

    /// <summary>A builder whose names start with <paramref name="prefix"/>.</summary>
    public ParameterBuilder Root(string prefix = "") => new(this, prefix);

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var t in tensors.Values)
            t.Grad = null;
    }

    /// <summary>Disposes every parameter.</summary>
    public void Dispose()
    {
        foreach (var t in tensors.Values)
            t.Dispose();
        tensors.Clear();
        order.Clear();
    }
}

/// <summary>A cursor into a <see cref="ParameterStore"/> that prefixes names (candle's VarBuilder.pp).</summary>
public readonly record struct ParameterBuilder(ParameterStore Store, string Prefix)
{
    /// <summary>A builder one level deeper: "encoder" + "block" → "encoder.block".</summary>
    public ParameterBuilder Sub(string name) => new(Store, Prefix.Length == 0 ? name : Prefix + "." + name);

    /// <summary>A builder one level deeper, by index: "block" + 3 → "block.3".</summary>
    public ParameterBuilder Sub(int index) => Sub(index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The full name of a leaf under this prefix.</summary>
    public string Name(string leaf) => Prefix.Length == 0 ? leaf : Prefix + "." + leaf;

    /// <summary>Gets or creates the parameter <paramref name="leaf"/> under this prefix.</summary>
    public Tensor Get(string leaf, Shape shape, Init init) => Store.Get(Name(leaf), shape, init);
}
