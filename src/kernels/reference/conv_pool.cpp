#include "kernels/ops/conv_pool.h"

#include "kernels/ops.h"

namespace lenet::kernels {

bool conv_maxpool_direct_fits(const ConvGeometry& g, int filters, const PoolGeometry& pool) {
    const int taps = g.channels * g.size * g.size;
    return taps <= kConvPoolMaxTaps && filters % 8 == 0 && pool.size == 2 && pool.stride == 2 &&
           pool.padding <= 1 && g.out_h() % 2 == 0 && g.out_w() % 2 == 0 && pool.channels == filters &&
           pool.height == g.out_h() && pool.width == g.out_w();
}

void weights_taps_major(const float* weights, int filters, int taps, float* taps_major) {
    for (int f = 0; f < filters; ++f)
        for (int t = 0; t < taps; ++t) taps_major[std::size_t(t) * filters + f] = weights[std::size_t(f) * taps + t];
}

std::size_t conv_maxpool_direct_scratch_floats(const ConvGeometry& g, int filters) {
    const std::size_t padded = std::size_t(g.channels) * (g.height + 2 * g.pad) * (g.width + 2 * g.pad);
    const std::size_t pooled = std::size_t(g.out_h() / 2) * std::size_t(g.out_w() / 2) * std::size_t(filters);
    return padded + 2 * pooled;
}

void conv_maxpool_reference(const Ops& ops, const ConvGeometry& g, int filters, const PoolGeometry& pool,
                            const float* weights, const float* image, float* pooled, std::int32_t* argmax,
                            float* columns, float* conv) {
    const int patch = g.channels * g.size * g.size, spatial = g.out_h() * g.out_w();
    ops.im2col(g, image, columns);
    ops.gemm_single({false, false, filters, spatial, patch, 1.0f, weights, patch, columns, spatial, 0.0f, conv,
                          spatial});
    ops.maxpool_forward(pool, 1, conv, pooled, argmax);
}

}  // namespace lenet::kernels
