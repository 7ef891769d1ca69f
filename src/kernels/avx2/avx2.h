// The AVX2/FMA kernels, compiled with -mavx2 -mfma (every .cpp in this folder but table.cpp) and
// reached only through the avx2 table (table.cpp), which is chosen at run time when the CPU has
// both. Each says how it relates to the reference kernel it replaces.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/binary/xnor.h"
#include "kernels/gemm/gemm.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/adam.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops/channels_last.h"
#include "kernels/ops/conv_pool.h"
#include "kernels/ops/im2col.h"
#include "kernels/ops/pool.h"
#include "kernels/ops/pooled_gradient.h"

namespace lenet::kernels {

// Single-threaded 6x16 micro-kernel GEMM with packing.
void gemm_avx2(const GemmArgs& args);
// A packed once in gemm_avx2's blocks (PackedGemmA), and the product with it over A's row blocks
// [first_block, last_block) and C's columns [first_column, last_column).
void gemm_pack_a_avx2(const float* a, int m, int k, int lda, PackedGemmA& packed);
int gemm_packed_a_row_blocks_avx2(const PackedGemmA& a);
void gemm_packed_a_part_avx2(const PackedGemmA& a, const GemmArgs& args, int first_block, int last_block,
                             int first_column, int last_column);

// Bit-identical to the reference (the same float operations, lane by lane; logistic and tanh
// forward call the same scalar libm functions).
void activate_avx2(Activation activation, float* x, std::size_t n);
void activation_gradient_avx2(Activation activation, const float* y, float* delta, std::size_t n);

// Bit-identical to the reference (the same float operations in the same order, no FMA).
void adam_update_avx2(const AdamArgs& args, float* value, float* grad, float* m, float* v, std::size_t n);

// Bit-identical (a multiply rounded before the add, as the reference; none without scales).
void scale_add_bias_avx2(float* x, const float* scales, const float* biases, int batch, int channels, int spatial);
// For channels [first, last) only (so threads can share the channels out). spatial == 1
// (connected layers) is bit-identical to the reference; otherwise each channel is summed in 8-lane
// partial sums (scale_gradient with FMA), which differs from the reference by rounding only.
void bias_gradient_avx2(const float* delta, int batch, int channels, int spatial, int first, int last, float* grad);
void scale_gradient_avx2(const float* delta, const float* x_norm, int batch, int channels, int spatial, int first,
                         int last, float* grad);

// Stride 1 only: each output row is a zero-filled border around one contiguous copy (or add) of an
// image row. Bit-identical to the reference (col2im adds in the reference's order).
void im2col_s1_avx2(const ConvGeometry& g, const float* image, float* columns);
void col2im_add_s1_avx2(const ConvGeometry& g, const float* columns, float* image);

// For is_maxpool_2x2s2 geometries only; bit-identical to the reference (outputs, argmax and
// tie-breaking). The backward add has no fast variant: the reference's scatter of one add per
// output is already cheaper than a vector gather over every input.
void maxpool_2x2s2_avx2(const PoolGeometry& g, int batch, const float* in, float* out, std::int32_t* argmax);
// kernels/ops/conv_direct.h, for conv_direct_fits shapes.
void conv_direct_avx2(const ConvGeometry& g, int filters, const float* weights, const float* image, int first_row,
                      int last_row, float* out, std::size_t filter_stride, float* scratch);

// For is_maxpool_2x2s1 geometries only (yolov3-tiny's size=2 stride=1 pool); bit-identical to the
// reference.
void maxpool_2x2s1_avx2(const PoolGeometry& g, int batch, const float* in, float* out, std::int32_t* argmax);
void maxpool_2x2s2_backward_set_avx2(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax,
                                     float* in_grad);

// For conv_maxpool_direct_fits shapes only. Every tap is one FMA in the order of the im2col rows
// from a zero accumulator, as the AVX2 GEMM sums them, so the outputs equal im2col + gemm_avx2 +
// max pool bit for bit. argmax may be null (inference): the winners are then not tracked.
void conv_maxpool_direct_avx2(const ConvGeometry& g, int filters, const float* taps_major, const float* image,
                              float* pooled, std::int32_t* argmax, float* scratch);

// Columns transposed into scratch first (a row of patch values per output position, padded to a
// multiple of 8), then 8-lane rows scaled and summed; terms with delta 0 are skipped. The sum's
// order differs from the reference (a few partial sums per weight): rounding differences only.
void pooled_weight_gradient_avx2(const PooledGradientShape& s, const float* delta, const std::int32_t* argmax,
                                 const float* columns, float* grad, float* scratch);

// Channels a multiple of 8 only. Terms with delta 0 are skipped; FMA: rounding differences from the
// reference only.
void pooled_conv_backward_channels_last_avx2(const PooledConvShape& s, const float* delta, const std::int32_t* argmax,
                                             const float* image, const float* weights, float* weight_grad,
                                             float* image_grad, float* scratch);
void to_channels_last_avx2(const ConvGeometry& g, const float* chw, float* hwc);
void from_channels_last_avx2(const ConvGeometry& g, const float* hwc, float* chw);

// XNOR building blocks.
void pack_signs_avx2(const float* x, std::size_t n, ZeroSign zero, BitWord* bits);
std::uint64_t xor_popcount_avx2(const BitWord* a, const BitWord* b, std::size_t words);
// The AVX2 convolution reads the image as byte planes of sign nibbles (xnor_pack_planes_avx2, shared
// by all threads), then each thread counts its output positions with a small scratch of its own.
// Both 64-byte aligned; the sizes are multiples of 64.
std::size_t xnor_conv_planes_bytes_avx2(const ConvGeometry& g);
std::size_t xnor_conv_scratch_bytes_avx2(const ConvGeometry& g);
// Steps [first_step, last_step) of 8 channels, s(0) by `zero`.
void xnor_pack_planes_avx2(const ConvGeometry& g, const float* image, ZeroSign zero, std::uint8_t* planes,
                           int first_step, int last_step);
// Output positions [first_position, last_position) of one image, filter quads [first_quad,
// last_quad) (all by default), on the calling thread.
void xnor_conv_planes_avx2(const ConvGeometry& g, const PackedFilters& filters, const std::uint8_t* planes, float* dots,
                           void* scratch, int first_position, int last_position, int first_quad = 0,
                           int last_quad = 1 << 30);
// The same planes from sign planes (ops/sign_planes.h): steps [first_step, last_step).
void xnor_unpack_sign_planes_avx2(const ConvGeometry& g, const std::uint8_t* sign_planes, std::uint8_t* planes,
                                  int first_step, int last_step);
// As xnor_conv_planes_avx2, the output as sign planes by thresholds.
void xnor_conv_planes_signs_avx2(const ConvGeometry& g, const PackedFilters& filters, const std::uint8_t* planes,
                                 const SignThresholds& thresholds, std::uint8_t* out_planes, void* scratch,
                                 int first_position, int last_position, int first_quad = 0, int last_quad = 1 << 30);
// Sign planes (ops/sign_planes.h).
void maxpool_signs_2x2s2_avx2(const PoolGeometry& g, const std::uint8_t* and_bits, const std::uint8_t* in,
                              std::uint8_t* out);
void maxpool_signs_2x2s1_avx2(const PoolGeometry& g, const std::uint8_t* and_bits, const std::uint8_t* in,
                              std::uint8_t* out);
void upsample_signs_2x_avx2(const UpsampleGeometry& g, std::size_t planes, const std::uint8_t* in, std::uint8_t* out);
// The AVX2 convolution covers g if its per-filter popcount fits 16 bits.
bool xnor_conv_avx2_covers(const ConvGeometry& g);
void xnor_dense_avx2(const PackedRows& rows, const BitWord* packed_input, int batch, float* dots, int first_row,
                     int last_row);

double measure_core_peak_gflops_avx2();

}  // namespace lenet::kernels
