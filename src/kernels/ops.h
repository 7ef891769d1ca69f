// One table of kernels per backend (ggml's backend interface, XNNPACK's per-op configs): every op a
// layer, the optimizer or a command runs is a function pointer here. A backend is one folder
// (src/kernels/<name>/) whose table.cpp fills an Ops in one place, starting from the reference
// table, so an op it lacks runs the reference kernel (`lenet bench` lists which). The network
// binds one table when it is built; layers call ops only through it and never name an ISA.
//
// Ops taking a Compute run over the whole batch and may split the work over compute.pool (each
// backend decides; the reference stays single-threaded except for the GEMM); `_single` ops run on
// the calling thread only, for callers already running one task per thread. The semantics of each
// op are those of the reference kernel declared in the header named beside it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "kernels/binary/xnor.h"
#include "kernels/gemm/gemm.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/adam.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops/binarize.h"
#include "kernels/ops/channels_last.h"
#include "kernels/ops/conv_direct.h"
#include "kernels/ops/conv_pool.h"
#include "kernels/ops/graph.h"
#include "kernels/ops/im2col.h"
#include "kernels/ops/pool.h"
#include "kernels/ops/pooled_gradient.h"
#include "kernels/ops/sign_planes.h"
#include "kernels/ops/yolo.h"

namespace lenet {
class TensorMemory;
}

namespace lenet::kernels {

struct Ops {
    const char* name;  // "reference", "avx2": what -backend takes

    // gemm/gemm.h
    void (*gemm)(const Compute&, const GemmArgs&);
    void (*gemm_single)(const GemmArgs&);
    void (*gemm_pack_a)(const float* a, int m, int k, int lda, PackedGemmA& packed);
    void (*gemm_packed_a)(const Compute&, const PackedGemmA& a, const GemmArgs& args);

    // ops/activation.h
    void (*activate)(const Compute&, Activation, float* x, std::size_t n);
    void (*activate_single)(Activation, float* x, std::size_t n);
    void (*activation_gradient)(const Compute&, Activation, const float* y, float* delta, std::size_t n);
    void (*activation_gradient_single)(Activation, const float* y, float* delta, std::size_t n);

    // ops/batchnorm.h
    void (*scale_add_bias)(float* x, const float* scales, const float* biases, int batch, int channels, int spatial);
    void (*bias_gradient)(const Compute&, const float* delta, int batch, int channels, int spatial, float* grad);
    void (*bias_gradient_single)(const float* delta, int batch, int channels, int spatial, float* grad);
    void (*scale_gradient)(const Compute&, const float* delta, const float* x_norm, int batch, int channels,
                           int spatial, float* grad);
    void (*channel_mean_variance)(const float* x, int batch, int channels, int spatial, float* mean, float* variance);
    void (*normalize)(const float* x, const float* mean, const float* variance, int batch, int channels, int spatial,
                      float* out);
    void (*normalize_rolling)(const float* x, const float* mean, const float* variance, int batch, int channels,
                              int spatial, float* out);
    void (*update_rolling)(const float* mean, const float* variance, int channels, int samples_per_channel,
                           float* rolling_mean, float* rolling_variance);
    void (*batchnorm_backward)(float* delta, const float* x_norm, const float* scales, const float* variance, int batch,
                               int channels, int spatial);
    // dst[i] += src[i] (per-thread gradient sums reduced in a fixed order, pass-through gradients).
    void (*add)(const float* src, std::size_t n, float* dst);
    // dst[i] = src[i] (a layer's output copied from its normalized values or its input).
    void (*copy)(const float* src, std::size_t n, float* dst);

    // ops/im2col.h
    void (*im2col)(const ConvGeometry& g, const float* image, float* columns);
    void (*col2im_add)(const ConvGeometry& g, const float* columns, float* image);

    // ops/pool.h
    void (*maxpool_forward)(const PoolGeometry& g, int batch, const float* in, float* out, std::int32_t* argmax);
    void (*maxpool_backward_set)(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax,
                                 float* in_grad);
    void (*maxpool_backward_add)(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax,
                                 float* in_grad);
    void (*global_avgpool_forward)(int batch, int channels, int spatial, const float* in, float* out);
    void (*global_avgpool_backward_add)(int batch, int channels, int spatial, const float* delta, float* in_grad);

    // ops/conv_pool.h: a direct convolution + 2x2 max pool. Whether the backend's kernel takes the
    // shape (the reference has no direct kernel and takes none: layers then run im2col + GEMM +
    // pool, which is what the direct kernel must equal).
    bool (*conv_maxpool_direct_fits)(const ConvGeometry& g, int filters, const PoolGeometry& pool);
    void (*weights_taps_major)(const float* weights, int filters, int taps, float* taps_major);
    void (*conv_maxpool_direct)(const ConvGeometry& g, int filters, const float* taps_major, const float* image,
                                float* pooled, std::int32_t* argmax, float* scratch);

    // ops/conv_direct.h: a direct stride-1 convolution with few taps. Whether the backend's kernel
    // takes the shape (the reference takes none: layers then run im2col + GEMM, which the kernel
    // must equal bit for bit).
    bool (*conv_direct_fits)(const ConvGeometry& g, int filters);
    void (*conv_direct)(const ConvGeometry& g, int filters, const float* weights, const float* image, int first_row,
                        int last_row, float* out, std::size_t filter_stride, float* scratch);

    // ops/pooled_gradient.h
    void (*pooled_weight_gradient)(const PooledGradientShape& s, const float* delta, const std::int32_t* argmax,
                                   const float* columns, float* grad, float* scratch);
    // ops/channels_last.h
    void (*to_channels_last)(const ConvGeometry& g, const float* chw, float* hwc);
    void (*from_channels_last)(const ConvGeometry& g, const float* hwc, float* chw);
    void (*weights_to_channels_last)(const ConvGeometry& g, int filters, const float* weights, float* hwc_weights);
    void (*add_weights_from_channels_last)(const ConvGeometry& g, int filters, const float* hwc_weights,
                                           float* weights);
    void (*pooled_conv_backward_channels_last)(const PooledConvShape& s, const float* delta, const std::int32_t* argmax,
                                               const float* image, const float* weights, float* weight_grad,
                                               float* image_grad, float* scratch);

    // ops/adam.h
    void (*adam_update)(const AdamArgs& args, float* value, float* grad, float* m, float* v, std::size_t n);

    // ops/binarize.h
    void (*binarize_rows)(const float* w, int rows, int n, ZeroSign zero, float* signs, float* alpha);
    void (*scale_rows)(const float* signs, const float* alpha, int rows, int n, float* effective);
    void (*binary_weight_gradient)(const float* w, const float* alpha, const float* g, int rows, int n, ZeroSign zero,
                                   float* grad);
    void (*sign)(const float* x, std::size_t n, ZeroSign zero, float* out);
    void (*sign_gradient_add)(const float* x, const float* g, std::size_t n, float* dx);
    void (*input_scale_map)(const ConvGeometry& g, const float* image, float* abs_mean, float* k);
    void (*input_scale_gradient)(const ConvGeometry& g, const float* image, const float* dk, float* abs_mean_grad,
                                 float* dx);
    float (*abs_mean)(const float* x, std::size_t n);
    void (*abs_mean_gradient)(const float* x, std::size_t n, float dbeta, float* dx);
    void (*binary_output)(const BinaryOutput& o, const float* dots, float* out);
    void (*xnor_conv_scale_gradient)(int filters, int positions, const float* alpha, const float* dots, const float* k,
                                     float* delta, float* k_grad);
    void (*xnor_dense_scale_gradient)(int batch, int outputs, const float* alpha, const float* dots, const float* betas,
                                      float* delta, float* beta_grad);

    // binary/xnor.h: bit-packed XNOR kernels. Workspace sizes are per backend (the layers size
    // theirs for every backend built: xnor_conv_workspace_bytes in xnor.h).
    std::size_t (*xnor_conv_workspace)(const ConvGeometry& g, int threads);
    void (*xnor_conv)(const Compute&, const ConvGeometry& g, const PackedFilters& filters, const float* image,
                      float* dots, void* workspace);
    void (*xnor_conv_single)(const ConvGeometry& g, const PackedFilters& filters, const float* image, float* dots,
                             void* workspace);
    void (*xnor_dense)(const Compute&, const PackedRows& rows, const float* input, int batch, float* dots,
                       void* workspace);
    // xnor_conv with a float image or sign planes in, dots or sign planes out (XnorConvIo).
    void (*xnor_conv_io)(const Compute&, const ConvGeometry& g, const PackedFilters& filters, const XnorConvIo& io,
                         void* workspace);

    // ops/sign_planes.h: bit-packed activations between binary layers.
    void (*maxpool_signs)(const PoolGeometry& g, const std::uint8_t* and_bits, const std::uint8_t* in,
                          std::uint8_t* out);
    void (*upsample_signs)(const UpsampleGeometry& g, std::size_t planes, const std::uint8_t* in, std::uint8_t* out);

    // Elementwise loops layers used to run themselves (ops/activation.h).
    void (*softmax)(const float* x, int groups, int group_size, float temperature, float* y);
    void (*multiply)(const float* src, const float* factor, std::size_t n, float* dst);
    void (*multiply_add)(const float* src, const float* factor, std::size_t n, float* dst);

    // ops/graph.h: [route], [shortcut], [upsample] and the softmax loss.
    void (*copy_rows)(int rows, std::size_t count, const float* src, std::size_t src_stride, float* dst,
                      std::size_t dst_stride);
    void (*add_rows)(int rows, std::size_t count, const float* src, std::size_t src_stride, float* dst,
                     std::size_t dst_stride);
    void (*shortcut_forward)(const ShortcutGeometry& g, int batch, float alpha, const float* previous, float beta,
                             const float* from, float* out);
    void (*shortcut_backward)(const ShortcutGeometry& g, int batch, float alpha, float beta, const float* delta,
                              float* previous_grad, float* from_grad);
    void (*upsample_forward)(const Compute&, const UpsampleGeometry& g, std::size_t planes, const float* in,
                             float* out);
    void (*upsample_backward_add)(const Compute&, const UpsampleGeometry& g, std::size_t planes, const float* delta,
                                  float* in_grad);
    void (*softmax_backward_add)(const float* delta, std::size_t n, float temperature, float* in_grad);
    float (*softmax_cross_entropy)(const float* p, const int* labels, int batch, int classes, float grad_scale,
                                   float* grad);

    // ops/yolo.h: [yolo]'s logistic, Darknet's loss, decoding to candidates.
    void (*yolo_forward)(const YoloGeometry& g, int batch, const float* in, float* out);
    float (*yolo_loss)(const YoloLoss& l, const float* output, int batch, const std::vector<detect::Truth>* truths,
                       float grad_scale, float* grad);
    void (*yolo_decode)(const YoloLoss& l, const float* output, float thresh, std::vector<detect::Detection>& out);

    // One core's float peak in GFLOP/s with this backend's widest vectors (for `lenet bench`).
    double (*core_peak_gflops)();
};

// The backends this build has, the reference first; each row of src/kernels/backends.cpp.
struct BackendInfo {
    const char* name;
    bool (*available)();  // whether this machine runs it (CPU features, a CUDA device)
    const Ops& (*table)();
    // Where the network's tensors live when this table is bound (the host heap for CPU backends).
    const TensorMemory& (*memory)();
};
const std::vector<BackendInfo>& built_backends();
// The CPU tables this machine can run, the reference first (what "auto" and the CPU tests pick
// from; a device backend is chosen by name only).
std::vector<const Ops*> available_backends();
// The memory the network's tensors come from when `ops` is bound.
const TensorMemory& tensor_memory(const Ops& ops);
const Ops& reference_ops();
// The fastest available table (the last available row).
const Ops& best_ops();
// The named table; null when this build has no such backend.
const Ops* find_ops(std::string_view name);

// Per op: its name and whether `ops` holds the reference's kernel for it ("reference"), its own
// ("own") or none ("none": the op is optional and the backend has no kernel for it).
struct OpOrigin {
    const char* op;
    const char* origin;
};
std::vector<OpOrigin> op_origins(const Ops& ops);

}  // namespace lenet::kernels
