// Prepares minibatches on a background thread: while one minibatch trains, the next one's images
// are converted to floats. The caller names every minibatch's images (a function of the seed, the
// epoch and the update only), so prefetching changes no result and a resumed run stays exact.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "data/source.h"
#include "data/truth.h"

namespace lenet {

class Prefetcher {
public:
    struct Batch {
        std::vector<float> images;  // n x c x h x w
        std::vector<int> labels;
        std::vector<std::vector<detect::Truth>> boxes;  // per image, for sources with boxes (else empty)
        int n = 0;
        Truth truth() const { return Truth{n, labels.data(), boxes.empty() ? nullptr : boxes.data()}; }
    };

    Prefetcher(const DataSource& data, int max_batch);
    ~Prefetcher();
    Prefetcher(const Prefetcher&) = delete;
    Prefetcher& operator=(const Prefetcher&) = delete;

    // Starts gathering images indices[0..n) (copied) into the buffer take() does not hold, as a
    // training batch under `key` (DataSource::gather_train: the source's augmentation, if any).
    // At most one gather is in flight: call take() between two starts.
    void start(const int* indices, int n, std::uint64_t key = 0);
    // Waits for the started gather and returns its batch, valid until the next take(). Rethrows
    // what the gather threw.
    const Batch& take();

private:
    void loop();

    const DataSource& data_;
    Batch buffers_[2];
    int front_ = 1;  // the buffer take() returned last; start() fills the other
    std::vector<int> indices_;
    std::uint64_t key_ = 0;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    bool requested_ = false, ready_ = false, stopping_ = false;
    std::exception_ptr failure_;
    std::thread worker_;  // last: starts after the members it reads
};

}  // namespace lenet
