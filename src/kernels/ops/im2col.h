// im2col / col2im for one image (CHW). The column matrix has one row per (channel, ky, kx) and one
// column per output position: [c*size*size] x [out_h*out_w], row-major. Positions in the zero
// padding read as 0 (im2col) and are dropped (col2im).
#pragma once
#include "kernels/backend.h"

namespace lenet::kernels {

struct ConvGeometry {
    int channels, height, width;  // input
    int size, stride, pad;
    int out_h() const { return (height + 2 * pad - size) / stride + 1; }
    int out_w() const { return (width + 2 * pad - size) / stride + 1; }
};

// Reference kernels (the truth).
void im2col_reference(const ConvGeometry& g, const float* image, float* columns);
// Adds the columns back into image (image += col2im(columns)).
void col2im_add_reference(const ConvGeometry& g, const float* columns, float* image);

}  // namespace lenet::kernels
