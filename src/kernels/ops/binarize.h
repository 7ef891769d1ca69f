// The arithmetic of binary-weight (BWN) and XNOR layers in float, used for training and as the
// simulation the bit-packed kernels must match exactly (DESIGN.md §4):
//   weights  W ~ alpha * s(W), alpha = mean |W| per output row (filter or unit);
//   inputs   I ~ s(I), with xnor_scale=k also a per-position scale K (conv: K = box filter of the
//            channel mean of |I|; connected: K = beta = mean |I| over the sample); xnor_scale=none
//            (Darknet's xnor=1) has no K;
//   s(x) = +1 for x > 0, -1 for x < 0, and s(0) by the layer's ZeroSign (bit 1 = +1 in packed form).
// Gradients: straight-through sign with cancellation (g * 1{|x| <= 1}) plus the exact derivative of
// alpha and K with respect to the values they average.
#pragma once
#include <cstddef>

#include "kernels/ops/im2col.h"

namespace lenet::kernels {

// Where zero goes when a value is binarized. XNOR-Net's layers (xnor_scale=k) and binary-weight
// layers take s(0) = +1 (x >= 0 -> +1); Darknet's xnor=1 (binarize_cpu, binarize_weights and the
// bit-packed path all test x > 0) takes s(0) = -1, and so does xnor_scale=none. NaN is -1 in both.
enum class ZeroSign : unsigned char { positive, negative };

inline bool sign_bit_of(float x, ZeroSign zero) { return zero == ZeroSign::positive ? x >= 0.0f : x > 0.0f; }
inline float sign_of(float x, ZeroSign zero) { return sign_bit_of(x, zero) ? 1.0f : -1.0f; }

// signs[r*n + i] = s(w[r*n + i]); alpha[r] = mean over i of |w[r*n + i]|.
void binarize_rows(const float* w, int rows, int n, ZeroSign zero, float* signs, float* alpha);
// effective[r*n + i] = alpha[r] * signs[r*n + i]
void scale_rows(const float* signs, const float* alpha, int rows, int n, float* effective);

// grad[i] += dL/dW_i for W~ = alpha * s(W), given g = dL/dW~ (rows x n):
//   alpha_r * g_i * 1{|W_i| <= 1}            (straight-through sign, cancelled outside [-1, 1])
//   + s(W_i) / n * sum_j g_j * s(W_j)         (through alpha_r = mean |W_j|)
// The XNOR-Net paper prints the second term as g_i / n, an approximation; this is the derivative.
void binary_weight_gradient(const float* w, const float* alpha, const float* g, int rows, int n, ZeroSign zero,
                            float* grad);

// out[i] = s(x[i]); out may equal x.
void sign(const float* x, std::size_t n, ZeroSign zero, float* out);
// dx[i] += g[i] * 1{|x[i]| <= 1}
void sign_gradient_add(const float* x, const float* g, std::size_t n, float* dx);

// XNOR convolution input scale for one CHW image: abs_mean[h*w] = mean over channels of |x|, and
// k[out_h*out_w] = sum of abs_mean over each output's window (zero padding) / size^2.
void input_scale_map(const ConvGeometry& g, const float* image, float* abs_mean, float* k);
// Adds the gradient through K into dx, given dk = dL/dK for one image; abs_mean_grad is scratch
// of h*w floats.
void input_scale_gradient(const ConvGeometry& g, const float* image, const float* dk, float* abs_mean_grad,
                          float* dx);

// Connected XNOR: beta = mean |x| over one sample of n values; its gradient dx[i] += dbeta * d|x_i|/dx_i / n.
float abs_mean(const float* x, std::size_t n);
void abs_mean_gradient(const float* x, std::size_t n, float dbeta, float* dx);


// out[r][c] = dots[r][c] * scale[channel] * k[position] + shift[channel] over rows x columns, with
// channels along the rows (convolution: filters x positions) or along the columns (connected:
// samples x outputs; the sample is the "position"). k null: 1; shift null: 0. Both inference
// paths of an XNOR layer (packed and simulated) end here, so they agree bit for bit.
struct BinaryOutput {
    int rows, columns;
    bool channel_rows;
    const float *scale, *k, *shift;
};
void binary_output_reference(const BinaryOutput& o, const float* dots, float* out);

// XNOR convolution backward through K, for one image: delta [filters x positions] is dL/d(alpha *
// K * dots); k_grad[p] = sum over f of delta[f][p] * alpha[f] * dots[f][p], then delta *= K.
void xnor_conv_scale_gradient_reference(int filters, int positions, const float* alpha, const float* dots,
                                        const float* k, float* delta, float* k_grad);
// XNOR connected backward through beta, delta [batch x outputs]: beta_grad[b] = sum over o of
// delta[b][o] * alpha[o] * dots[b][o] (summed in double), then delta[b] *= beta[b].
void xnor_dense_scale_gradient_reference(int batch, int outputs, const float* alpha, const float* dots,
                                         const float* betas, float* delta, float* beta_grad);

}  // namespace lenet::kernels
