// Adam with AVX2: the reference's operations lane by lane (multiplies rounded before the adds, a
// correctly rounded sqrt and divide), so the result is bit-identical; the tail runs the reference.
#include <immintrin.h>

#include "kernels/avx2/avx2.h"
#include "kernels/ops/adam.h"

namespace lenet::kernels {
namespace {

// GCC would contract a multiply and its dependent add into an FMA (one rounding where the reference
// has two); an empty asm hides the product from that rewrite (as in batchnorm_avx2.cpp).
inline __m256 rounded(__m256 product) {
    __asm__("" : "+x"(product));
    return product;
}

}  // namespace

void adam_update_avx2(const AdamArgs& a, float* value, float* grad, float* m, float* v, std::size_t n) {
    const __m256 b1 = _mm256_set1_ps(a.b1), b2 = _mm256_set1_ps(a.b2), eps = _mm256_set1_ps(a.eps);
    const __m256 one_b1 = _mm256_set1_ps(1.0f - a.b1), one_b2 = _mm256_set1_ps(1.0f - a.b2);
    const __m256 decay = _mm256_set1_ps(a.decay), corrected = _mm256_set1_ps(a.corrected);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 w = _mm256_loadu_ps(value + i);
        const __m256 g = _mm256_add_ps(_mm256_loadu_ps(grad + i), rounded(_mm256_mul_ps(decay, w)));
        const __m256 mi =
            _mm256_add_ps(rounded(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i))), rounded(_mm256_mul_ps(one_b1, g)));
        const __m256 vi = _mm256_add_ps(rounded(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i))),
                                        rounded(_mm256_mul_ps(_mm256_mul_ps(one_b2, g), g)));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        const __m256 step = _mm256_div_ps(_mm256_mul_ps(corrected, mi), _mm256_add_ps(_mm256_sqrt_ps(vi), eps));
        _mm256_storeu_ps(value + i, _mm256_sub_ps(w, step));
        if (a.zero_grad) _mm256_storeu_ps(grad + i, _mm256_setzero_ps());
    }
    adam_update_reference(a, value + i, grad + i, m + i, v + i, n - i);
}

}  // namespace lenet::kernels
