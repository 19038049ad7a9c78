using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using QGenEngine.Tensors;

namespace QGenEngine.Quantum.Gpu;

/// <summary>
/// The batched simulator as ILGPU kernels: one launch runs every circuit of a batch (a thread group per
/// circuit, its state in group shared memory) and, when a gradient will be wanted, leaves each circuit's final
/// state in device memory; one launch runs the adjoint backward for the whole batch as its own pass over the gate
/// list, starting from that saved state (nothing recomputed). Never a launch per gate. The same kernels run on CUDA,
/// or on ILGPU's CPU accelerator (`ilgpu-cpu`, slow, for tests). Shared memory holds 2·2^n floats forward and 4·2^n
/// backward, so n ≤ 12 forward and n ≤ 11 backward (48 KB); larger circuits use the CPU simulator.
/// </summary>
public sealed class IlgpuSimulator : IDisposable
{
    public const int MaxForwardQubits = 12, MaxBackwardQubits = 11;
    private readonly Context _context;
    public Accelerator Accelerator { get; }

    private readonly Action<KernelConfig, ArrayView<int>, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, KernelArgs> _forward;
    private readonly Action<KernelConfig, ArrayView<int>, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, KernelArgs> _backward;

    /// <summary>Scalar arguments of both kernels. SaveState: the forward writes each circuit's final state (re, then im) to its state view.</summary>
    public readonly struct KernelArgs(int qubits, int inputCount, int weightCount, int width, int expval, int amplitude, int saveState)
    {
        public readonly int Qubits = qubits, InputCount = inputCount, WeightCount = weightCount, Width = width, Expval = expval, Amplitude = amplitude,
                            SaveState = saveState;
    }

    private readonly bool _owns;   // false on a tensor device's accelerator, which the device disposes

    private IlgpuSimulator(Context? context, Accelerator accelerator)
    {
        _context = context!; _owns = context is not null; Accelerator = accelerator;
        // Loading compiles (hundreds of ms): once per simulator, typed launchers.
        _forward = accelerator.LoadStreamKernel<ArrayView<int>, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, KernelArgs>(ForwardKernel);
        _backward = accelerator.LoadStreamKernel<ArrayView<int>, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, KernelArgs>(BackwardKernel);
    }

    /// <summary>ILGPU's CPU accelerator: runs the very kernels on the host (slowly).</summary>
    public static IlgpuSimulator CreateCpu()
    {
        var ctx = Context.Create(b => b.CPU().Optimize(OptimizationLevel.O1));
        return new IlgpuSimulator(ctx, ctx.CreateCPUAccelerator(0, CPUAcceleratorMode.Parallel));
    }

    /// <summary>The first CUDA device, or null when there is none.</summary>
    public static IlgpuSimulator? TryCreateCuda()
    {
        var ctx = Context.Create(b => b.Cuda().Optimize(OptimizationLevel.O2));
        if (ctx.GetCudaDevices().Count == 0) { ctx.Dispose(); return null; }
        return new IlgpuSimulator(ctx, ctx.GetCudaDevice(0).CreateCudaAccelerator(ctx));
    }

    public void Dispose()
    {
        foreach (var g in _gates.Values) g.Dispose();
        _gates.Clear();
        if (_owns) { Accelerator.Dispose(); _context.Dispose(); }
    }

    // ---- on a tensor device: inputs, state, outputs and gradients stay in its memory ----------------------

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<QGenEngine.Kernels.Gpu.IlgpuDevice, IlgpuSimulator> OnDevice = new();
    private readonly Dictionary<Circuit, MemoryBuffer1D<int, Stride1D.Dense>> _gates = new(ReferenceEqualityComparer.Instance);

    /// <summary>The simulator on a tensor device's accelerator (one per device; its kernels compiled once).</summary>
    public static IlgpuSimulator On(QGenEngine.Kernels.Gpu.IlgpuDevice dev) => OnDevice.GetValue(dev, d => new IlgpuSimulator(null, d.Accelerator));

    /// <summary>Whether the device kernels can run this circuit (the backward's shared memory bounds it).</summary>
    public static bool Fits(Circuit c, Readout r) => r.Kind != ReadoutKind.Shots && c.Qubits <= MaxBackwardQubits;

    private ArrayView<int> Gates(Circuit c)
    {
        lock (_gates)
        {
            if (!_gates.TryGetValue(c, out var g)) _gates[c] = g = Accelerator.Allocate1D(Encode(c));   // uploaded once per circuit
            return g.View;
        }
    }

    /// <summary>
    /// The readout (B, width) of inputs x (B, InputCount) and angles w on the tensor device: queued, nothing read back.
    /// With keepState, also each circuit's final state (B, 2·2^n: re then im), which <see cref="Backward"/> starts from.
    /// </summary>
    public (Tensor Readout, Tensor? State) Forward(QGenEngine.Kernels.Gpu.IlgpuDevice dev, Circuit c, Tensor x, Tensor w, Readout r, bool keepState)
    {
        int batch = x.Shape[0];
        var y = Tensor.Empty(dev, batch, r.Width(c.Qubits));
        var state = keepState ? Tensor.Empty(dev, batch, 2 * c.Dim) : null;
        dev.CountLaunch();
        LaunchForward(c, Gates(c), batch, dev.DeviceView(x), dev.DeviceView(w), dev.DeviceView(y), state is null ? dev.DeviceView(y) : dev.DeviceView(state), r, state is not null);
        return (y, state);
    }

    /// <summary>
    /// The adjoint backward on the tensor device, from the forward's saved final states: each circuit's angle gradients
    /// (B, W), summed over the batch by the device's own reduction (a fixed order: deterministic), and the input
    /// gradients (B, InputCount). Nothing read back.
    /// </summary>
    public (Tensor WeightGrad, Tensor InputGrad) Backward(QGenEngine.Kernels.Gpu.IlgpuDevice dev, Circuit c, Tensor x, Tensor w, Tensor state, Readout r, Tensor cotangent)
    {
        int batch = x.Shape[0], weights = Math.Max(1, c.WeightCount);
        var parts = Tensor.Empty(dev, batch, weights);
        var ig = Tensor.Empty(dev, batch, c.InputCount);
        dev.Fill(parts, 0f); dev.Fill(ig, 0f);
        dev.CountLaunch();
        LaunchBackward(c, Gates(c), batch, dev.DeviceView(x), dev.DeviceView(w), dev.DeviceView(state), dev.DeviceView(cotangent), dev.DeviceView(parts), dev.DeviceView(ig), r);
        var wg = Tensor.Empty(dev, weights);
        dev.SumAxis(parts, 1, batch, weights, wg, 1f);
        return (wg, ig);
    }

    /// <summary>One forward launch for the batch; state receives the final states when save is set (any view otherwise).</summary>
    private void LaunchForward(Circuit c, ArrayView<int> gates, int batch, ArrayView<float> x, ArrayView<float> w, ArrayView<float> y, ArrayView<float> state, Readout r, bool save)
    {
        var cfg = new KernelConfig(new Index1D(batch), new Index1D(GroupSize(c.Dim)), SharedMemoryConfig.RequestDynamic<float>(2 * c.Dim));
        _forward(cfg, gates, c.Gates.Count, x, w, y, state, Args(c, r, save));
    }

    /// <summary>One adjoint launch for the batch: per-circuit weight gradients into parts (B, W), input gradients into ig (both zeroed by the caller).</summary>
    private void LaunchBackward(Circuit c, ArrayView<int> gates, int batch, ArrayView<float> x, ArrayView<float> w, ArrayView<float> state,
                                ArrayView<float> cot, ArrayView<float> parts, ArrayView<float> ig, Readout r)
    {
        int group = GroupSize(c.Dim);
        var cfg = new KernelConfig(new Index1D(batch), new Index1D(group), SharedMemoryConfig.RequestDynamic<float>(4 * c.Dim + group));
        _backward(cfg, gates, c.Gates.Count, x, w, state, cot, parts, ig, Args(c, r, false));
    }

    /// <summary>Compiles one of this class's kernels to PTX for sm_90 with no GPU present (catches CUDA compile failures anywhere).</summary>
    public static string CompilePtx(string kernelName)
    {
        var method = typeof(IlgpuSimulator).GetMethod(kernelName, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)
                     ?? throw new ArgumentException($"no kernel named {kernelName}");
        return QGenEngine.Kernels.Gpu.PtxCompiler.Compile(method, grouped: true);
    }

    /// <summary>Gates as 5 ints each: kind, wire, wire2, source, index.</summary>
    private static int[] Encode(Circuit c) =>
        c.Gates.SelectMany(g => new[] { (int)g.Kind, g.Wire, g.Wire2, (int)g.Source, g.Index }).ToArray();

    private int GroupSize(int dim) => Math.Clamp(dim / 2, 1, Math.Min(256, Accelerator.MaxNumThreadsPerGroup));

    /// <summary>The readout of a batch, from host arrays (tests, bench): the same launch as on a tensor device.</summary>
    public float[] Run(Circuit c, float[] inputs, int batch, float[] weights, Readout r)
    {
        Simulator.Check(c, inputs, batch, weights);
        if (r.Kind == ReadoutKind.Shots) throw new ArgumentException("the GPU kernel returns probs or expval; sample shots from probs on the host");
        if (c.Qubits > MaxForwardQubits) throw new ArgumentException($"{c.Qubits} qubits do not fit the kernel's shared memory (at most {MaxForwardQubits}); use the CPU simulator");
        using var g = Accelerator.Allocate1D(Encode(c));
        using var x = Accelerator.Allocate1D(inputs);
        using var w = Accelerator.Allocate1D(weights.Length == 0 ? new float[1] : weights);
        using var y = Accelerator.Allocate1D<float>(batch * r.Width(c.Qubits));
        LaunchForward(c, g.View, batch, x.View, w.View, y.View, y.View, r, save: false);
        Accelerator.Synchronize();
        return y.GetAsArray1D();
    }

    /// <summary>Readout and adjoint gradients of a batch, from host arrays (tests, bench): forward keeping its states, then the adjoint pass.</summary>
    public (float[] Readout, float[] WeightGrad, float[] InputGrad) Adjoint(Circuit c, float[] inputs, int batch, float[] weights, Readout r, float[] cotangent)
    {
        Simulator.Check(c, inputs, batch, weights);
        if (r.Kind == ReadoutKind.Shots) throw new ArgumentException("the GPU kernel returns probs or expval; sample shots from probs on the host");
        if (c.Qubits > MaxBackwardQubits) throw new ArgumentException($"{c.Qubits} qubits do not fit the backward kernel's shared memory (at most {MaxBackwardQubits}); use the CPU simulator");
        int width = r.Width(c.Qubits);
        if (cotangent.Length != batch * width) throw new ArgumentException($"cotangent has {cotangent.Length} values; expected {batch * width}");
        using var g = Accelerator.Allocate1D(Encode(c));
        using var x = Accelerator.Allocate1D(inputs);
        using var w = Accelerator.Allocate1D(weights.Length == 0 ? new float[1] : weights);
        using var y = Accelerator.Allocate1D<float>(batch * width);
        using var state = Accelerator.Allocate1D<float>(batch * 2 * c.Dim);
        using var cot = Accelerator.Allocate1D(cotangent);
        using var wg = Accelerator.Allocate1D<float>(Math.Max(1, batch * c.WeightCount));
        using var ig = Accelerator.Allocate1D<float>(batch * c.InputCount);
        wg.MemSetToZero(); ig.MemSetToZero();
        LaunchForward(c, g.View, batch, x.View, w.View, y.View, state.View, r, save: true);
        LaunchBackward(c, g.View, batch, x.View, w.View, state.View, cot.View, wg.View, ig.View, r);
        Accelerator.Synchronize();
        // Per-circuit weight gradients, summed on the host in a fixed order (deterministic).
        var parts = wg.GetAsArray1D();
        var sum = new float[c.WeightCount];
        for (int b = 0; b < batch; b++) for (int k = 0; k < c.WeightCount; k++) sum[k] += parts[b * c.WeightCount + k];
        return (y.GetAsArray1D(), sum, ig.GetAsArray1D());
    }

    private static KernelArgs Args(Circuit c, Readout r, bool saveState) =>
        new(c.Qubits, c.InputCount, c.WeightCount, r.Width(c.Qubits), r.Kind == ReadoutKind.Expval ? 1 : 0, c.Encoding == Encoding.Amplitude ? 1 : 0, saveState ? 1 : 0);

    // ---- kernels ------------------------------------------------------------------------------------

    /// <summary>Prepares |0…0⟩ or the normalised amplitudes of circuit b in (re, im).</summary>
    private static void Prepare(ArrayView<float> re, ArrayView<float> im, ArrayView<float> inputs, int b, KernelArgs a, int dim)
    {
        float inv = 1f;
        if (a.Amplitude != 0)
        {
            float s = 0;
            for (int i = 0; i < dim; i++) { float v = inputs[b * a.InputCount + i]; s += v * v; }
            inv = 1f / MathF.Sqrt(s);
        }
        for (int i = Group.IdxX; i < dim; i += Group.DimX)
        {
            re[i] = a.Amplitude != 0 ? inputs[b * a.InputCount + i] * inv : (i == 0 ? 1f : 0f);
            im[i] = 0f;
        }
        Group.Barrier();
    }

    private static float Angle(ArrayView<int> gates, int k, ArrayView<float> inputs, ArrayView<float> weights, int b, KernelArgs a)
    {
        int source = gates[5 * k + 3], index = gates[5 * k + 4];
        return source == (int)AngleSource.Input ? inputs[b * a.InputCount + index] : source == (int)AngleSource.Weight ? weights[index] : 0f;
    }

    /// <summary>
    /// Applies gate k (or its inverse) to one state; every thread of the group takes a share of the pairs. Without the
    /// closing barrier (barrier false) a thread has touched only its own pairs: another state may be updated right after.
    /// </summary>
    private static void ApplyGate(ArrayView<float> re, ArrayView<float> im, ArrayView<int> gates, int k, float angle, bool inverse, int n, bool barrier = true)
    {
        int kind = gates[5 * k], wire = gates[5 * k + 1], wire2 = gates[5 * k + 2], dim = 1 << n;
        if (kind == (int)GateKind.CNOT || kind == (int)GateKind.CZ)
        {
            int cb = 1 << (n - 1 - wire), tb = 1 << (n - 1 - wire2);
            for (int i = Group.IdxX; i < dim; i += Group.DimX)
            {
                if ((i & cb) == 0) continue;
                if (kind == (int)GateKind.CZ) { if ((i & tb) != 0) { re[i] = -re[i]; im[i] = -im[i]; } }
                else if ((i & tb) == 0)
                {
                    int j = i | tb;
                    float tr = re[i], ti = im[i]; re[i] = re[j]; im[i] = im[j]; re[j] = tr; im[j] = ti;
                }
            }
            if (barrier) Group.Barrier();
            return;
        }
        // The gate's matrix from the one table (GateTable); H is its own inverse, R(θ)† = R(−θ).
        float a = inverse ? -angle : angle;
        float c = MathF.Cos(a / 2), s = MathF.Sin(a / 2);
        int row = GateTable.Row((GateKind)kind);
        float u00r = GateTable.Value(GateTable.Entry(row, 0), c, s), u00i = GateTable.Value(GateTable.Entry(row, 1), c, s),
              u01r = GateTable.Value(GateTable.Entry(row, 2), c, s), u01i = GateTable.Value(GateTable.Entry(row, 3), c, s),
              u10r = GateTable.Value(GateTable.Entry(row, 4), c, s), u10i = GateTable.Value(GateTable.Entry(row, 5), c, s),
              u11r = GateTable.Value(GateTable.Entry(row, 6), c, s), u11i = GateTable.Value(GateTable.Entry(row, 7), c, s);
        int bit = 1 << (n - 1 - wire);
        for (int p = Group.IdxX; p < dim / 2; p += Group.DimX)
        {
            int i0 = p / bit * 2 * bit + p % bit, i1 = i0 + bit;
            float xr = re[i0], xi = im[i0], yr = re[i1], yi = im[i1];
            re[i0] = u00r * xr - u00i * xi + u01r * yr - u01i * yi;
            im[i0] = u00r * xi + u00i * xr + u01r * yi + u01i * yr;
            re[i1] = u10r * xr - u10i * xi + u11r * yr - u11i * yi;
            im[i1] = u10r * xi + u10i * xr + u11r * yi + u11i * yr;
        }
        if (barrier) Group.Barrier();
    }

    private static void ForwardKernel(ArrayView<int> gates, int gateCount, ArrayView<float> inputs, ArrayView<float> weights, ArrayView<float> output,
                                      ArrayView<float> state, KernelArgs a)
    {
        int b = Grid.IdxX, n = a.Qubits, dim = 1 << n;
        var sm = SharedMemory.GetDynamic<float>();
        var re = sm.SubView(0, dim); var im = sm.SubView(dim, dim);
        Prepare(re, im, inputs, b, a, dim);
        for (int k = 0; k < gateCount; k++) ApplyGate(re, im, gates, k, Angle(gates, k, inputs, weights, b, a), false, n);
        if (a.SaveState != 0)
            for (int i = Group.IdxX; i < dim; i += Group.DimX) { state[(long)b * 2 * dim + i] = re[i]; state[(long)b * 2 * dim + dim + i] = im[i]; }
        if (a.Expval == 0)
            for (int i = Group.IdxX; i < dim; i += Group.DimX) output[b * a.Width + i] = re[i] * re[i] + im[i] * im[i];
        else
            for (int q = Group.IdxX; q < n; q += Group.DimX)
            {
                int bit = 1 << (n - 1 - q); float e = 0;
                for (int i = 0; i < dim; i++) { float p = re[i] * re[i] + im[i] * im[i]; e += (i & bit) == 0 ? p : -p; }
                output[b * a.Width + q] = e;
            }
    }

    /// <summary>Σ over the group of each thread's value (shared-memory tree; the result is read by every thread).</summary>
    private static float GroupSum(ArrayView<float> scratch, float v)
    {
        int t = Group.IdxX;
        scratch[t] = v;
        Group.Barrier();
        for (int s = 1; s < Group.DimX; s <<= 1)
        {
            float other = (t % (2 * s) == 0 && t + s < Group.DimX) ? scratch[t + s] : 0f;
            Group.Barrier();
            if (t % (2 * s) == 0) scratch[t] += other;
            Group.Barrier();
        }
        float r = scratch[0];
        Group.Barrier();
        return r;
    }

    /// <summary>The adjoint pass: from the forward's final state ψ and λ = Gψ, every gate un-applied to both in reverse order.</summary>
    private static void BackwardKernel(ArrayView<int> gates, int gateCount, ArrayView<float> inputs, ArrayView<float> weights, ArrayView<float> state,
                                       ArrayView<float> cot, ArrayView<float> weightGrad, ArrayView<float> inputGrad, KernelArgs a)
    {
        int b = Grid.IdxX, n = a.Qubits, dim = 1 << n;
        var sm = SharedMemory.GetDynamic<float>();
        var re = sm.SubView(0, dim); var im = sm.SubView(dim, dim);
        var lr = sm.SubView(2 * dim, dim); var li = sm.SubView(3 * dim, dim);
        var scratch = sm.SubView(4 * dim, Group.DimX);
        for (int i = Group.IdxX; i < dim; i += Group.DimX) { re[i] = state[(long)b * 2 * dim + i]; im[i] = state[(long)b * 2 * dim + dim + i]; }
        // λ = G ψ (each thread reads back only the amplitudes it wrote), G diagonal: the cotangent (probs) or Σ_q g_q z_q(i) (expval).
        for (int i = Group.IdxX; i < dim; i += Group.DimX)
        {
            float d = 0;
            if (a.Expval == 0) d = cot[b * a.Width + i];
            else for (int q = 0; q < n; q++) d += ((i >> (n - 1 - q)) & 1) == 0 ? cot[b * a.Width + q] : -cot[b * a.Width + q];
            lr[i] = d * re[i]; li[i] = d * im[i];
        }
        Group.Barrier();
        for (int k = gateCount - 1; k >= 0; k--)
        {
            int kind = gates[5 * k], source = gates[5 * k + 3];
            float angle = Angle(gates, k, inputs, weights, b, a);
            if (source != (int)AngleSource.None)
            {
                // Im⟨λ|P|φ⟩ for the rotation's Pauli on its wire.
                int bit = 1 << (n - 1 - gates[5 * k + 1]);
                float part = 0;
                for (int p = Group.IdxX; p < dim / 2; p += Group.DimX)
                {
                    int i0 = p / bit * 2 * bit + p % bit, i1 = i0 + bit;
                    float l0r = lr[i0], l0i = li[i0], l1r = lr[i1], l1i = li[i1], p0r = re[i0], p0i = im[i0], p1r = re[i1], p1i = im[i1];
                    part += kind == (int)GateKind.RX ? l0r * p1i - l0i * p1r + l1r * p0i - l1i * p0r
                          : kind == (int)GateKind.RY ? l1r * p0r + l1i * p0i - l0r * p1r - l0i * p1i
                          : l0r * p0i - l0i * p0r - l1r * p1i + l1i * p1r;
                }
                float total = GroupSum(scratch, part);
                if (Group.IdxX == 0)
                {
                    int index = gates[5 * k + 4];
                    if (source == (int)AngleSource.Weight) weightGrad[b * a.WeightCount + index] += total;
                    else inputGrad[b * a.InputCount + index] += total;
                }
            }
            ApplyGate(re, im, gates, k, angle, true, n, barrier: false);   // ψ and λ in one step: one barrier
            ApplyGate(lr, li, gates, k, angle, true, n);
        }
        if (a.Amplitude != 0)
        {
            // Through ψ0 = x/|x|: ∂L/∂x = (v − ψ0 (ψ0·v))/|x|, v = 2 Re λ0.
            float part = 0, s = 0;
            for (int i = Group.IdxX; i < dim; i += Group.DimX) part += re[i] * 2 * lr[i];
            float dot = GroupSum(scratch, part);
            for (int i = 0; i < dim; i++) { float v = inputs[b * a.InputCount + i]; s += v * v; }
            float norm = MathF.Sqrt(s);
            for (int i = Group.IdxX; i < dim; i += Group.DimX)
                inputGrad[b * a.InputCount + i] = (2 * lr[i] - re[i] * dot) / norm;
        }
    }
}
