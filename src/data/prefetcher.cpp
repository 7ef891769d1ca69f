#include "data/prefetcher.h"

#include <cstddef>
#include <utility>

#include "core/error.h"

namespace lenet {

Prefetcher::Prefetcher(const DataSource& data, int max_batch) : data_(data), worker_([this] { loop(); }) {
    for (Batch& b : buffers_) {
        b.images.resize(std::size_t(max_batch) * data.shape().size());
        b.labels.resize(std::size_t(max_batch));
        if (data.has_boxes()) b.boxes.resize(std::size_t(max_batch));
    }
}

Prefetcher::~Prefetcher() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    worker_.join();
}

void Prefetcher::start(const int* indices, int n, std::uint64_t key) {
    std::lock_guard<std::mutex> lock(mutex_);
    LENET_CHECK(!requested_ && !ready_, "Prefetcher::start: the previous batch was not taken");
    LENET_CHECK(n >= 0 && std::size_t(n) <= buffers_[0].labels.size(), "Prefetcher::start: ", n, " images");
    indices_.assign(indices, indices + n);
    key_ = key;
    requested_ = true;
    wake_.notify_one();
}

const Prefetcher::Batch& Prefetcher::take() {
    std::unique_lock<std::mutex> lock(mutex_);
    LENET_CHECK(requested_ || ready_, "Prefetcher::take: nothing was started");
    done_.wait(lock, [this] { return ready_; });
    ready_ = false;
    front_ ^= 1;
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    return buffers_[front_];
}

void Prefetcher::loop() {
    for (;;) {
        Batch* target;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || requested_; });
            if (stopping_) return;
            target = &buffers_[front_ ^ 1];
        }
        // indices_ and the target buffer are ours until ready_ is set.
        std::exception_ptr failure;
        try {
            target->n = int(indices_.size());
            data_.gather_train(indices_.data(), target->n, key_, target->images.data(), target->labels.data(),
                               target->boxes.empty() ? nullptr : target->boxes.data());
        } catch (...) {
            failure = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            requested_ = false;
            ready_ = true;
            failure_ = failure;
        }
        done_.notify_one();
    }
}

}  // namespace lenet
