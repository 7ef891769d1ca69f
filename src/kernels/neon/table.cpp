// The NEON backend's table (AArch64), filled in this one place: the reference table with the ops
// this folder has kernels for replaced. Where a kernel covers only some shapes, its entry checks
// the shape and hands the rest to the reference kernel.
#include <algorithm>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/neon/neon.h"
#include "kernels/ops.h"
#include "kernels/parallel.h"

namespace lenet::kernels {

// Advanced SIMD is part of the AArch64 base architecture.
bool neon_available() { return true; }

namespace {

void im2col(const ConvGeometry& g, const float* image, float* columns) {
    if (g.stride == 1) return im2col_s1_neon(g, image, columns);
    im2col_reference(g, image, columns);
}
void col2im_add(const ConvGeometry& g, const float* columns, float* image) {
    if (g.stride == 1) return col2im_add_s1_neon(g, columns, image);
    col2im_add_reference(g, columns, image);
}

void maxpool_forward(const PoolGeometry& g, int batch, const float* in, float* out, std::int32_t* argmax) {
    if (is_maxpool_2x2s2(g)) return maxpool_2x2s2_neon(g, batch, in, out, argmax);
    maxpool_forward_reference(g, batch, in, out, argmax);
}

void pooled_conv_backward(const PooledConvShape& s, const float* delta, const std::int32_t* argmax, const float* image,
                          const float* weights, float* weight_grad, float* image_grad, float* scratch) {
    if (s.conv.channels % 4 == 0)
        return pooled_conv_backward_channels_last_neon(s, delta, argmax, image, weights, weight_grad, image_grad,
                                                       scratch);
    pooled_conv_backward_channels_last_reference(s, delta, argmax, image, weights, weight_grad, image_grad);
}

// The XNOR convolution in the reference's layout (HWC sign words, the reference's workspace): the
// image packed once on the calling thread, then output positions split between the threads.
void xnor_conv_single(const ConvGeometry& g, const PackedFilters& filters, const float* image, float* dots,
                      void* workspace) {
    check_packed_shape(g, filters);
    if (g.out_h() <= 0 || g.out_w() <= 0) return;
    auto* hwc = static_cast<BitWord*>(parallel::align64(workspace));
    pack_image_neon(g, image, filters.zero, hwc);
    xnor_conv_neon(g, filters, hwc, dots, 0, g.out_h() * g.out_w());
}

void xnor_conv(const Compute& compute, const ConvGeometry& g, const PackedFilters& filters, const float* image,
               float* dots, void* workspace) {
    if (!compute.pool || compute.pool->size() == 1) return xnor_conv_single(g, filters, image, dots, workspace);
    check_packed_shape(g, filters);
    if (g.out_h() <= 0 || g.out_w() <= 0) return;
    auto* hwc = static_cast<BitWord*>(parallel::align64(workspace));
    pack_image_neon(g, image, filters.zero, hwc);
    const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(g.out_w());
    parallel::for_ranges(*compute.pool, spatial, kXnorPositionBlock,
                         [&](int first, int last, int) { xnor_conv_neon(g, filters, hwc, dots, first, last); });
}

// A packed once is the reference's layout (A as it is); the products run this table's GEMM, so they
// equal gemm's bit for bit.
void gemm_packed_a(const Compute& compute, const PackedGemmA& a, const GemmArgs& args) {
    LENET_CHECK(!args.trans_a && args.alpha == 1.0f && args.m == a.m && args.k == a.k, "gemm_packed_a: a ", a.m, "x", a.k,
                " A for a ", args.m, "x", args.k, " product");
    GemmArgs g = args;
    g.a = a.data.data();
    g.lda = a.k;
    parallel::gemm<gemm_neon>(compute, g);
}

Ops make_table() {
    Ops t = reference_ops();
    t.name = "neon";
    t.gemm_pack_a = gemm_pack_a_reference;
    t.gemm_packed_a = gemm_packed_a;
    t.gemm = parallel::gemm<gemm_neon>;
    t.gemm_single = parallel::gemm_single<gemm_neon>;
    t.activate = parallel::activate<activate_neon>;
    t.activate_single = activate_neon;
    t.activation_gradient = parallel::activation_gradient<activation_gradient_neon>;
    t.activation_gradient_single = activation_gradient_neon;
    t.scale_add_bias = scale_add_bias_neon;
    t.im2col = im2col;
    t.col2im_add = col2im_add;
    t.maxpool_forward = maxpool_forward;
    t.conv_maxpool_direct_fits = conv_maxpool_direct_fits;
    t.conv_maxpool_direct = conv_maxpool_direct_neon;
    t.adam_update = adam_update_neon;
    t.pooled_conv_backward_channels_last = pooled_conv_backward;
    t.xnor_conv = xnor_conv;
    t.xnor_conv_single = xnor_conv_single;
    t.xnor_dense = parallel::xnor_dense<pack_signs_neon, xnor_dense_neon>;
    // Portable kernels, the planes split over the threads.
    t.upsample_forward = parallel::upsample<upsample_forward_reference, true>;
    t.upsample_backward_add = parallel::upsample<upsample_backward_add_reference, false>;
    t.core_peak_gflops = measure_core_peak_gflops_neon;
    return t;
}

}  // namespace

const Ops& neon_table() {
    static const Ops table = make_table();
    return table;
}

}  // namespace lenet::kernels
