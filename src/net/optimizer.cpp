#include "net/optimizer.h"

#include <algorithm>
#include <cmath>

#include "core/thread_pool.h"
#include "kernels/ops.h"

namespace lenet {

Optimizer::Optimizer(const NetOptions& o, std::vector<Param> params, Backend backend)
    : backend_(backend ? backend : &kernels::reference_ops()), adam_(o.adam), momentum_(o.momentum), decay_(o.decay), b1_(o.b1), b2_(o.b2), eps_(o.eps),
      params_(std::move(params)) {
    for (const Param& p : params_) {
        first_.emplace_back(p.size, 0.0f);
        if (adam_) second_.emplace_back(p.size, 0.0f);
    }
}

void Optimizer::adam_update(std::size_t k, std::size_t begin, std::size_t end, float corrected) {
    const Param& p = params_[k];
    const kernels::AdamArgs args{b1_, b2_, eps_, p.decay ? decay_ : 0.0f, corrected, p.grad_stale == nullptr};
    backend_->adam_update(args, p.value + begin, p.grad + begin, first_[k].data() + begin,
                         second_[k].data() + begin, end - begin);
}

void Optimizer::sgd_update(std::size_t k, std::size_t begin, std::size_t end, float rate) {
    const Param& p = params_[k];
    float* velocity = first_[k].data();
    const float decay = p.decay ? decay_ : 0.0f;
    for (std::size_t i = begin; i < end; ++i) {
        velocity[i] = momentum_ * velocity[i] - rate * (p.grad[i] + decay * p.value[i]);
        p.value[i] += velocity[i];
        if (!p.grad_stale) p.grad[i] = 0.0f;
    }
}

void Optimizer::step(float rate, ThreadPool* pool) {
    begin_step(rate);
    update_arrays(0, params_.size(), pool);
}

void Optimizer::begin_step(float rate) {
    ++steps_;
    // Adam's bias correction folded into the step size (the paper's efficient form).
    const double t = double(steps_);
    step_rate_ =
        adam_ ? float(rate * std::sqrt(1.0 - std::pow(double(b2_), t)) / (1.0 - std::pow(double(b1_), t))) : rate;
}

void Optimizer::update_arrays(std::size_t first, std::size_t count, ThreadPool* pool) {
    constexpr std::size_t kSplitAbove = 1 << 15;  // smaller arrays are not worth waking the pool for
    for (std::size_t k = first; k < first + count && k < params_.size(); ++k) {
        auto update = [&](std::size_t begin, std::size_t end, int) {
            if (adam_) adam_update(k, begin, end, step_rate_);
            else sgd_update(k, begin, end, step_rate_);
        };
        if (pool && params_[k].size > kSplitAbove) pool->parallel_for(params_[k].size, update);
        else update(0, params_[k].size, 0);
        if (params_[k].grad_stale) *params_[k].grad_stale = true;  // left in place, overwritten next
    }
}

std::vector<float> Optimizer::state() const {
    std::vector<float> flat;
    for (const auto& m : first_) flat.insert(flat.end(), m.begin(), m.end());
    for (const auto& v : second_) flat.insert(flat.end(), v.begin(), v.end());
    return flat;
}

bool Optimizer::set_state(std::uint64_t steps, const std::vector<float>& flat) {
    std::size_t expected = 0;
    for (const auto& m : first_) expected += m.size();
    for (const auto& v : second_) expected += v.size();
    if (flat.size() != expected) return false;
    auto it = flat.begin();
    for (auto& m : first_) {
        std::copy(it, it + std::ptrdiff_t(m.size()), m.begin());
        it += std::ptrdiff_t(m.size());
    }
    for (auto& v : second_) {
        std::copy(it, it + std::ptrdiff_t(v.size()), v.begin());
        it += std::ptrdiff_t(v.size());
    }
    steps_ = steps;
    return true;
}

}  // namespace lenet
