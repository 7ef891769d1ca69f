// The reference backend's table: the portable kernels, every op. The other backends start from a
// copy of it. Only the GEMM is split over the threads (every other whole-batch op runs on the
// calling thread), so -backend reference is the plain truth.
#include "kernels/ops.h"
#include "kernels/parallel.h"
#include "kernels/peak.h"

namespace lenet::kernels {

namespace {

void activate_whole(const Compute&, Activation activation, float* x, std::size_t n) {
    activate_reference(activation, x, n);
}
void activation_gradient_whole(const Compute&, Activation activation, const float* y, float* delta, std::size_t n) {
    activation_gradient_reference(activation, y, delta, n);
}
void bias_gradient_whole(const Compute&, const float* delta, int batch, int channels, int spatial, float* grad) {
    bias_gradient_reference(delta, batch, channels, spatial, grad);
}
void scale_gradient_whole(const Compute&, const float* delta, const float* x_norm, int batch, int channels, int spatial,
                          float* grad) {
    scale_gradient_reference(delta, x_norm, batch, channels, spatial, grad);
}
void upsample_forward_whole(const Compute&, const UpsampleGeometry& g, std::size_t planes, const float* in,
                            float* out) {
    upsample_forward_reference(g, planes, in, out);
}
void upsample_backward_add_whole(const Compute&, const UpsampleGeometry& g, std::size_t planes, const float* delta,
                                 float* in_grad) {
    upsample_backward_add_reference(g, planes, delta, in_grad);
}
bool no_direct_kernel(const ConvGeometry&, int, const PoolGeometry&) { return false; }
bool no_direct_conv(const ConvGeometry&, int) { return false; }
void pooled_weight_gradient_whole(const PooledGradientShape& s, const float* delta, const std::int32_t* argmax,
                                  const float* columns, float* grad, float*) {
    pooled_weight_gradient_reference(s, delta, argmax, columns, grad);
}
void pooled_conv_backward_whole(const PooledConvShape& s, const float* delta, const std::int32_t* argmax,
                                const float* image, const float* weights, float* weight_grad, float* image_grad,
                                float*) {
    pooled_conv_backward_channels_last_reference(s, delta, argmax, image, weights, weight_grad, image_grad);
}

Ops make_table() {
    Ops t{};
    t.name = "reference";
    t.gemm = parallel::gemm<gemm_reference>;
    t.gemm_single = parallel::gemm_single<gemm_reference>;
    t.gemm_pack_a = gemm_pack_a_reference;
    t.gemm_packed_a = gemm_packed_a_reference;
    t.activate = activate_whole;
    t.activate_single = activate_reference;
    t.activation_gradient = activation_gradient_whole;
    t.activation_gradient_single = activation_gradient_reference;
    t.scale_add_bias = scale_add_bias_reference;
    t.bias_gradient = bias_gradient_whole;
    t.bias_gradient_single = bias_gradient_reference;
    t.scale_gradient = scale_gradient_whole;
    t.channel_mean_variance = channel_mean_variance;
    t.normalize = normalize;
    t.normalize_rolling = normalize_rolling;
    t.update_rolling = update_rolling;
    t.batchnorm_backward = batchnorm_backward;
    t.add = add_reference;
    t.copy = copy_reference;
    t.im2col = im2col_reference;
    t.col2im_add = col2im_add_reference;
    t.maxpool_forward = maxpool_forward_reference;
    t.maxpool_backward_set = maxpool_backward_set_reference;
    t.maxpool_backward_add = maxpool_backward_add_reference;
    t.global_avgpool_forward = global_avgpool_forward;
    t.global_avgpool_backward_add = global_avgpool_backward_add;
    t.conv_maxpool_direct_fits = no_direct_kernel;
    t.weights_taps_major = weights_taps_major;
    t.conv_maxpool_direct = nullptr;
    t.conv_direct_fits = no_direct_conv;
    t.conv_direct = nullptr;
    t.pooled_weight_gradient = pooled_weight_gradient_whole;
    t.to_channels_last = to_channels_last_reference;
    t.from_channels_last = from_channels_last_reference;
    t.weights_to_channels_last = weights_to_channels_last;
    t.add_weights_from_channels_last = add_weights_from_channels_last;
    t.pooled_conv_backward_channels_last = pooled_conv_backward_whole;
    t.adam_update = adam_update_reference;
    t.binarize_rows = binarize_rows;
    t.scale_rows = scale_rows;
    t.binary_weight_gradient = binary_weight_gradient;
    t.sign = sign;
    t.sign_gradient_add = sign_gradient_add;
    t.input_scale_map = input_scale_map;
    t.input_scale_gradient = input_scale_gradient;
    t.abs_mean = abs_mean;
    t.abs_mean_gradient = abs_mean_gradient;
    t.binary_output = binary_output_reference;
    t.xnor_conv_scale_gradient = xnor_conv_scale_gradient_reference;
    t.xnor_dense_scale_gradient = xnor_dense_scale_gradient_reference;
    t.xnor_conv_workspace = xnor_conv_workspace_reference;
    t.xnor_conv = xnor_conv_threads_reference;
    t.xnor_conv_single = xnor_conv_single_reference;
    t.xnor_conv_io = xnor_conv_io_reference;
    t.maxpool_signs = maxpool_signs_reference;
    t.upsample_signs = upsample_signs_reference;
    t.xnor_dense = parallel::xnor_dense<pack_signs_reference, xnor_dense_reference>;
    t.softmax = softmax_reference;
    t.multiply = multiply_reference;
    t.multiply_add = multiply_add_reference;
    t.copy_rows = copy_rows_reference;
    t.add_rows = add_rows_reference;
    t.shortcut_forward = shortcut_forward_reference;
    t.shortcut_backward = shortcut_backward_reference;
    t.upsample_forward = upsample_forward_whole;
    t.upsample_backward_add = upsample_backward_add_whole;
    t.softmax_backward_add = softmax_backward_add_reference;
    t.softmax_cross_entropy = softmax_cross_entropy_reference;
    t.yolo_forward = yolo_forward_reference;
    t.yolo_loss = yolo_loss_reference;
    t.yolo_decode = yolo_decode_reference;
    t.core_peak_gflops = measure_core_peak_gflops_scalar;
    return t;
}

}  // namespace

const Ops& reference_table() {
    static const Ops table = make_table();
    return table;
}

}  // namespace lenet::kernels
