namespace QGenEngine.Tensors;

/// <summary>
/// Collects every tensor created on this thread while it is open and disposes them when it closes,
/// which returns their buffers to the device's pool: a training step in a scope allocates no tensor
/// memory in steady state. Tensors that must outlive the step (parameters, their gradients,
/// optimiser state) are created outside any scope or under <see cref="Suspend"/>, or <see cref="Keep"/>-ed.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;
    private readonly TensorScope? _parent;
    private readonly List<Tensor> _tensors = new(256);
    private bool _suspended;

    private TensorScope(TensorScope? parent) { _parent = parent; }

    public static TensorScope Begin()
    {
        var s = new TensorScope(_current);
        _current = s;
        return s;
    }

    /// <summary>Tensors created until the returned handle is disposed belong to no scope.</summary>
    public static SuspendHandle Suspend()
    {
        var s = _current;
        if (s is null) return default;
        bool was = s._suspended;
        s._suspended = true;
        return new SuspendHandle(s, was);
    }

    /// <summary>Removes a tensor from the current scope so that it survives it (moved to the parent scope, if any).</summary>
    public static Tensor Keep(Tensor t)
    {
        var s = _current;
        if (s is null) return t;
        int i = s._tensors.LastIndexOf(t);
        if (i >= 0) { s._tensors.RemoveAt(i); s._parent?._tensors.Add(t); }
        return t;
    }

    /// <summary>Removes a tensor from the current scope for good: it lives until disposed by hand (or collected).</summary>
    public static Tensor Persist(Tensor t)
    {
        var s = _current;
        if (s is null) return t;
        int i = s._tensors.LastIndexOf(t);
        if (i >= 0) s._tensors.RemoveAt(i);
        return t;
    }

    internal static void Register(Tensor t)
    {
        var s = _current;
        if (s is not null && !s._suspended) s._tensors.Add(t);
    }

    public void Dispose()
    {
        if (_current != this) throw new InvalidOperationException("tensor scopes must be closed in the reverse order of opening");
        for (int i = _tensors.Count - 1; i >= 0; i--) _tensors[i].Dispose();
        _tensors.Clear();
        _current = _parent;
    }

    public readonly struct SuspendHandle : IDisposable
    {
        private readonly TensorScope? _scope;
        private readonly bool _was;
        internal SuspendHandle(TensorScope s, bool was) { _scope = s; _was = was; }
        public void Dispose() { if (_scope is not null) _scope._suspended = _was; }
    }
}
