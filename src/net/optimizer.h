// SGD with momentum and Adam (Darknet's adam=1), both with L2 weight decay on weights only.
// Gradients are the batch mean (the network's loss is averaged over the batch).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "layers/layer.h"
#include "net/net_options.h"

namespace lenet {

class ThreadPool;

class Optimizer {
public:
    // backend: whose kernel runs the Adam update (the reference when null).
    Optimizer(const NetOptions& options, std::vector<Param> params, Backend backend = nullptr);

    // Applies one update with learning rate `rate`, then zeroes the gradients (or, for arrays with
    // Param::grad_stale, marks them stale for the next backward to overwrite). Large arrays are
    // split over the pool (element-wise, so the result does not depend on the thread count).
    void step(float rate, ThreadPool* pool = nullptr);
    // The same update in parts: begin_step once, then update_arrays over every parameter array
    // exactly once, in any order (each array's update reads only that array). The trainer updates a
    // layer right after its backward, while its weights and gradients are still in cache.
    void begin_step(float rate);
    void update_arrays(std::size_t first, std::size_t count, ThreadPool* pool = nullptr);

    bool is_adam() const { return adam_; }
    std::uint64_t steps() const { return steps_; }
    // The moment vectors, flattened in parameter order (velocity for SGD; m then v for Adam).
    std::vector<float> state() const;
    // Restores state() output; false if its size does not match this network.
    bool set_state(std::uint64_t steps, const std::vector<float>& state);

private:
    void adam_update(std::size_t k, std::size_t begin, std::size_t end, float corrected);
    void sgd_update(std::size_t k, std::size_t begin, std::size_t end, float rate);

    Backend backend_;
    bool adam_;
    float momentum_, decay_, b1_, b2_, eps_;
    std::vector<Param> params_;
    std::vector<std::vector<float>> first_, second_;  // per parameter array
    std::uint64_t steps_ = 0;
    float step_rate_ = 0;  // this step's rate, Adam's bias correction folded in
};

}  // namespace lenet
