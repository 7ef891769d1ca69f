#include "kernels/ops/im2col.h"

#include <cstddef>

namespace lenet::kernels {

void im2col_reference(const ConvGeometry& g, const float* image, float* columns) {
    const int oh = g.out_h(), ow = g.out_w();
    for (int c = 0; c < g.channels; ++c) {
        const float* plane = image + std::size_t(c) * g.height * g.width;
        for (int ky = 0; ky < g.size; ++ky) {
            for (int kx = 0; kx < g.size; ++kx) {
                float* row = columns + (std::size_t(c * g.size + ky) * g.size + kx) * oh * ow;
                for (int y = 0; y < oh; ++y) {
                    const int iy = y * g.stride + ky - g.pad;
                    float* out = row + std::size_t(y) * ow;
                    if (iy < 0 || iy >= g.height) {
                        for (int x = 0; x < ow; ++x) out[x] = 0.0f;
                        continue;
                    }
                    const float* in = plane + std::size_t(iy) * g.width;
                    for (int x = 0; x < ow; ++x) {
                        const int ix = x * g.stride + kx - g.pad;
                        out[x] = (ix >= 0 && ix < g.width) ? in[ix] : 0.0f;
                    }
                }
            }
        }
    }
}

void col2im_add_reference(const ConvGeometry& g, const float* columns, float* image) {
    const int oh = g.out_h(), ow = g.out_w();
    for (int c = 0; c < g.channels; ++c) {
        float* plane = image + std::size_t(c) * g.height * g.width;
        for (int ky = 0; ky < g.size; ++ky) {
            for (int kx = 0; kx < g.size; ++kx) {
                const float* row = columns + (std::size_t(c * g.size + ky) * g.size + kx) * oh * ow;
                for (int y = 0; y < oh; ++y) {
                    const int iy = y * g.stride + ky - g.pad;
                    if (iy < 0 || iy >= g.height) continue;
                    float* out = plane + std::size_t(iy) * g.width;
                    const float* in = row + std::size_t(y) * ow;
                    for (int x = 0; x < ow; ++x) {
                        const int ix = x * g.stride + kx - g.pad;
                        if (ix >= 0 && ix < g.width) out[ix] += in[x];
                    }
                }
            }
        }
    }
}

}  // namespace lenet::kernels
