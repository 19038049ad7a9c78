using QGenEngine.Tensors;

namespace QGenEngine.Autograd;

/// <summary>
/// Reverse-mode autodiff in the micrograd way: each differentiable op records, on its output, the
/// inputs and a closure that pushes the output's gradient back to them; <see cref="Backward"/> sorts
/// the graph once and calls the closures in reverse. Gradients of leaves (parameters) accumulate in
/// <see cref="Tensor.Grad"/>; intermediate gradients are freed as soon as they have been used.
/// </summary>
public static class Graph
{
    [ThreadStatic] private static int _noGrad;

    public static bool Enabled => _noGrad == 0;

    /// <summary>No graph is recorded until the returned handle is disposed (evaluation, optimiser updates).</summary>
    public static NoGradScope NoGrad() { _noGrad++; return new NoGradScope(); }

    public readonly struct NoGradScope : IDisposable { public void Dispose() => _noGrad--; }

    public static bool Needs(Tensor a) => _noGrad == 0 && a.RequiresGrad;
    public static bool Needs(Tensor a, Tensor? b) => _noGrad == 0 && (a.RequiresGrad || b is { RequiresGrad: true });
    public static bool Needs(Tensor a, Tensor? b, Tensor? c) => _noGrad == 0 && (a.RequiresGrad || b is { RequiresGrad: true } || c is { RequiresGrad: true });

    private sealed class Node(Tensor?[] inputs, Action<Tensor> backward, string op) : GradNode
    {
        public override ReadOnlySpan<Tensor?> Inputs => inputs;
        public override string Op => op;
        public override void Backward(Tensor output, Tensor gradOutput) => backward(gradOutput);
    }

    /// <summary>
    /// Makes <paramref name="output"/> a graph node: <paramref name="backward"/> receives dL/d(output). <paramref name="op"/>
    /// (the calling op's name by default) labels it in the <see cref="Profiler"/>.
    /// </summary>
    public static Tensor Record(Tensor output, Tensor?[] inputs, Action<Tensor> backward, [System.Runtime.CompilerServices.CallerMemberName] string op = "")
    {
        output.RequiresGrad = true;
        output.Node = new Node(inputs, backward, op);
        Profiler.Forward(op, output.Shape);
        return output;
    }

    /// <summary>Adds <paramref name="grad"/> (which the callee now owns) to x's gradient, if x wants one.</summary>
    public static void Accumulate(Tensor x, Tensor grad)
    {
        if (!x.RequiresGrad) { grad.Dispose(); return; }
        if (!Shape.Equal(x.Shape, grad.Shape))
            throw new InvalidOperationException($"gradient of shape {Shape.Format(grad.Shape)} for a tensor of shape {Shape.Format(x.Shape)}");
        if (x.TakeZeroedGrad() is { } zeroed) x.Device.Copy2D(grad, 0, 0, zeroed, 0, 0, 1, (int)grad.Numel);   // 0 + g, without reading the 0
        else if (x.Grad is null)
        {
            if (x.Node is not null) { x.Grad = grad; return; }     // intermediate: adopt
            using (TensorScope.Suspend()) x.Grad = Tensor.Empty(x.Device, x.Shape); // leaf: lives beyond the step
            x.Device.Copy2D(grad, 0, 0, x.Grad, 0, 0, 1, (int)grad.Numel);
        }
        else x.Device.Binary(BinaryOp.Add, x.Grad, grad, x.Grad);
        grad.Dispose();
    }

    [ThreadStatic] private static List<Tensor>? _order;
    [ThreadStatic] private static HashSet<Tensor>? _seen;
    [ThreadStatic] private static Stack<(Tensor, int)>? _stack;

    /// <summary>Backpropagates from a scalar (or from <paramref name="gradOutput"/> for any shape).</summary>
    public static void Backward(Tensor output, Tensor? gradOutput = null)
    {
        if (!output.RequiresGrad) throw new InvalidOperationException("backward() on a tensor that does not require a gradient (is everything detached, or under NoGrad?)");
        if (gradOutput is null && output.Numel != 1) throw new InvalidOperationException($"backward() needs a scalar, got shape {Shape.Format(output.Shape)}; pass the output's gradient explicitly");
        var order = _order ??= new List<Tensor>(256);
        var seen = _seen ??= new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = _stack ??= new Stack<(Tensor, int)>(64);
        order.Clear(); seen.Clear(); stack.Clear();
        // Iterative post-order DFS: a node comes after all of its inputs.
        stack.Push((output, 0)); seen.Add(output);
        while (stack.Count > 0)
        {
            var (t, i) = stack.Pop();
            var inputs = t.Node is null ? default : t.Node.Inputs;
            if (i < inputs.Length)
            {
                stack.Push((t, i + 1));
                var x = inputs[i];
                if (x is { RequiresGrad: true } && seen.Add(x)) stack.Push((x, 0));
            }
            else order.Add(t);
        }
        var seed = gradOutput is null ? Tensor.Full(output.Device, 1f, output.Shape) : Copy(gradOutput);
        if (output.Node is null) { Accumulate(output, seed); return; }
        output.Grad = seed;
        for (int k = order.Count - 1; k >= 0; k--)
        {
            var t = order[k];
            if (t.Node is null || t.Grad is null) continue;
            var g = t.Grad;
            t.Grad = null;
            Profiler.BackwardBegin();
            t.Node.Backward(t, g);
            Profiler.BackwardEnd(t.Node.Op, t.Shape);
            g.Dispose();
        }
        order.Clear(); seen.Clear();
    }

    internal static Tensor Copy(Tensor x)
    {
        var y = Tensor.Empty(x.Device, x.Shape);
        x.Device.Copy2D(x, 0, 0, y, 0, 0, 1, (int)x.Numel);
        return y;
    }

    /// <summary>Sums a broadcast gradient back to <paramref name="shape"/> (NumPy broadcasting in reverse).</summary>
    public static Tensor SumToShape(Tensor g, int[] shape)
    {
        if (Shape.Equal(g.Shape, shape)) return g;
        int rank = g.Rank, lead = rank - shape.Length;
        var cur = g; var dims = (int[])g.Shape.Clone();
        for (int ax = 0; ax < rank; ax++)
        {
            int target = ax < lead ? 1 : shape[ax - lead];
            if (dims[ax] == target) continue;
            var (outer, r, inner) = Shape.Split(dims, ax);
            dims[ax] = 1;
            var next = Tensor.Empty(g.Device, dims);
            g.Device.SumAxis(cur, outer, r, inner, next, 1f);
            if (!ReferenceEquals(cur, g)) cur.Dispose();
            cur = next;
        }
        var result = cur.View(shape);
        if (!ReferenceEquals(cur, g)) cur.Dispose();
        g.Dispose();
        return result;
    }
}
