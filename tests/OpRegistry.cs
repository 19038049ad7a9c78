using QGenEngine.Autograd;
using QGenEngine.Tensors;
using QGenEngine.Tests.Support;

namespace QGenEngine.Tests;

public sealed record Input(int[] Shape, Dist Dist = Dist.Normal, bool Grad = true);

/// <summary>One row of the op table: inputs, and the op as a function of tensors on any device.</summary>
/// <param name="Fd">False where the gradient is by design not the derivative (stop-gradient, straight-through); those rows have their own tests.</param>
public sealed record OpCase(string Name, Input[] Inputs, Func<Tensor[], Tensor> Fn, double Atol = 2e-4, double Rtol = 2e-3, bool Fd = true)
{
    public override string ToString() => Name;
}

/// <summary>
/// Every differentiable op of the engine, in general shapes (odd sizes, broadcasting, strides,
/// padding). The shared harness (<see cref="OpTests"/>) runs each row on the reference device with
/// finite differences in double precision, and on the fast CPU device against the reference.
/// Adding an op is adding a row here.
/// </summary>
public static class OpRegistry
{
    private static Input I(params int[] shape) => new(shape);
    private static Input P(params int[] shape) => new(shape, Dist.Positive);
    private static Input U(params int[] shape) => new(shape, Dist.Unit);
    private static Input Az(params int[] shape) => new(shape, Dist.AwayFromZero);
    private static Input C(Dist d, params int[] shape) => new(shape, d, Grad: false);

    public static IEnumerable<OpCase> All()
    {
        // ---- elementwise unary
        yield return new("relu", [I(3, 17)], x => x[0].Relu());
        yield return new("leaky_relu", [I(5, 13)], x => x[0].LeakyRelu(0.2f));
        yield return new("sigmoid", [I(4, 9)], x => x[0].Sigmoid());
        yield return new("tanh", [I(4, 9)], x => x[0].Tanh());
        yield return new("exp", [I(37)], x => x[0].Exp());
        yield return new("log", [P(2, 19)], x => x[0].Log());
        yield return new("softplus", [I(3, 11)], x => x[0].Mul(4f).Softplus());
        yield return new("clamp", [I(6, 7)], x => x[0].Clamp(-0.5f, 0.7f));
        yield return new("square", [I(21)], x => x[0].Square());
        yield return new("sqrt", [P(21)], x => x[0].Sqrt());
        yield return new("affine", [I(2, 3, 4)], x => x[0].Affine(-1.5f, 0.25f));
        yield return new("neg", [I(3, 5)], x => x[0].Neg().Mul(x[0]));

        // ---- elementwise binary, with broadcasting
        yield return new("add", [I(3, 5), I(3, 5)], x => x[0].Add(x[1]));
        yield return new("sub", [I(3, 5), I(3, 5)], x => x[0].Sub(x[1]));
        yield return new("mul", [I(3, 5), I(3, 5)], x => x[0].Mul(x[1]));
        yield return new("div", [I(3, 5), Az(3, 5)], x => x[0].Div(x[1]));
        yield return new("add_bias_nchw", [I(2, 3, 4, 5), I(1, 3, 1, 1)], x => x[0].Add(x[1]));
        yield return new("mul_row_broadcast", [I(4, 5), I(5)], x => x[0].Mul(x[1]));
        yield return new("sub_outer_broadcast", [I(3, 1), I(1, 4)], x => x[0].Sub(x[1]));
        yield return new("div_broadcast_both", [I(2, 1, 6), Az(3, 1)], x => x[0].Div(x[1]));
        yield return new("mul_scalar_tensor", [I(1), I(2, 3)], x => x[0].Mul(x[1]));

        // ---- reductions and shapes
        yield return new("sum_all", [I(3, 4, 5)], x => x[0].Sum());
        yield return new("sum_axis1", [I(3, 4, 5)], x => x[0].Sum([1]));
        yield return new("mean_axes02_keepdim", [I(3, 4, 5)], x => x[0].Mean([0, 2], keepDim: true));
        yield return new("mean_all", [I(7, 3)], x => x[0].Mean());
        yield return new("reshape_flatten", [I(2, 3, 4)], x => x[0].Reshape(4, -1).Mul(x[0].Flatten().Reshape(4, 6)));
        yield return new("flatten", [I(2, 3, 2, 2)], x => x[0].Flatten().Tanh());
        yield return new("concat_axis1", [I(2, 3, 4), I(2, 2, 4), I(2, 1, 4)], x => Ops.Concat(x, 1));
        yield return new("concat_axis0", [I(2, 5), I(3, 5)], x => Ops.Concat(x, 0));
        yield return new("slice_axis2", [I(2, 3, 7)], x => x[0].Slice(2, 2, 4));
        yield return new("detach", [I(3, 4)], x => x[0].Mul(x[0].Detach()), Fd: false);
        yield return new("shared_input_diamond", [I(4, 6)], x => x[0].Tanh().Mul(x[0].Sigmoid()).Add(x[0]));

        // ---- linear algebra
        yield return new("matmul_2d", [I(5, 7), I(7, 3)], x => x[0].MatMul(x[1]));
        yield return new("matmul_batched", [I(2, 4, 6), I(2, 6, 3)], x => x[0].MatMul(x[1]));
        yield return new("matmul_shared_rhs", [I(3, 4, 6), I(6, 5)], x => x[0].MatMul(x[1]));
        yield return new("matmul_large_odd", [I(37, 53), I(53, 29)], x => x[0].MatMul(x[1]), 5e-4);
        yield return new("linear", [I(7, 13), I(11, 13), I(11)], x => x[0].Linear(x[1], x[2]));
        yield return new("linear_no_bias", [I(3, 5), I(4, 5)], x => x[0].Linear(x[1], null));

        // ---- convolutions: (x, weight, bias)
        yield return new("conv2d_k3s1p1", [I(2, 3, 7, 6), I(4, 3, 3, 3), I(4)], x => x[0].Conv2d(x[1], x[2], 1, 1));
        yield return new("conv2d_k3s2p1", [I(2, 2, 9, 8), I(3, 2, 3, 3), I(3)], x => x[0].Conv2d(x[1], x[2], 2, 1));
        yield return new("conv2d_k4s2p1", [I(1, 2, 8, 8), I(3, 2, 4, 4), I(3)], x => x[0].Conv2d(x[1], x[2], 2, 1));
        yield return new("conv2d_k5s3p2_nobias", [I(2, 1, 11, 9), I(2, 1, 5, 5)], x => x[0].Conv2d(x[1], null, 3, 2));
        yield return new("conv2d_k1", [I(2, 5, 3, 4), I(3, 5, 1, 1), I(3)], x => x[0].Conv2d(x[1], x[2]));
        yield return new("conv_transpose2d_k4s2p1", [I(2, 3, 4, 5), I(3, 2, 4, 4), I(2)], x => x[0].ConvTranspose2d(x[1], x[2], 2, 1));
        // Rows wide enough (19 columns of stride 2) for the CPU's eight-wide stride-2 gather and scatter, tails included.
        yield return new("conv2d_k3s2p1_wide", [I(1, 2, 5, 39), I(2, 2, 3, 3), I(2)], x => x[0].Conv2d(x[1], x[2], 2, 1));
        // Big enough (256 × 256 columns an image) that the CPU runs it as two chunks of images side by side.
        yield return new("conv_transpose2d_k4s2p1_chunked", [I(3, 2, 16, 16), I(2, 16, 4, 4), I(16)], x => x[0].ConvTranspose2d(x[1], x[2], 2, 1), Fd: false);
        yield return new("conv_transpose2d_k4s2p1_wide", [I(1, 2, 3, 19), I(2, 2, 4, 4), I(2)], x => x[0].ConvTranspose2d(x[1], x[2], 2, 1));
        yield return new("conv_transpose2d_k3s1p1", [I(2, 2, 5, 4), I(2, 3, 3, 3), I(3)], x => x[0].ConvTranspose2d(x[1], x[2], 1, 1));
        yield return new("conv_transpose2d_k3s2p0_op1", [I(1, 2, 3, 4), I(2, 2, 3, 3), I(2)], x => x[0].ConvTranspose2d(x[1], x[2], 2, 0, 1));
        yield return new("conv_transpose2d_k5s3p2_nobias", [I(2, 2, 3, 3), I(2, 1, 5, 5)], x => x[0].ConvTranspose2d(x[1], null, 3, 2));
        yield return new("masked_conv2d_typeA", [I(1, 2, 5, 5), I(3, 2, 3, 3), I(3)], x =>
        {
            var m = Tensor.FromArray(x[0].Device, [1, 1, 1, 1, 0, 0, 0, 0, 0], 1, 1, 3, 3);
            return x[0].Conv2d(x[1].Mul(m), x[2], 1, 1);
        });

        // ---- normalisation, pooling, dropout, softmax
        yield return new("batch_norm2d_train", [I(4, 3, 3, 5), I(3), I(3)], x => BnTrain(x, 3));
        yield return new("batch_norm1d_train", [I(6, 5), I(5), I(5)], x => BnTrain(x, 5));
        yield return new("batch_norm2d_eval", [I(2, 3, 2, 2), I(3), I(3), C(Dist.Normal, 3), C(Dist.Positive, 3)],
            x => x[0].BatchNorm(x[1], x[2], x[3], x[4], training: false));
        yield return new("max_pool2d_k2s2", [I(2, 3, 6, 5)], x => x[0].MaxPool2d(2, 2));
        yield return new("max_pool2d_k3s2p1", [I(1, 2, 7, 7)], x => x[0].MaxPool2d(3, 2, 1));
        yield return new("dropout_p0.3", [I(6, 10)], x => x[0].Dropout(0.3f, true, new Generator(11)));
        yield return new("softmax_last", [I(4, 7)], x => x[0].Softmax());
        yield return new("softmax_axis1_3d", [I(2, 5, 3)], x => x[0].Softmax(1));
        yield return new("log_softmax", [I(3, 8)], x => x[0].LogSoftmax());

        // ---- losses
        yield return new("bce_with_logits_mean", [I(3, 7).With(Dist.Normal), U(3, 7)], x => x[0].Mul(3f).BceWithLogits(x[1]));
        yield return new("bce_with_logits_sum", [I(2, 9), C(Dist.Unit, 2, 9)], x => x[0].BceWithLogits(x[1], Reduction.Sum));
        yield return new("cross_entropy", [I(5, 4)], x => x[0].CrossEntropy([3, 0, 1, 3, 2]));
        yield return new("mse", [I(4, 3), I(4, 3)], x => x[0].Mse(x[1]));
        yield return new("gaussian_kl", [I(3, 4), I(3, 4)], x => x[0].GaussianKl(x[1]));

        // ---- indexing
        yield return new("embedding", [I(6, 3)], x => x[0].Embedding([5, 0, 2, 2, 4]));
        yield return new("gather", [I(4, 6)], x => x[0].Gather([1, 5, 0, 3]));
        yield return new("transpose_last2_3d", [I(3, 5, 7)], x => x[0].Transpose().Mul(Tensor.FromArray(x[0].Device, Enumerable.Range(0, 105).Select(i => 0.1f * (i % 11)).ToArray(), 3, 7, 5)));
        yield return new("transpose_nchw_to_rows", [I(2, 4, 3, 3)], x => x[0].Reshape(2, 4, 9).Transpose().Reshape(18, 4).Tanh());

        // Index outputs (no gradient) enter the row through a differentiable term, so the harness compares them
        // forward on every backend while the gradient checks the rest. Ties: the lowest index wins.
        yield return new("argmax_axis1_3d", [I(4, 7, 3)], x => x[0].Sum([1]).Add(x[0].ArgMax(1).Mul(100f)));
        yield return new("argmin_last", [I(5, 9)], x => x[0].Sum([1]).Add(x[0].ArgMin().Mul(100f)));
        yield return new("argmax_ties", [I(3, 4)], x => Tensor.FromArray(x[0].Device, [1, 3, 3, 0, 2, 2, 2, 2, -1, -5, -5, -1], 3, 4).ArgMax()
                                                                   .Add(Tensor.FromArray(x[0].Device, [1, 3, 3, 0, 2, 2, 2, 2, -1, -5, -5, -1], 3, 4).ArgMin().Mul(10f))
                                                                   .Add(x[0].Sum([1])), Fd: false);
        yield return new("sample_categorical", [I(64, 10)], x => x[0].Sum([1]).Add(x[0].Mul(2f).SampleCategorical(12345UL).Mul(100f)), Fd: false);
        yield return new("vector_quantize", [I(7, 4), I(5, 4)], x =>
        {
            var (zq, e, _) = x[0].VectorQuantize(x[1]);
            // the VQ-VAE loss terms: codebook ||sg[z] − e||², commitment ||z − sg[e]||², and zq downstream
            return Ops.Concat([zq.Tanh().Sum().Reshape(1), x[0].Detach().Mse(e).Reshape(1), x[0].Mse(e.Detach()).Mul(0.25f).Reshape(1)], 0);
        }, Fd: false);
    }

    private static Tensor BnTrain(Tensor[] x, int c)
    {
        var dev = x[0].Device;
        var rm = Tensor.Zeros(dev, c); var rv = Tensor.Ones(dev, c);
        return x[0].BatchNorm(x[1], x[2], rm, rv, training: true);
    }

    private static Input With(this Input i, Dist d) => i with { Dist = d };
}
