// The cuda backend's table, filled in this one place: the reference table with the ops this
// folder has kernels for replaced. The rest stay the reference's and run on the host over the
// same (managed, or HMM-addressed) memory; every cuda op has finished when it returns, so a host
// op after it reads finished results. README.md in this folder lists which ops are which.
#include "core/error.h"
#include "core/tensor.h"
#include "kernels/cuda/cuda.h"
#include "kernels/cuda/kernels.h"
#include "kernels/ops.h"

namespace lenet::kernels::cuda {

namespace {

void gemm_whole(const Compute&, const GemmArgs& args) { gemm(args); }
void activate_whole(const Compute&, Activation activation, float* x, std::size_t n) { activate(activation, x, n); }
void activation_gradient_whole(const Compute&, Activation activation, const float* y, float* delta, std::size_t n) {
    activation_gradient(activation, y, delta, n);
}
void bias_gradient_whole(const Compute&, const float* delta, int batch, int channels, int spatial, float* grad) {
    bias_gradient(delta, batch, channels, spatial, grad);
}
void scale_gradient_whole(const Compute&, const float* delta, const float* x_norm, int batch, int channels,
                          int spatial, float* grad) {
    scale_gradient(delta, x_norm, batch, channels, spatial, grad);
}
void xnor_conv_whole(const Compute&, const ConvGeometry& g, const PackedFilters& filters, const float* image,
                     float* dots, void* workspace) {
    xnor_conv(g, filters, image, dots, workspace);
}
void xnor_dense_whole(const Compute&, const PackedRows& rows, const float* input, int batch, float* dots,
                      void* workspace) {
    xnor_dense(rows, input, batch, dots, workspace);
}

// A packed once is the reference's layout (A as it is); the products run cuBLAS like gemm.
void gemm_packed_a(const Compute&, const PackedGemmA& a, const GemmArgs& args) {
    LENET_CHECK(!args.trans_a && args.alpha == 1.0f && args.m == a.m && args.k == a.k, "gemm_packed_a: a ", a.m, "x", a.k,
                " A for a ", args.m, "x", args.k, " product");
    GemmArgs g = args;
    g.a = a.data.data();
    g.lda = a.k;
    gemm(g);
}

Ops make_table() {
    Ops t = reference_ops();
    t.name = "cuda";
    t.gemm_pack_a = gemm_pack_a_reference;
    t.gemm_packed_a = gemm_packed_a;
    t.gemm = gemm_whole;
    t.gemm_single = gemm;
    t.activate = activate_whole;
    t.activate_single = activate;
    t.activation_gradient = activation_gradient_whole;
    t.activation_gradient_single = activation_gradient;
    t.scale_add_bias = scale_add_bias;
    t.bias_gradient = bias_gradient_whole;
    t.bias_gradient_single = bias_gradient;
    t.scale_gradient = scale_gradient_whole;
    t.channel_mean_variance = channel_mean_variance;
    t.normalize = normalize;
    t.normalize_rolling = normalize_rolling;
    t.update_rolling = update_rolling;
    t.batchnorm_backward = batchnorm_backward;
    t.add = add;
    t.copy = copy;
    t.multiply = multiply;
    t.multiply_add = multiply_add;
    t.im2col = im2col;
    t.col2im_add = col2im_add;
    t.maxpool_forward = maxpool_forward;
    t.maxpool_backward_set = maxpool_backward_set;
    t.maxpool_backward_add = maxpool_backward_add;
    t.adam_update = adam_update;
    t.xnor_conv_workspace = xnor_conv_workspace;
    t.xnor_conv = xnor_conv_whole;
    t.xnor_conv_single = xnor_conv;
    t.xnor_dense = xnor_dense_whole;
    return t;
}

}  // namespace

const Ops& table() {
    static const Ops ops = make_table();
    return ops;
}

}  // namespace lenet::kernels::cuda
