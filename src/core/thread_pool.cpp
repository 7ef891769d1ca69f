#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>

#include "kernels/cpu_relax.h"

namespace lenet {

namespace {

// How long a thread spins for the next job (worker) or the last chunk (caller) before sleeping.
constexpr auto kSpin = std::chrono::microseconds(300);

// Spins until done() or kSpin has passed; returns done().
template <class Done>
bool spin_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    for (int i = 1;; ++i) {
        if (done()) return true;
        kernels::cpu_relax();
        if (i % 64 == 0 && std::chrono::steady_clock::now() > deadline) return done();
    }
}

}  // namespace

int ThreadPool::hardware_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0) threads = hardware_threads();
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& worker : workers_) worker.join();
}

void ThreadPool::parallel_for(std::size_t count, const RangeBody& body, int chunks) {
    if (count == 0) return;
    if (chunks <= 0) chunks = size();
    chunks = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(chunks), count));
    chunks = std::min(chunks, size());
    if (chunks == 1) {
        body(0, count, 0);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        body_ = &body;
        count_ = count;
        chunks_ = chunks;
        next_chunk_.store(1, std::memory_order_relaxed);
        open_ = true;
        failure_ = nullptr;
        generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    std::exception_ptr own_failure;
    try {
        for (int chunk = 0; chunk < chunks; chunk = next_chunk_.fetch_add(1, std::memory_order_relaxed)) {
            auto [begin, end] = chunk_range(count, chunks, chunk);
            body(begin, end, chunk);
        }
    } catch (...) {
        own_failure = std::current_exception();
        next_chunk_.store(chunks, std::memory_order_relaxed);  // the chunks left are not run
    }
    const auto finished = [this] { return active_.load(std::memory_order_acquire) == 0; };
    spin_until(finished);
    std::unique_lock<std::mutex> lock(mutex_);
    open_ = false;  // every chunk is taken: workers not in yet stay out
    done_.wait(lock, finished);
    body_ = nullptr;
    if (own_failure) std::rethrow_exception(own_failure);
    if (failure_) std::rethrow_exception(failure_);
}

void ThreadPool::parallel_dynamic(std::size_t count, std::size_t grain, const RangeBody& body) {
    if (count == 0) return;
    if (grain == 0) grain = 1;
    std::atomic<std::size_t> next{0};
    parallel_for(std::size_t(size()), [&](std::size_t, std::size_t, int thread) {
        for (;;) {
            const std::size_t begin = next.fetch_add(grain, std::memory_order_relaxed);
            if (begin >= count) return;
            body(begin, std::min(begin + grain, count), thread);
        }
    });
}

void ThreadPool::worker_loop(int /*index*/) {
    unsigned seen_generation = 0;
    for (;;) {
        const RangeBody* body;
        std::size_t count;
        int chunks;
        {
            const auto woken = [&] { return generation_.load(std::memory_order_acquire) != seen_generation; };
            spin_until(woken);
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || woken(); });
            if (stopping_) return;
            seen_generation = generation_.load(std::memory_order_relaxed);
            if (!open_) continue;  // the caller has already taken every chunk
            active_.fetch_add(1, std::memory_order_relaxed);
            body = body_;
            count = count_;
            chunks = chunks_;
        }
        std::exception_ptr failure;
        try {
            for (int chunk = next_chunk_.fetch_add(1, std::memory_order_relaxed); chunk < chunks;
                 chunk = next_chunk_.fetch_add(1, std::memory_order_relaxed)) {
                auto [begin, end] = chunk_range(count, chunks, chunk);
                (*body)(begin, end, chunk);
            }
        } catch (...) {
            failure = std::current_exception();
            next_chunk_.store(chunks, std::memory_order_relaxed);
        }
        std::lock_guard<std::mutex> lock(mutex_);
        if (failure && !failure_) failure_ = failure;
        if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_.notify_one();
    }
}

}  // namespace lenet
