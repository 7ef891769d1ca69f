// The cuda backend's kernels, with the signatures of their Ops entries (kernels/ops.h): every
// pointer addresses memory the device can read (managed, device, or host memory under HMM), and
// each op has finished when it returns (runtime.h: finish). Semantics are the reference kernels'.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/binary/xnor.h"
#include "kernels/gemm/gemm.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/adam.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops/im2col.h"
#include "kernels/ops/pool.h"

namespace lenet::kernels::cuda {

// gemm.cpp: cuBLAS sgemm, row-major GemmArgs.
void gemm(const GemmArgs& args);

// elementwise.cu
void activate(Activation activation, float* x, std::size_t n);
void activation_gradient(Activation activation, const float* y, float* delta, std::size_t n);
void add(const float* src, std::size_t n, float* dst);
void copy(const float* src, std::size_t n, float* dst);
void multiply(const float* src, const float* factor, std::size_t n, float* dst);
void multiply_add(const float* src, const float* factor, std::size_t n, float* dst);
void adam_update(const AdamArgs& args, float* value, float* grad, float* m, float* v, std::size_t n);

// batchnorm.cu
void scale_add_bias(float* x, const float* scales, const float* biases, int batch, int channels, int spatial);
void bias_gradient(const float* delta, int batch, int channels, int spatial, float* grad);
void scale_gradient(const float* delta, const float* x_norm, int batch, int channels, int spatial, float* grad);
void channel_mean_variance(const float* x, int batch, int channels, int spatial, float* mean, float* variance);
void normalize(const float* x, const float* mean, const float* variance, int batch, int channels, int spatial,
               float* out);
void normalize_rolling(const float* x, const float* mean, const float* variance, int batch, int channels, int spatial,
                       float* out);
void update_rolling(const float* mean, const float* variance, int channels, int samples_per_channel,
                    float* rolling_mean, float* rolling_variance);
void batchnorm_backward(float* delta, const float* x_norm, const float* scales, const float* variance, int batch,
                        int channels, int spatial);

// im2col_pool.cu
void im2col(const ConvGeometry& g, const float* image, float* columns);
void col2im_add(const ConvGeometry& g, const float* columns, float* image);
void maxpool_forward(const PoolGeometry& g, int batch, const float* in, float* out, std::int32_t* argmax);
void maxpool_backward_set(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax,
                          float* in_grad);
void maxpool_backward_add(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax,
                          float* in_grad);

// xnor.cu: sign packing (bit layouts of binary/xnor.h) and the __popcll kernels. The filters'
// and rows' bits are host vectors: they are copied to a device scratch per call.
void pack_signs(const float* x, std::size_t n, ZeroSign zero, BitWord* bits);
void pack_image(const ConvGeometry& g, const float* image, ZeroSign zero, BitWord* hwc);
std::size_t xnor_conv_workspace(const ConvGeometry& g, int threads);
void xnor_conv(const ConvGeometry& g, const PackedFilters& filters, const float* image, float* dots, void* workspace);
void xnor_dense(const PackedRows& rows, const float* input, int batch, float* dots, void* workspace);

}  // namespace lenet::kernels::cuda
