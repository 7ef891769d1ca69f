// The NEON kernels of 64-bit ARM (AArch64, where Advanced SIMD is part of the base architecture),
// reached only through the neon table (table.cpp). 32-bit ARM builds leave this folder out and run
// the reference kernels (ARMv7 NEON lacks the by-lane FMA, the across-vector adds and the 32
// vector registers these kernels are written for). Each says how it relates to the reference
// kernel it replaces; float kernels are bit-identical unless said (lenet_core is built with
// -ffp-contract=off off x86, so neither side fuses a multiply and an add unasked).
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

namespace lenet::kernels {

// Single-threaded 8x12 micro-kernel GEMM with packing (24 accumulators of the 32 q registers).
// FMA and a different summation order: within rounding of the reference.
void gemm_neon(const GemmArgs& args);

// Bit-identical to the reference (logistic and tanh forward call the same scalar libm functions).
void activate_neon(Activation activation, float* x, std::size_t n);
void activation_gradient_neon(Activation activation, const float* y, float* delta, std::size_t n);

// Bit-identical to the reference (the same operations in the same order, no FMA).
void adam_update_neon(const AdamArgs& args, float* value, float* grad, float* m, float* v, std::size_t n);

// Bit-identical (the multiply rounded before the add, as the reference).
void scale_add_bias_neon(float* x, const float* scales, const float* biases, int batch, int channels, int spatial);

// Stride 1 only; bit-identical to the reference (col2im adds in the reference's order).
void im2col_s1_neon(const ConvGeometry& g, const float* image, float* columns);
void col2im_add_s1_neon(const ConvGeometry& g, const float* columns, float* image);

// For is_maxpool_2x2s2 geometries only; bit-identical to the reference (outputs, argmax, ties, NaN).
void maxpool_2x2s2_neon(const PoolGeometry& g, int batch, const float* in, float* out, std::int32_t* argmax);

// For conv_maxpool_direct_fits shapes only: every tap one FMA in the im2col rows' order from zero,
// as gemm_neon sums them, so the outputs equal im2col + gemm_neon + max pool bit for bit. argmax
// may be null (inference).
void conv_maxpool_direct_neon(const ConvGeometry& g, int filters, const float* taps_major, const float* image,
                              float* pooled, std::int32_t* argmax, float* scratch);

// Channels-last pooled convolution backward (ops/channels_last.h), channels in multiples of 4:
// FMA and the terms summed in registers, so within rounding of the reference.
void pooled_conv_backward_channels_last_neon(const PooledConvShape& s, const float* delta, const std::int32_t* argmax,
                                             const float* image, const float* weights, float* weight_grad,
                                             float* image_grad, float* scratch);

// XNOR: sign packing (4 lanes compared at a time, the masks narrowed to bits) and the popcount of
// XORed words (vcntq_u8, widened by pairwise accumulation: vpadalq_u8 into 16-bit lanes, vpadalq_u16
// into 32-bit ones). Integer results: identical to the reference.
void pack_signs_neon(const float* x, std::size_t n, ZeroSign zero, BitWord* bits);
std::uint64_t xor_popcount_neon(const BitWord* a, const BitWord* b, std::size_t words);
void pack_image_neon(const ConvGeometry& g, const float* image, ZeroSign zero, BitWord* hwc);
// The reference's walk over output positions [first_position, last_position), each filter's window
// counted one image row at a time (a row of in-image taps is one contiguous run of words on both
// sides), four filters per pass over the image words.
void xnor_conv_neon(const ConvGeometry& g, const PackedFilters& filters, const BitWord* hwc, float* dots,
                    int first_position, int last_position);
void xnor_dense_neon(const PackedRows& rows, const BitWord* packed_input, int batch, float* dots, int first_row,
                     int last_row);

double measure_core_peak_gflops_neon();

}  // namespace lenet::kernels
