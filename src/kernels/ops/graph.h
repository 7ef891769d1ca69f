// The graph layers' arithmetic ([route], [shortcut], [upsample]) and the softmax loss, as ops:
// the loops those layers used to run themselves.
#pragma once
#include <cstddef>

namespace lenet::kernels {

// [route]: `rows` rows of `count` floats, row r at src + r * src_stride and dst + r * dst_stride
// (one row per image: a channel slab). copy_rows sets dst, add_rows adds src to it.
void copy_rows_reference(int rows, std::size_t count, const float* src, std::size_t src_stride, float* dst,
                         std::size_t dst_stride);
void add_rows_reference(int rows, std::size_t count, const float* src, std::size_t src_stride, float* dst,
                        std::size_t dst_stride);

// [shortcut]: out = alpha * previous + beta * from, out shaped as previous (channels x height x
// width). Where from's shape differs, Darknet's shortcut_cpu pairs positions: channels up to the
// smaller count; where one's width and height are the same whole multiple of the other's, every
// stride-th position of the larger with the smaller; unpaired outputs keep previous's value.
struct ShortcutGeometry {
    int channels, height, width;                  // previous and the output
    int from_channels, from_height, from_width;  // from
    bool same() const { return channels == from_channels && height == from_height && width == from_width; }
};
void shortcut_forward_reference(const ShortcutGeometry& g, int batch, float alpha, const float* previous, float beta,
                                const float* from, float* out);
// previous_grad += d out / d previous * delta, then from_grad += d out / d from * delta (either may
// be null; they may be the same buffer).
void shortcut_backward_reference(const ShortcutGeometry& g, int batch, float alpha, float beta, const float* delta,
                                 float* previous_grad, float* from_grad);

// [upsample], per (image, channel) plane of height x width input values: stride > 0 repeats each
// value in a stride x stride block, times scale; stride < 0 (Darknet's reverse) makes each output
// scale times the sum of a |stride| x |stride| block (rows and columns past the last whole block
// dropped). The backward adds into in_grad.
struct UpsampleGeometry {
    int height, width;  // of the input plane
    int stride;
    float scale;
    int factor() const { return stride < 0 ? -stride : stride; }
    int out_h() const { return stride < 0 ? height / -stride : height * stride; }
    int out_w() const { return stride < 0 ? width / -stride : width * stride; }
};
void upsample_forward_reference(const UpsampleGeometry& g, std::size_t planes, const float* in, float* out);
void upsample_backward_add_reference(const UpsampleGeometry& g, std::size_t planes, const float* delta,
                                     float* in_grad);

// [softmax]'s backward: in_grad[i] += delta[i] / temperature.
void softmax_backward_add_reference(const float* delta, std::size_t n, float temperature, float* in_grad);
// Cross-entropy of probabilities p (batch rows of `classes`) against one label per row, each in
// [0, classes): grad = (p - onehot(label)) * grad_scale; returns the sum of -log(max(p[label], 1e-12)).
float softmax_cross_entropy_reference(const float* p, const int* labels, int batch, int classes, float grad_scale,
                                      float* grad);

}  // namespace lenet::kernels
