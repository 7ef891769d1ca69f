// Activations with AVX2: the reference's float operations lane by lane (compare, select, multiply),
// so bit-identical; the ragged tail goes through masked loads and stores, not scalar code. logistic
// and tanh forward stay on the reference: their cost is the scalar libm call.
#include <immintrin.h>

#include <cstddef>

#include "kernels/avx2/avx2.h"
#include "kernels/ops/activation.h"

namespace lenet::kernels {
namespace {

constexpr float kLeakySlope = 0.1f;  // as activation.cpp

inline __m256i tail_mask(std::size_t count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

template <class F>
inline void map_in_place(float* x, std::size_t n, F f) {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, f(_mm256_loadu_ps(x + i)));
    if (i < n) {
        const __m256i mask = tail_mask(n - i);
        _mm256_maskstore_ps(x + i, mask, f(_mm256_maskload_ps(x + i, mask)));
    }
}

// delta = f(y, delta), lane by lane.
template <class F>
inline void map_gradient(const float* y, float* delta, std::size_t n, F f) {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(delta + i, f(_mm256_loadu_ps(y + i), _mm256_loadu_ps(delta + i)));
    if (i < n) {
        const __m256i mask = tail_mask(n - i);
        _mm256_maskstore_ps(delta + i, mask, f(_mm256_maskload_ps(y + i, mask), _mm256_maskload_ps(delta + i, mask)));
    }
}

// GCC contracts a multiply and a dependent add into an FMA, intrinsics included (-ffp-contract=fast
// is its default), which rounds once where the reference rounds twice. Passing the product
// through an empty asm hides it from that rewrite.
inline __m256 rounded(__m256 product) {
    __asm__("" : "+x"(product));
    return product;
}

inline __m256 positive(__m256 v) { return _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ); }

}  // namespace

void activate_avx2(Activation activation, float* x, std::size_t n) {
    switch (activation) {
        case Activation::linear: return;
        case Activation::relu:
            return map_in_place(x, n, [](__m256 v) { return _mm256_and_ps(positive(v), v); });
        case Activation::leaky:
            return map_in_place(x, n, [](__m256 v) {
                return _mm256_blendv_ps(_mm256_mul_ps(_mm256_set1_ps(kLeakySlope), v), v, positive(v));
            });
        case Activation::logistic:
        case Activation::tanh: return activate_reference(activation, x, n);
    }
}

void activation_gradient_avx2(Activation activation, const float* y, float* delta, std::size_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    switch (activation) {
        case Activation::linear: return;
        case Activation::relu:
            return map_gradient(y, delta, n, [](__m256 v, __m256 d) { return _mm256_and_ps(positive(v), d); });
        case Activation::leaky:
            return map_gradient(y, delta, n, [one](__m256 v, __m256 d) {
                return _mm256_mul_ps(d, _mm256_blendv_ps(_mm256_set1_ps(kLeakySlope), one, positive(v)));
            });
        case Activation::logistic:
            return map_gradient(y, delta, n, [one](__m256 v, __m256 d) {
                return _mm256_mul_ps(d, _mm256_mul_ps(v, _mm256_sub_ps(one, v)));
            });
        case Activation::tanh:
            return map_gradient(y, delta, n, [one](__m256 v, __m256 d) {
                return _mm256_mul_ps(d, _mm256_sub_ps(one, rounded(_mm256_mul_ps(v, v))));
            });
    }
}

}  // namespace lenet::kernels
