// A convolution with filters in multiples of 8 and at most kConvPoolMaxTaps taps (channels *
// size^2), fused with the 2x2 stride-2 max pool after it, computed directly: no im2col, no GEMM
// packing, no convolution-output image. For each pooled output the four convolution outputs are
// summed in registers (8 filters per vector, one broadcast input per tap) and compared at once.
// With few taps a GEMM spends its time packing and writing C; with more, packing and im2col still
// cost it a fifth of the layer (measured on the seed LeNet's 128-tap second layer).
// Outputs are the pooled maxima before bias and activation (the layer adds those after the pool)
// and the pool's argmax (CHW indices into the convolution's output), as maxpool_forward gives them.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/ops/im2col.h"
#include "kernels/ops/pool.h"

namespace lenet::kernels {

struct Ops;

// Up to the AVX2 GEMM's k block, so both sum every output in one FMA chain (bit-identical results).
constexpr int kConvPoolMaxTaps = 256;

// The shapes a direct kernel may take (layers size its scratch for these; a table's
// conv_maxpool_direct_fits says which of them its kernel takes): taps <= kConvPoolMaxTaps,
// filters % 8 == 0, a 2x2 stride-2 pool whose windows tile the convolution's output exactly.
bool conv_maxpool_direct_fits(const ConvGeometry& g, int filters, const PoolGeometry& pool);
// Weights [filters][taps] -> [taps][filters], the layout the kernel reads.
void weights_taps_major(const float* weights, int filters, int taps, float* taps_major);
std::size_t conv_maxpool_direct_scratch_floats(const ConvGeometry& g, int filters);

// What every direct kernel must equal: im2col, the table's GEMM, max pool (the unfused layer).
// `columns` and `conv` are scratch of patch x spatial and filters x spatial floats.
void conv_maxpool_reference(const Ops& ops, const ConvGeometry& g, int filters, const PoolGeometry& pool,
                            const float* weights, const float* image, float* pooled, std::int32_t* argmax,
                            float* columns, float* conv);
}  // namespace lenet::kernels
