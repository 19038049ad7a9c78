namespace QGenEngine.Tensors;

/// <summary>
/// A float32 N-dimensional, row-major, contiguous tensor on one device. A view (reshape, batch slice)
/// shares its storage at an offset. Autograd state (<see cref="Grad"/>, <see cref="Node"/>) lives here
/// so that any tensor can be part of a graph; the graph itself is built by the ops in Autograd.
/// </summary>
public sealed class Tensor : IDisposable
{
    private readonly Storage _storage;
    private bool _disposed;

    public int[] Shape { get; }
    public long Offset { get; }
    public long Numel { get; }
    public IDevice Device => _storage.Device;
    public int Rank => Shape.Length;

    /// <summary>The node that made this tensor, if it was made by a differentiable op from tensors that need gradients.</summary>
    public GradNode? Node { get; set; }
    public bool RequiresGrad { get; set; }
    /// <summary>Accumulated gradient of a leaf (parameters); intermediate gradients are freed during backward.</summary>
    public Tensor? Grad
    {
        get
        {
            if (_gradIsZero) { _grad!.Device.Fill(_grad, 0f); _gradIsZero = false; }   // zeroed lazily: a reader sees zeros
            return _grad;
        }
        set { _grad = value; _gradIsZero = false; }
    }
    private Tensor? _grad;
    private bool _gradIsZero;

    /// <summary>
    /// Makes the gradient zero without writing its memory (an optimiser's zero_grad): the next accumulation writes the
    /// gradient instead of adding it to zeros, and whoever reads <see cref="Grad"/> first sees zeros. Keeps the buffer.
    /// </summary>
    public void ZeroGrad() { if (_grad is not null) _gradIsZero = true; }

    /// <summary>The gradient buffer when it is logically zero (after <see cref="ZeroGrad"/>, not yet written); it counts as written from then on.</summary>
    internal Tensor? TakeZeroedGrad()
    {
        if (!_gradIsZero) return null;
        _gradIsZero = false;
        return _grad;
    }
    public string? Name { get; set; }

    public Storage Storage
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _storage;
        }
    }

    public bool IsDisposed => _disposed;

    private Tensor(Storage storage, long offset, int[] shape)
    {
        _storage = storage; Offset = offset; Shape = shape; Numel = QGenEngine.Tensors.Shape.Numel(shape);
        if (offset + Numel > storage.Length) throw new ArgumentException("view exceeds its storage");
        TensorScope.Register(this);
    }

    /// <summary>An uninitialised tensor (its contents are whatever the pool held).</summary>
    public static Tensor Empty(IDevice device, params int[] shape)
    {
        foreach (int d in shape) if (d < 0) throw new ArgumentException($"negative dimension in shape {QGenEngine.Tensors.Shape.Format(shape)}");
        return new Tensor(device.Allocate(QGenEngine.Tensors.Shape.Numel(shape)), 0, (int[])shape.Clone());
    }

    public static Tensor Full(IDevice device, float value, params int[] shape)
    {
        var t = Empty(device, shape); device.Fill(t, value); return t;
    }

    public static Tensor Zeros(IDevice device, params int[] shape) => Full(device, 0f, shape);
    public static Tensor Ones(IDevice device, params int[] shape) => Full(device, 1f, shape);
    public static Tensor ZerosLike(Tensor t) => Zeros(t.Device, t.Shape);

    public static Tensor FromArray(IDevice device, ReadOnlySpan<float> data, params int[] shape)
    {
        if (QGenEngine.Tensors.Shape.Numel(shape) != data.Length)
            throw new ArgumentException($"{data.Length} values do not fill shape {QGenEngine.Tensors.Shape.Format(shape)}");
        var t = Empty(device, shape); device.Upload(data, t); return t;
    }

    /// <summary>Seeded U[lo, hi): element i depends only on (seed, i), on every device.</summary>
    public static Tensor Uniform(IDevice device, ulong seed, float lo, float hi, params int[] shape)
    {
        var t = Empty(device, shape); device.FillRandom(t, RandomKind.Uniform, seed, lo, hi); return t;
    }

    /// <summary>Seeded N(mean, std²).</summary>
    public static Tensor Normal(IDevice device, ulong seed, float mean, float std, params int[] shape)
    {
        var t = Empty(device, shape); device.FillRandom(t, RandomKind.Normal, seed, mean, std); return t;
    }

    /// <summary>A view with another shape over the same storage (one dimension may be −1). Carries no autograd node.</summary>
    public Tensor View(params int[] shape)
    {
        var s = QGenEngine.Tensors.Shape.Resolve(shape, Numel);
        Storage.AddRef();
        return new Tensor(_storage, Offset, s);
    }

    /// <summary>A view of rows [start, start+count) along the first axis. Carries no autograd node.</summary>
    public Tensor ViewBatch(int start, int count)
    {
        if (Rank == 0 || start < 0 || count < 0 || start + count > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"batch slice [{start}, {start + count}) is outside a tensor of shape {QGenEngine.Tensors.Shape.Format(Shape)}");
        var s = (int[])Shape.Clone(); s[0] = count;
        long row = Numel / Math.Max(1, Shape[0]);
        Storage.AddRef();
        return new Tensor(_storage, Offset + start * row, s);
    }

    public float[] ToArray()
    {
        var r = new float[Numel]; Device.Download(this, r); return r;
    }

    public void CopyTo(Span<float> dst) => Device.Download(this, dst);
    public void CopyFrom(ReadOnlySpan<float> src)
    {
        if (src.Length != Numel) throw new ArgumentException($"{src.Length} values for a tensor of {Numel}");
        Device.Upload(src, this);
    }

    /// <summary>The single value of a one-element tensor.</summary>
    public float Item()
    {
        if (Numel != 1) throw new InvalidOperationException($"Item() needs one element, this tensor has shape {QGenEngine.Tensors.Shape.Format(Shape)}");
        Span<float> v = stackalloc float[1]; Device.Download(this, v); return v[0];
    }

    /// <summary>Copies this tensor's values into a new tensor on another device (no autograd).</summary>
    public Tensor To(IDevice device) => FromArray(device, ToArray(), Shape);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _storage.Release();
    }

    public override string ToString() => $"Tensor{QGenEngine.Tensors.Shape.Format(Shape)} on {Device.Name}" + (Name is null ? "" : $" '{Name}'");
}

/// <summary>How a tensor made by an op sends its gradient to the op's inputs (see Autograd).</summary>
public abstract class GradNode
{
    public abstract ReadOnlySpan<Tensor?> Inputs { get; }
    /// <summary>The op that made the output ("Conv2d"), for profiles and messages.</summary>
    public abstract string Op { get; }
    /// <summary>Given dL/d(output), adds dL/d(input) for each input that requires a gradient.</summary>
    public abstract void Backward(Tensor output, Tensor gradOutput);
}
