// Per-channel gradient sums with AVX2. The reference adds a channel's terms one at a time into one
// float: a dependency chain of one add per element. For spatial > 1 (convolutions) each channel's
// rows are summed in four 8-lane accumulators instead (a different rounding order). For spatial == 1
// (connected layers) the channels are adjacent, so 8 channels go down the batch together, each lane
// adding in the reference's order: bit-identical.
#include <immintrin.h>

#include <cstddef>

#include "kernels/avx2/avx2.h"
#include "kernels/ops/batchnorm.h"

namespace lenet::kernels {
namespace {

inline __m256i tail_mask(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// GCC contracts a multiply and a dependent add into an FMA, intrinsics included (-ffp-contract=fast
// is its default), which rounds once where the reference rounds twice. Passing the product
// through an empty asm hides it from that rewrite.
inline __m256 rounded(__m256 product) {
    __asm__("" : "+x"(product));
    return product;
}

// grad[c] += sum over b of term(b * channels + c) for c in [first, last), lanes = channels, in batch
// order per channel.
// `term` must round a product before it is added, as the reference does.
template <class Term>
void sum_over_batch_exact(int batch, int channels, int first, int last, float* grad, Term term) {
    int c = first;
    for (; c + 32 <= last; c += 32) {
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (int b = 0; b < batch; ++b) {
            const std::size_t o = std::size_t(b) * channels + c;
            s0 = _mm256_add_ps(s0, term(o));
            s1 = _mm256_add_ps(s1, term(o + 8));
            s2 = _mm256_add_ps(s2, term(o + 16));
            s3 = _mm256_add_ps(s3, term(o + 24));
        }
        _mm256_storeu_ps(grad + c, _mm256_add_ps(_mm256_loadu_ps(grad + c), s0));
        _mm256_storeu_ps(grad + c + 8, _mm256_add_ps(_mm256_loadu_ps(grad + c + 8), s1));
        _mm256_storeu_ps(grad + c + 16, _mm256_add_ps(_mm256_loadu_ps(grad + c + 16), s2));
        _mm256_storeu_ps(grad + c + 24, _mm256_add_ps(_mm256_loadu_ps(grad + c + 24), s3));
    }
    for (; c < last; c += 8) {
        const __m256i mask = tail_mask(last - c);
        __m256 s = _mm256_setzero_ps();
        for (int b = 0; b < batch; ++b) s = _mm256_add_ps(s, term(std::size_t(b) * channels + c, mask));
        _mm256_maskstore_ps(grad + c, mask, _mm256_add_ps(_mm256_maskload_ps(grad + c, mask), s));
    }
}

// Sum of term over each channel's batch x spatial elements in four 8-lane accumulators.
template <class Term, class ScalarTerm>
void sum_over_batch_and_space(int batch, int channels, int spatial, int first, int last, float* grad, Term term,
                              ScalarTerm scalar_term) {
    for (int c = first; c < last; ++c) {
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        float tail = 0.0f;
        for (int b = 0; b < batch; ++b) {
            const std::size_t o = (std::size_t(b) * channels + c) * std::size_t(spatial);
            int s = 0;
            for (; s + 32 <= spatial; s += 32) {
                s0 = term(s0, o + s);
                s1 = term(s1, o + s + 8);
                s2 = term(s2, o + s + 16);
                s3 = term(s3, o + s + 24);
            }
            for (; s + 8 <= spatial; s += 8) s0 = term(s0, o + s);
            for (; s < spatial; ++s) tail += scalar_term(o + s);
        }
        grad[c] += horizontal_sum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3))) + tail;
    }
}

}  // namespace

void scale_add_bias_avx2(float* x, const float* scales, const float* biases, int batch, int channels, int spatial) {
    // Without scales the reference's x * 1.0f is exact, so a plain add matches it.
    const auto apply = [scales](__m256 v, __m256 scale, __m256 bias) {
        return _mm256_add_ps(scales ? rounded(_mm256_mul_ps(v, scale)) : v, bias);
    };
    if (spatial == 1) {  // channels are adjacent: vectors run along them
        for (int b = 0; b < batch; ++b) {
            float* row = x + std::size_t(b) * channels;
            for (int c = 0; c < channels; c += 8) {
                const __m256i mask = tail_mask(channels - c);  // all lanes but in the last block
                const __m256 scale = scales ? _mm256_maskload_ps(scales + c, mask) : _mm256_setzero_ps();
                const __m256 v = apply(_mm256_maskload_ps(row + c, mask), scale, _mm256_maskload_ps(biases + c, mask));
                _mm256_maskstore_ps(row + c, mask, v);
            }
        }
        return;
    }
    for (int b = 0; b < batch; ++b)
        for (int c = 0; c < channels; ++c) {
            float* p = x + (std::size_t(b) * channels + c) * std::size_t(spatial);
            const __m256 scale = _mm256_set1_ps(scales ? scales[c] : 1.0f), bias = _mm256_set1_ps(biases[c]);
            int s = 0;
            for (; s + 8 <= spatial; s += 8) _mm256_storeu_ps(p + s, apply(_mm256_loadu_ps(p + s), scale, bias));
            if (s < spatial) {
                const __m256i mask = tail_mask(spatial - s);
                _mm256_maskstore_ps(p + s, mask, apply(_mm256_maskload_ps(p + s, mask), scale, bias));
            }
        }
}

void bias_gradient_avx2(const float* delta, int batch, int channels, int spatial, int first, int last, float* grad) {
    if (spatial == 1) {
        struct Term {
            const float* delta;
            __m256 operator()(std::size_t o) const { return _mm256_loadu_ps(delta + o); }
            __m256 operator()(std::size_t o, __m256i mask) const { return _mm256_maskload_ps(delta + o, mask); }
        };
        return sum_over_batch_exact(batch, channels, first, last, grad, Term{delta});
    }
    sum_over_batch_and_space(
        batch, channels, spatial, first, last, grad,
        [delta](__m256 acc, std::size_t o) { return _mm256_add_ps(acc, _mm256_loadu_ps(delta + o)); },
        [delta](std::size_t o) { return delta[o]; });
}

void scale_gradient_avx2(const float* delta, const float* x_norm, int batch, int channels, int spatial, int first,
                         int last, float* grad) {
    if (spatial == 1) {
        struct Term {
            const float *delta, *x_norm;
            __m256 operator()(std::size_t o) const {
                return rounded(_mm256_mul_ps(_mm256_loadu_ps(delta + o), _mm256_loadu_ps(x_norm + o)));
            }
            __m256 operator()(std::size_t o, __m256i mask) const {
                return rounded(
                    _mm256_mul_ps(_mm256_maskload_ps(delta + o, mask), _mm256_maskload_ps(x_norm + o, mask)));
            }
        };
        return sum_over_batch_exact(batch, channels, first, last, grad, Term{delta, x_norm});
    }
    sum_over_batch_and_space(
        batch, channels, spatial, first, last, grad,
        [delta, x_norm](__m256 acc, std::size_t o) {
            return _mm256_fmadd_ps(_mm256_loadu_ps(delta + o), _mm256_loadu_ps(x_norm + o), acc);
        },
        [delta, x_norm](std::size_t o) { return delta[o] * x_norm[o]; });
}

}  // namespace lenet::kernels
