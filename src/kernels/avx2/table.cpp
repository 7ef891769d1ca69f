// The AVX2/FMA backend's table, filled in this one place: the reference table with the ops this
// folder has kernels for replaced. Where a kernel covers only some shapes, its entry checks the
// shape and hands the rest to the reference kernel. This file is compiled without -mavx2 (it runs
// before the CPU is known to have it); the kernels it points to are compiled with it.
#include <algorithm>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/avx2/avx2.h"
#include "kernels/ops.h"
#include "kernels/parallel.h"

namespace lenet::kernels {

bool avx2_available() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

namespace {

void scale_gradient_single(const float* delta, const float* x_norm, int batch, int channels, int spatial, int first,
                           int last, float* grad) {
    scale_gradient_avx2(delta, x_norm, batch, channels, spatial, first, last, grad);
}

void im2col(const ConvGeometry& g, const float* image, float* columns) {
    if (g.stride == 1) return im2col_s1_avx2(g, image, columns);
    im2col_reference(g, image, columns);
}
void col2im_add(const ConvGeometry& g, const float* columns, float* image) {
    if (g.stride == 1) return col2im_add_s1_avx2(g, columns, image);
    col2im_add_reference(g, columns, image);
}

void maxpool_forward(const PoolGeometry& g, int batch, const float* in, float* out, std::int32_t* argmax) {
    if (is_maxpool_2x2s2(g)) return maxpool_2x2s2_avx2(g, batch, in, out, argmax);
    if (is_maxpool_2x2s1(g)) return maxpool_2x2s1_avx2(g, batch, in, out, argmax);
    maxpool_forward_reference(g, batch, in, out, argmax);
}
void maxpool_backward_set(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax,
                          float* in_grad) {
    if (is_maxpool_2x2s2(g)) return maxpool_2x2s2_backward_set_avx2(g, batch, delta, argmax, in_grad);
    maxpool_backward_set_reference(g, batch, delta, argmax, in_grad);
}

void to_channels_last(const ConvGeometry& g, const float* chw, float* hwc) {
    if (g.channels % 8 == 0) return to_channels_last_avx2(g, chw, hwc);
    to_channels_last_reference(g, chw, hwc);
}
void from_channels_last(const ConvGeometry& g, const float* hwc, float* chw) {
    if (g.channels % 8 == 0) return from_channels_last_avx2(g, hwc, chw);
    from_channels_last_reference(g, hwc, chw);
}
void pooled_conv_backward(const PooledConvShape& s, const float* delta, const std::int32_t* argmax, const float* image,
                          const float* weights, float* weight_grad, float* image_grad, float* scratch) {
    if (s.conv.channels % 8 == 0)
        return pooled_conv_backward_channels_last_avx2(s, delta, argmax, image, weights, weight_grad, image_grad,
                                                       scratch);
    pooled_conv_backward_channels_last_reference(s, delta, argmax, image, weights, weight_grad, image_grad);
}

// The XNOR convolution: the image as byte planes of sign nibbles (shared; each thread packs some
// steps of 8 channels), then output positions split between threads, each with its own scratch.
std::size_t xnor_conv_workspace(const ConvGeometry& g, int threads) {
    return std::max(
        xnor_conv_workspace_reference(g, threads),
        64 + xnor_conv_planes_bytes_avx2(g) + std::size_t(std::max(threads, 1)) * xnor_conv_scratch_bytes_avx2(g));
}

void xnor_conv_single(const ConvGeometry& g, const PackedFilters& filters, const float* image, float* dots,
                      void* workspace) {
    if (!xnor_conv_avx2_covers(g)) return xnor_conv_single_reference(g, filters, image, dots, workspace);
    check_packed_shape(g, filters);
    if (g.out_h() <= 0 || g.out_w() <= 0) return;
    auto* planes = static_cast<std::uint8_t*>(parallel::align64(workspace));
    xnor_pack_planes_avx2(g, image, filters.zero, planes, 0, filters.steps);
    xnor_conv_planes_avx2(g, filters, planes, dots, planes + xnor_conv_planes_bytes_avx2(g), 0, g.out_h() * g.out_w());
}

// Output positions in blocks of kXnorPositionBlock taken dynamically, a few per thread: on a
// shared machine a thread that loses its core leaves its share to the others instead of stalling
// the layer. With too few blocks for that (a small image: 13x13 is 3), the filters are split too,
// in chunks of quad pairs (a sign-plane byte's two quads stay on one thread, in order).
// count(first_position, last_position, first_quad, last_quad, thread).
template <class Count>
void split_positions_and_quads(ThreadPool& pool, const ConvGeometry& g, const PackedFilters& filters, Count count) {
    const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(g.out_w());
    const std::size_t threads = std::size_t(pool.size());
    const std::size_t blocks = (spatial + kXnorPositionBlock - 1) / kXnorPositionBlock;
    const std::size_t pairs = std::size_t(filters.quads + 1) / 2;
    std::size_t chunks = blocks >= 4 * threads ? 1 : std::min(pairs, (4 * threads + blocks - 1) / blocks);
    const std::size_t pairs_per_chunk = (pairs + chunks - 1) / chunks;
    chunks = (pairs + pairs_per_chunk - 1) / pairs_per_chunk;
    const std::size_t items = blocks * chunks;
    const std::size_t grain = std::max<std::size_t>(1, items / (4 * threads));
    pool.parallel_dynamic(items, grain, [&](std::size_t begin, std::size_t end, int thread) {
        if (chunks == 1)
            return count(int(begin * kXnorPositionBlock), int(std::min(end * kXnorPositionBlock, spatial)), 0,
                         filters.quads, thread);
        for (std::size_t item = begin; item < end; ++item) {
            const std::size_t block = item / chunks, chunk = item % chunks;
            const int first_quad = int(2 * chunk * pairs_per_chunk);
            count(int(block * kXnorPositionBlock), int(std::min((block + 1) * kXnorPositionBlock, spatial)), first_quad,
                  std::min(filters.quads, first_quad + int(2 * pairs_per_chunk)), thread);
        }
    });
}

void xnor_conv(const Compute& compute, const ConvGeometry& g, const PackedFilters& filters, const float* image,
               float* dots, void* workspace) {
    if (!compute.pool || compute.pool->size() == 1) return xnor_conv_single(g, filters, image, dots, workspace);
    if (!xnor_conv_avx2_covers(g)) return xnor_conv_threads_reference(compute, g, filters, image, dots, workspace);
    check_packed_shape(g, filters);
    if (g.out_h() <= 0 || g.out_w() <= 0) return;
    auto* planes = static_cast<std::uint8_t*>(parallel::align64(workspace));
    std::uint8_t* scratch = planes + xnor_conv_planes_bytes_avx2(g);
    const std::size_t bytes = xnor_conv_scratch_bytes_avx2(g);
    // Steps packed as they come, then positions (and filters) likewise: the same results either way.
    compute.pool->parallel_dynamic(std::size_t(filters.steps), 1, [&](std::size_t first, std::size_t last, int) {
        xnor_pack_planes_avx2(g, image, filters.zero, planes, int(first), int(last));
    });
    split_positions_and_quads(*compute.pool, g, filters, [&](int first, int last, int q0, int q1, int thread) {
        xnor_conv_planes_avx2(g, filters, planes, dots, scratch + std::size_t(thread) * bytes, first, last, q0, q1);
    });
}

// xnor_conv with either input and output: the planes made from the image or the sign planes, then
// positions as xnor_conv takes them.
void xnor_conv_io(const Compute& compute, const ConvGeometry& g, const PackedFilters& filters, const XnorConvIo& io,
                  void* workspace) {
    if (!xnor_conv_avx2_covers(g)) return xnor_conv_io_reference(compute, g, filters, io, workspace);
    check_packed_shape(g, filters);
    if (g.out_h() <= 0 || g.out_w() <= 0) return;
    const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(g.out_w());
    auto* planes = static_cast<std::uint8_t*>(parallel::align64(workspace));
    std::uint8_t* scratch = planes + xnor_conv_planes_bytes_avx2(g);
    const std::size_t bytes = xnor_conv_scratch_bytes_avx2(g);
    const auto pack = [&](int first, int last) {
        if (io.image) xnor_pack_planes_avx2(g, io.image, filters.zero, planes, first, last);
        else xnor_unpack_sign_planes_avx2(g, io.in_planes, planes, first, last);
    };
    const auto count = [&](int first, int last, int q0, int q1, int thread) {
        void* own = scratch + std::size_t(thread) * bytes;
        if (io.dots) xnor_conv_planes_avx2(g, filters, planes, io.dots, own, first, last, q0, q1);
        else xnor_conv_planes_signs_avx2(g, filters, planes, io.thresholds, io.out_planes, own, first, last, q0, q1);
    };
    if (!compute.pool || compute.pool->size() == 1) {
        pack(0, filters.steps);
        return count(0, int(spatial), 0, filters.quads, 0);
    }
    compute.pool->parallel_dynamic(std::size_t(filters.steps), 1, [&](std::size_t first, std::size_t last, int) {
        pack(int(first), int(last));
    });
    split_positions_and_quads(*compute.pool, g, filters, count);
}

void maxpool_signs(const PoolGeometry& g, const std::uint8_t* and_bits, const std::uint8_t* in, std::uint8_t* out) {
    if (is_maxpool_2x2s2(g)) return maxpool_signs_2x2s2_avx2(g, and_bits, in, out);
    if (is_maxpool_2x2s1(g)) return maxpool_signs_2x2s1_avx2(g, and_bits, in, out);
    maxpool_signs_reference(g, and_bits, in, out);
}

void upsample_signs(const UpsampleGeometry& g, std::size_t planes, const std::uint8_t* in, std::uint8_t* out) {
    if (g.stride == 2) return upsample_signs_2x_avx2(g, planes, in, out);
    upsample_signs_reference(g, planes, in, out);
}

// The product with a pre-packed A: A's row blocks split over the pool when C is at least as tall
// as it is wide, else C's columns in slivers of 16 (either way the same sums as gemm_avx2).
void gemm_packed_a(const Compute& compute, const PackedGemmA& a, const GemmArgs& args) {
    LENET_CHECK(!args.trans_a && args.alpha == 1.0f && args.m == a.m && args.k == a.k, "gemm_packed_a: a ", a.m, "x", a.k,
                " A for a ", args.m, "x", args.k, " product");
    if (args.m <= 0 || args.n <= 0) return;
    const int blocks = gemm_packed_a_row_blocks_avx2(a);
    const int threads = compute.pool ? compute.pool->size() : 1;
    const double work = double(args.m) * args.n * args.k;
    if (threads == 1 || work < 64.0 * 1024) return gemm_packed_a_part_avx2(a, args, 0, blocks, 0, args.n);
    if (args.m >= args.n && blocks >= threads)
        return compute.pool->parallel_for(std::size_t(blocks), [&](std::size_t begin, std::size_t end, int) {
            gemm_packed_a_part_avx2(a, args, int(begin), int(end), 0, args.n);
        });
    const std::size_t slivers = std::size_t(args.n + 15) / 16;
    compute.pool->parallel_for(slivers, [&](std::size_t begin, std::size_t end, int) {
        gemm_packed_a_part_avx2(a, args, 0, blocks, int(begin) * 16, std::min(int(end) * 16, args.n));
    });
}

Ops make_table() {
    Ops t = reference_ops();
    t.name = "avx2";
    t.gemm = parallel::gemm<gemm_avx2>;
    t.gemm_single = parallel::gemm_single<gemm_avx2>;
    t.gemm_pack_a = gemm_pack_a_avx2;
    t.gemm_packed_a = gemm_packed_a;
    t.activate = parallel::activate<activate_avx2>;
    t.activate_single = activate_avx2;
    t.activation_gradient = parallel::activation_gradient<activation_gradient_avx2>;
    t.activation_gradient_single = activation_gradient_avx2;
    t.scale_add_bias = scale_add_bias_avx2;
    t.bias_gradient = parallel::bias_gradient<bias_gradient_avx2>;
    t.bias_gradient_single = parallel::bias_gradient_single<bias_gradient_avx2>;
    t.scale_gradient = parallel::scale_gradient<scale_gradient_single>;
    t.im2col = im2col;
    t.col2im_add = col2im_add;
    t.maxpool_forward = maxpool_forward;
    t.maxpool_backward_set = maxpool_backward_set;
    t.conv_maxpool_direct_fits = conv_maxpool_direct_fits;
    t.conv_maxpool_direct = conv_maxpool_direct_avx2;
    t.conv_direct_fits = conv_direct_fits;
    t.conv_direct = conv_direct_avx2;
    t.pooled_weight_gradient = pooled_weight_gradient_avx2;
    t.to_channels_last = to_channels_last;
    t.from_channels_last = from_channels_last;
    t.pooled_conv_backward_channels_last = pooled_conv_backward;
    t.adam_update = adam_update_avx2;
    t.xnor_conv_workspace = xnor_conv_workspace;
    t.xnor_conv = xnor_conv;
    t.xnor_conv_single = xnor_conv_single;
    t.xnor_conv_io = xnor_conv_io;
    t.maxpool_signs = maxpool_signs;
    t.upsample_signs = upsample_signs;
    t.xnor_dense = parallel::xnor_dense<pack_signs_avx2, xnor_dense_avx2>;
    // Portable kernels, the planes split over the threads.
    t.upsample_forward = parallel::upsample<upsample_forward_reference, true>;
    t.upsample_backward_add = parallel::upsample<upsample_backward_add_reference, false>;
    t.core_peak_gflops = measure_core_peak_gflops_avx2;
    return t;
}

}  // namespace

const Ops& avx2_table() {
    static const Ops table = make_table();
    return table;
}

}  // namespace lenet::kernels
