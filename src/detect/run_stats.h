// Medians over a run of any length in fixed memory: values go into logarithmic bins 0.2% wide, so
// a 30-minute stream costs no more than a 3-second clip and the median is within 0.1%.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace lenet::detect {

class MedianTracker {
public:
    // Values from `low` to `high` (outside: clamped into the end bins).
    explicit MedianTracker(double low = 1e-3, double high = 1e6)
        : log_low_(std::log(low)), bins_(std::size_t(std::ceil((std::log(high) - std::log(low)) / kLogStep)) + 1, 0) {}

    void add(double value) {
        const double at = value > 0 ? (std::log(value) - log_low_) / kLogStep : 0.0;
        const std::size_t bin = at <= 0 ? 0 : std::min(bins_.size() - 1, std::size_t(at));
        ++bins_[bin];
        ++count_;
    }
    std::uint64_t count() const { return count_; }
    // The bin's centre holding the middle value; 0 when nothing was added.
    double median() const {
        if (count_ == 0) return 0;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < bins_.size(); ++i) {
            seen += bins_[i];
            if (2 * seen >= count_) return std::exp(log_low_ + (double(i) + 0.5) * kLogStep);
        }
        return 0;
    }

private:
    static constexpr double kLogStep = 0.002;
    double log_low_;
    std::vector<std::uint64_t> bins_;
    std::uint64_t count_ = 0;
};

}  // namespace lenet::detect
