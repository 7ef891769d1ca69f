// What the registry knows about any table: where each op comes from (for `lenet bench` and the
// tests), and workspace sizes that cover every backend built.
#include <algorithm>

#include "kernels/ops.h"

namespace lenet::kernels {

namespace {

// Every entry of Ops, for op_origins (the static_assert below keeps the list complete).
#define LENET_OPS(X)                      \
    X(gemm)                               \
    X(gemm_single)                        \
    X(gemm_pack_a)                        \
    X(gemm_packed_a)                      \
    X(activate)                           \
    X(activate_single)                    \
    X(activation_gradient)                \
    X(activation_gradient_single)         \
    X(scale_add_bias)                     \
    X(bias_gradient)                      \
    X(bias_gradient_single)               \
    X(scale_gradient)                     \
    X(channel_mean_variance)              \
    X(normalize)                          \
    X(normalize_rolling)                  \
    X(update_rolling)                     \
    X(batchnorm_backward)                 \
    X(add)                                \
    X(copy)                               \
    X(im2col)                             \
    X(col2im_add)                         \
    X(maxpool_forward)                    \
    X(maxpool_backward_set)               \
    X(maxpool_backward_add)               \
    X(global_avgpool_forward)             \
    X(global_avgpool_backward_add)        \
    X(conv_maxpool_direct_fits)           \
    X(weights_taps_major)                 \
    X(conv_maxpool_direct)                \
    X(conv_direct_fits)                   \
    X(conv_direct)                        \
    X(pooled_weight_gradient)             \
    X(to_channels_last)                   \
    X(from_channels_last)                 \
    X(weights_to_channels_last)           \
    X(add_weights_from_channels_last)     \
    X(pooled_conv_backward_channels_last) \
    X(adam_update)                        \
    X(binarize_rows)                      \
    X(scale_rows)                         \
    X(binary_weight_gradient)             \
    X(sign)                               \
    X(sign_gradient_add)                  \
    X(input_scale_map)                    \
    X(input_scale_gradient)               \
    X(abs_mean)                           \
    X(abs_mean_gradient)                  \
    X(binary_output)                      \
    X(xnor_conv_scale_gradient)           \
    X(xnor_dense_scale_gradient)          \
    X(xnor_conv_workspace)                \
    X(xnor_conv)                          \
    X(xnor_conv_single)                   \
    X(xnor_conv_io)                       \
    X(maxpool_signs)                      \
    X(upsample_signs)                     \
    X(xnor_dense)                         \
    X(softmax)                            \
    X(multiply)                           \
    X(multiply_add)                       \
    X(copy_rows)                          \
    X(add_rows)                           \
    X(shortcut_forward)                   \
    X(shortcut_backward)                  \
    X(upsample_forward)                   \
    X(upsample_backward_add)              \
    X(softmax_backward_add)               \
    X(softmax_cross_entropy)              \
    X(yolo_forward)                       \
    X(yolo_loss)                          \
    X(yolo_decode)                        \
    X(core_peak_gflops)

#define LENET_COUNT(name) +1
static_assert(sizeof(Ops) == sizeof(const char*) + (0 LENET_OPS(LENET_COUNT)) * sizeof(void (*)()),
              "an Ops entry is missing from LENET_OPS");
#undef LENET_COUNT

template <class F>
const char* origin(F own, F reference) {
    return own == nullptr ? "none" : own == reference ? "reference" : "own";
}

}  // namespace

std::vector<OpOrigin> op_origins(const Ops& ops) {
    const Ops& reference = reference_ops();
    std::vector<OpOrigin> list;
#define LENET_ORIGIN(name) list.push_back({#name, origin(ops.name, reference.name)});
    LENET_OPS(LENET_ORIGIN)
#undef LENET_ORIGIN
    return list;
}

std::size_t xnor_conv_workspace_bytes(const ConvGeometry& g, const PackedFilters& filters) {
    return xnor_conv_pool_workspace_bytes(g, filters, 1);
}

std::size_t xnor_conv_pool_workspace_bytes(const ConvGeometry& g, const PackedFilters& /*filters*/, int threads) {
    std::size_t bytes = 0;
    for (const BackendInfo& row : built_backends())
        bytes = std::max(bytes, row.table().xnor_conv_workspace(g, threads));
    return bytes;
}

}  // namespace lenet::kernels
