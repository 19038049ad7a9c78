namespace QGenEngine.Tensors;

/// <summary>Elementwise functions of one tensor. <c>a</c> and <c>b</c> are the op's scalar arguments.</summary>
public enum UnaryOp
{
    Relu,       // max(x, 0)
    LeakyRelu,  // x > 0 ? x : a·x
    Sigmoid,
    Tanh,
    Exp,
    Log,
    Softplus,   // log(1 + e^x), computed stably
    Clamp,      // min(max(x, a), b)
    Affine,     // a·x + b
    Square,     // x²
    Sqrt,
}

/// <summary>Elementwise functions of two tensors, with NumPy broadcasting to the output's shape.</summary>
public enum BinaryOp { Add, Sub, Mul, Div }

/// <summary>
/// A device whose memory holds doubles (the reference): host code that leaves the tensor graph (the circuit simulator)
/// reads and writes them exactly, so finite-difference checks through it stay in double precision.
/// </summary>
public interface IExactDevice
{
    void DownloadExact(Tensor src, Span<double> dst);
    void UploadExact(ReadOnlySpan<double> src, Tensor dst);
}

/// <summary>
/// One device: its memory and the primitive kernels every op of the engine is built from.
/// The CPU reference (double precision, plain loops), the fast CPU path and the ILGPU backends all
/// implement this interface; models and ops never name a backend. All tensors passed to a call are
/// contiguous and live on this device. Shapes are given in comments as in the op's forward.
/// </summary>
public interface IDevice
{
    string Name { get; }

    // ---- memory -------------------------------------------------------------------------------
    Storage Allocate(long length);
    void Free(Storage storage);
    void Upload(ReadOnlySpan<float> src, Tensor dst);
    void Download(Tensor src, Span<float> dst);

    // ---- data movement and creation -------------------------------------------------------------
    void Fill(Tensor y, float value);
    /// <summary>rows × cols block copy: dst[dstOff + r·dstStride + c] = src[srcOff + r·srcStride + c].</summary>
    void Copy2D(Tensor src, long srcOffset, long srcStride, Tensor dst, long dstOffset, long dstStride, int rows, int cols);
    /// <summary>x viewed as (batch, rows, cols) → y (batch, cols, rows): y[b, c, r] = x[b, r, c].</summary>
    void Transpose(Tensor x, int batch, int rows, int cols, Tensor y);
    /// <summary>Element i of the stream is a pure function of (seed, i): the same numbers on every device.</summary>
    void FillRandom(Tensor y, RandomKind kind, ulong seed, float a, float b);

    // ---- elementwise ----------------------------------------------------------------------------
    void Unary(UnaryOp op, Tensor x, Tensor y, float a, float b);
    /// <summary>dx = dy · f'(x) (y = f(x) is given for ops whose derivative is cheaper from it).</summary>
    void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float a, float b);
    /// <summary>y = a op b, a and b broadcast to y's shape.</summary>
    void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y);

    // ---- reductions -----------------------------------------------------------------------------
    /// <summary>x viewed as (outer, r, inner): y[o, i] = scale · Σ_r x[o, r, i].</summary>
    void SumAxis(Tensor x, int outer, int r, int inner, Tensor y, float scale);
    /// <summary>acc (1 element) += Σ x², on the device: nothing is read back (gradient clipping and norms stay queued on a GPU).</summary>
    void SumOfSquares(Tensor x, Tensor acc);

    // ---- linear algebra -------------------------------------------------------------------------
    /// <summary>
    /// Batched C = α·op(A)·op(B) + β·C with op(A) (m,k), op(B) (k,n), C (m,n), all row-major;
    /// A stored (m,k) or, if transA, (k,m); likewise B. Batch strides are in elements (0 to share).
    /// </summary>
    void Gemm(bool transA, bool transB, int batch, int m, int n, int k, float alpha,
              Tensor a, long strideA, Tensor b, long strideB, float beta, Tensor c, long strideC);

    // ---- convolutions ---------------------------------------------------------------------------
    /// <summary>x (N,C,H,W), w (OC,C,KH,KW), bias (OC) or null → y (N,OC,OH,OW).</summary>
    void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, ConvGeometry g);
    /// <summary>Gradients of Conv2d; any of dx, dw, db may be null. dw and db are accumulated into (+=).</summary>
    void Conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, ConvGeometry g);
    /// <summary>x (N,Cin,H,W), w (Cin,Cout,KH,KW), bias (Cout) → y (N,Cout,OH,OW).</summary>
    void ConvTranspose2d(Tensor x, Tensor w, Tensor? bias, Tensor y, TransposedConvGeometry g);
    /// <summary>Gradients of ConvTranspose2d; dw and db are accumulated into (+=).</summary>
    void ConvTranspose2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, TransposedConvGeometry g);

    // ---- normalisation, pooling, softmax --------------------------------------------------------
    /// <summary>
    /// Training-mode batch norm of x viewed as (N, C, S): normalises by the batch statistics, writes
    /// mean and 1/σ to saveMean/saveInvStd and updates the running averages (unbiased variance,
    /// PyTorch's momentum convention). Eval mode is an affine map, composed from broadcasting ops.
    /// </summary>
    void BatchNorm(Tensor x, int n, int c, int s, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                   Tensor saveMean, Tensor saveInvStd, float momentum, float eps, Tensor y);
    /// <summary>Training-mode gradients; dgamma and dbeta are accumulated into (+=).</summary>
    void BatchNormBackward(Tensor x, Tensor dy, int n, int c, int s, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                           Tensor dx, Tensor dgamma, Tensor dbeta);
    /// <summary>x (N,C,H,W) → y (N,C,OH,OW); argmax holds the flat index within the input plane, as a float (exact below 2^24).</summary>
    void MaxPool2d(Tensor x, Tensor y, Tensor argmax, PoolGeometry g);
    void MaxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, PoolGeometry g);
    /// <summary>Softmax (or log-softmax) of x viewed as (outer, r, inner) along r.</summary>
    void Softmax(Tensor x, int outer, int r, int inner, bool log, Tensor y);
    void SoftmaxBackward(Tensor y, Tensor dy, int outer, int r, int inner, bool log, Tensor dx);

    // ---- losses and indexing --------------------------------------------------------------------
    /// <summary>Elementwise y = max(x,0) − x·t + log(1 + e^−|x|).</summary>
    void BceWithLogits(Tensor x, Tensor t, Tensor y);
    /// <summary>dx = dy·(σ(x) − t), dt = dy·(−x) (dt may be null).</summary>
    void BceWithLogitsBackward(Tensor x, Tensor t, Tensor dy, Tensor dx, Tensor? dt);
    /// <summary>w (V,D), idx (n) → y (n,D). Indices live on the device as floats (exact below 2^24), so a step that computes them reads nothing back.</summary>
    void IndexSelect(Tensor w, Tensor idx, Tensor y);
    /// <summary>dw[idx[i], :] += dy[i, :] (repeated indices add up in order).</summary>
    void IndexAdd(Tensor dy, Tensor idx, Tensor dw);
    /// <summary>z (M,D), codebook (K,D) → idx (M): argmin_k ||z_i − e_k||² (lowest k on ties), as floats in device memory.</summary>
    void NearestRows(Tensor z, Tensor codebook, Tensor idx);
    /// <summary>x viewed as (outer, r, inner): idx[o, i] = the r-index of the largest (or, with min, smallest) value, lowest on ties, as a float (exact below 2^24).</summary>
    void ArgReduce(Tensor x, int outer, int r, int inner, bool min, Tensor idx);
    /// <summary>
    /// logits (rows, classes) → idx (rows): a draw from softmax(logits[i]) by inverse CDF at u_i = value i of
    /// stream <paramref name="seed"/> (<see cref="CounterRng.Uniform"/>): the same u on every device and thread count.
    /// </summary>
    void SampleCategorical(Tensor logits, int rows, int classes, ulong seed, Tensor idx);

    // ---- optimisers -----------------------------------------------------------------------------
    /// <summary>One Adam/AdamW step on a parameter (PyTorch's formulas; decoupled = AdamW's weight decay).</summary>
    void AdamStep(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                  float weightDecay, bool decoupled, int step);
    /// <summary>One SGD step with momentum (PyTorch's formulas, dampening 0).</summary>
    void SgdStep(Tensor p, Tensor g, Tensor? buf, float lr, float momentum, float weightDecay, bool nesterov, bool firstStep);
}

public enum RandomKind
{
    Uniform,    // U[a, b)
    Normal,     // N(a, b²)
    Bernoulli,  // 1/(1−a) with probability 1−a, else 0 (dropout's scaled keep mask)
}
