using QGenEngine.Tensors;

namespace QGenEngine.Autograd.Nn;

/// <summary>
/// A module owns named parameters (leaf tensors that need gradients), buffers (state such as running
/// statistics) and child modules; walking it yields dotted names ("enc.conv1.weight"), PyTorch's
/// state_dict names, used by optimisers, parameter counts and checkpoints.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Tensor T)> _params = [];
    private readonly List<(string Name, Tensor T)> _buffers = [];
    private readonly List<(string Name, Module M)> _children = [];
    private readonly List<(string Name, Generator G)> _streams = [];
    private readonly List<(string Name, Tensor T)> _trainingState = [];

    public bool Training { get; private set; } = true;

    protected Tensor Parameter(string name, Tensor t)
    {
        TensorScope.Persist(t);
        t.RequiresGrad = true; t.Name = name;
        _params.Add((name, t));
        return t;
    }

    protected Tensor Buffer(string name, Tensor t)
    {
        TensorScope.Persist(t);
        t.Name = name;
        _buffers.Add((name, t));
        return t;
    }

    protected T Child<T>(string name, T module) where T : Module { _children.Add((name, module)); return module; }

    /// <summary>A random stream the module draws from while it trains (dropout masks, noise); checkpoints save its position.</summary>
    protected Generator Stream(string name, Generator g) { _streams.Add((name, g)); return g; }

    /// <summary>
    /// State that only training needs (a codebook's running usage counts, EMA statistics): checkpoints keep it
    /// beside the optimiser state ("train.state.&lt;name&gt;"), outside the state_dict, so a resumed run continues bit for
    /// bit while PyTorch users load the weights with strict=True.
    /// </summary>
    protected Tensor TrainingState(string name, Tensor t)
    {
        TensorScope.Persist(t);
        t.Name = name;
        _trainingState.Add((name, t));
        return t;
    }

    public IEnumerable<(string Name, Tensor State)> NamedTrainingState(string prefix = "") => Named(prefix, m => m._trainingState);

    public IEnumerable<(string Name, Tensor Param)> NamedParameters(string prefix = "") => Named(prefix, m => m._params);

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(string prefix = "") => Named(prefix, m => m._buffers);

    /// <summary>Every random stream of the module and its children, by dotted name ("discriminator.2.rng").</summary>
    public IEnumerable<(string Name, Generator Stream)> NamedStreams(string prefix = "") => Named(prefix, m => m._streams);

    /// <summary>What <paramref name="own"/> gives of this module, then of its children in order, depth first, by dotted name.</summary>
    private IEnumerable<(string Name, T Item)> Named<T>(string prefix, Func<Module, List<(string Name, T Item)>> own)
    {
        foreach (var (n, t) in own(this)) yield return (prefix + n, t);
        foreach (var (n, m) in _children)
            foreach (var x in m.Named(prefix + n + ".", own)) yield return x;
    }

    /// <summary>This module and every descendant, with dotted paths ("" for this one), depth first: PyTorch's named_modules.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix.TrimEnd('.'), this);
        foreach (var (n, m) in _children)
            foreach (var d in m.NamedModules(prefix + n + ".")) yield return d;
    }

    /// <summary>Parameters then buffers: everything a checkpoint must hold to restore the module.</summary>
    public IEnumerable<(string Name, Tensor T)> StateDict() => NamedParameters().Concat(NamedBuffers());

    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Param);

    public long ParameterCount => NamedParameters().Sum(p => p.Param.Numel);

    public void Train(bool on = true)
    {
        Training = on;
        foreach (var (_, m) in _children) m.Train(on);
    }

    public void Eval() => Train(false);
}

/// <summary>A module with one input and one output.</summary>
public abstract class Layer : Module
{
    public abstract Tensor Forward(Tensor x);
}
