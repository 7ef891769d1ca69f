// A stride-1 convolution with few taps (channels * size^2: a network's first layer on a 1- or
// 3-channel image), computed directly from a zero-padded copy of the rows it reads: no im2col, no
// GEMM packing. There im2col + GEMM move several times the output's bytes for little arithmetic
// (yolov3-tiny's first layer: 27 taps, 16 filters, 416x416: 4.7 ms on one core, memory-bound).
// Outputs are the convolution before bias and activation, rows [first_row, last_row) of every
// filter: out[f * filter_stride + (y - first_row) * out_w + x] (out_h * out_w for a whole output,
// or a block of rows), bit-identical to im2col + the table's GEMM: both sum each
// output in one FMA chain in tap order (taps stay below the GEMM's k block).
#pragma once
#include <cstddef>

#include "kernels/ops/im2col.h"

namespace lenet::kernels {

constexpr int kConvDirectMaxTaps = 32;

// The shapes a direct kernel may take (a table's conv_direct_fits says which of them its kernel
// takes): stride 1, taps <= kConvDirectMaxTaps, filters % 4 == 0, out_w >= 8.
bool conv_direct_fits(const ConvGeometry& g, int filters);
// Scratch for `rows` output rows: the padded input rows they read.
std::size_t conv_direct_scratch_floats(const ConvGeometry& g, int rows);

}  // namespace lenet::kernels
