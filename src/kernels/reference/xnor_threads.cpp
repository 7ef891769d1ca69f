// The reference XNOR convolution as an op: the image packed once (HWC sign words), then output
// positions split between the threads (integer results: any thread count gives the same floats).
#include <algorithm>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/binary/xnor.h"
#include "kernels/parallel.h"

namespace lenet::kernels {

void check_packed_shape(const ConvGeometry& g, const PackedFilters& filters) {
    LENET_CHECK(filters.channels == g.channels && filters.size == g.size, "packed filters ", filters.channels, "x",
                filters.size, "x", filters.size, " for a ", g.channels, "-channel ", g.size, "x", g.size,
                " convolution");
}

std::size_t xnor_conv_workspace_reference(const ConvGeometry& g, int /*threads*/) {
    return pack_image_words(g) * sizeof(BitWord) + 64;
}

void xnor_conv_single_reference(const ConvGeometry& g, const PackedFilters& filters, const float* image, float* dots,
                                void* workspace) {
    check_packed_shape(g, filters);
    if (g.out_h() <= 0 || g.out_w() <= 0) return;
    auto* hwc = static_cast<BitWord*>(parallel::align64(workspace));
    pack_image_reference(g, image, filters.zero, hwc);
    xnor_conv_reference(g, filters, hwc, dots, 0, g.out_h() * g.out_w());
}

void xnor_conv_threads_reference(const Compute& compute, const ConvGeometry& g, const PackedFilters& filters,
                                 const float* image, float* dots, void* workspace) {
    if (!compute.pool || compute.pool->size() == 1)
        return xnor_conv_single_reference(g, filters, image, dots, workspace);
    check_packed_shape(g, filters);
    if (g.out_h() <= 0 || g.out_w() <= 0) return;
    auto* hwc = static_cast<BitWord*>(parallel::align64(workspace));
    pack_image_reference(g, image, filters.zero, hwc);
    const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(g.out_w());
    parallel::for_ranges(*compute.pool, spatial, kXnorPositionBlock,
                         [&](int first, int last, int) { xnor_conv_reference(g, filters, hwc, dots, first, last); });
}

void xnor_conv_io_reference(const Compute& compute, const ConvGeometry& g, const PackedFilters& filters,
                            const XnorConvIo& io, void* workspace) {
    check_packed_shape(g, filters);
    LENET_CHECK((io.image == nullptr) != (io.in_planes == nullptr) && (io.dots == nullptr) != (io.out_planes == nullptr),
                "xnor_conv_io: one input and one output");
    if (g.out_h() <= 0 || g.out_w() <= 0) return;
    auto* hwc = static_cast<BitWord*>(parallel::align64(workspace));
    if (io.image) pack_image_reference(g, io.image, filters.zero, hwc);
    else sign_planes_to_hwc_reference(g, io.in_planes, hwc);
    const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(g.out_w());
    const auto run = [&](int first, int last, int) {
        if (io.dots) xnor_conv_reference(g, filters, hwc, io.dots, first, last);
        else xnor_conv_signs_reference(g, filters, hwc, io.thresholds, io.out_planes, first, last);
    };
    if (!compute.pool || compute.pool->size() == 1) return run(0, int(spatial), 0);
    parallel::for_ranges(*compute.pool, spatial, kXnorPositionBlock, run);
}

std::size_t xnor_dense_workspace_bytes(const PackedRows& rows, int batch) {
    return std::size_t(std::max(batch, 1)) * std::size_t(rows.row_words) * sizeof(BitWord) + 64;
}

}  // namespace lenet::kernels
