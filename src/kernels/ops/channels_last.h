// Backward of a convolution whose output went through a max pool, in channels-last (HWC) layout.
// Only each window's winner receives gradient; in HWC a filter's window at output position q is
// `size` contiguous runs of size*channels floats (one per window row), and with the weights stored
// per filter as [ky][kx][c] the same runs line up. So one pooled output's terms are
//   weight_grad[f][ky][..] += delta * image[window row ky of q][..]     (the weight gradient)
//   image_grad[window row ky of q][..] += delta * weights[f][ky][..]    (the input gradient)
// whole vectors, with no im2col, no dense convolution-output gradient and no col2im. Images are
// stored with their zero padding ((h + 2 pad) x (w + 2 pad) x c), so windows never need clipping.
// argmax holds the pool's winners as indices into the convolution's output (f * spatial + q; -1:
// no winner, no term), delta the pooled-output gradient [filters x pooled].
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/backend.h"
#include "kernels/ops/im2col.h"

namespace lenet::kernels {

// Floats of one padded channels-last image of g's input.
std::size_t channels_last_floats(const ConvGeometry& g);
// chw [c x h x w] -> hwc [(h + 2 pad) x (w + 2 pad) x c], the border zero.
void to_channels_last_reference(const ConvGeometry& g, const float* chw, float* hwc);
void from_channels_last_reference(const ConvGeometry& g, const float* hwc, float* chw);
// Weights [f][c][ky][kx] <-> [f][ky][kx][c]; the way back adds.
void weights_to_channels_last(const ConvGeometry& g, int filters, const float* weights, float* hwc_weights);
void add_weights_from_channels_last(const ConvGeometry& g, int filters, const float* hwc_weights, float* weights);

struct PooledConvShape {
    ConvGeometry conv;
    int filters, pooled;
};

// Reference kernel (the truth): for each filter, the pooled outputs in order. weight_grad (hwc
// weight order) is added to; image_grad (padded hwc) is added to, or skipped when null.
void pooled_conv_backward_channels_last_reference(const PooledConvShape& s, const float* delta,
                                                  const std::int32_t* argmax, const float* image,
                                                  const float* weights, float* weight_grad, float* image_grad);
// Scratch floats a backend's kernel may use.
std::size_t pooled_conv_scratch_floats(const PooledConvShape& s);

}  // namespace lenet::kernels
