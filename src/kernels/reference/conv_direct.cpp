#include "kernels/ops/conv_direct.h"

namespace lenet::kernels {

bool conv_direct_fits(const ConvGeometry& g, int filters) {
    return g.stride == 1 && g.channels * g.size * g.size <= kConvDirectMaxTaps && filters % 4 == 0 && g.out_w() >= 8 &&
           g.out_h() >= 1;
}

std::size_t conv_direct_scratch_floats(const ConvGeometry& g, int rows) {
    return std::size_t(g.channels) * std::size_t(rows + g.size - 1) * std::size_t(g.width + 2 * g.pad);
}

}  // namespace lenet::kernels
