// A small fixed pool of worker threads, created once per run and reused by every kernel.
// parallel_for splits [0, count) into one contiguous chunk per thread, always the same way for a
// given thread count, so results that are reduced per chunk are deterministic.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lenet {

class ThreadPool {
public:
    // threads <= 0 means one per hardware core.
    explicit ThreadPool(int threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return static_cast<int>(workers_.size()) + 1; }
    // Work (in element operations) below which waking the workers costs more than it saves:
    // layers run such steps on the calling thread.
    static constexpr double kMinSplitWork = double(1 << 18);

    // Calls body(begin, end, chunk) for `chunks` contiguous ranges of [0, count) (chunks defaults to
    // the pool size, and is capped by count). The calling thread runs chunk 0, then every chunk no
    // worker has taken yet: on a shared machine a worker that has lost its core does not hold the
    // job up (each chunk runs once, on one thread, with the same range). Exceptions thrown by a
    // body are rethrown here.
    using RangeBody = std::function<void(std::size_t begin, std::size_t end, int chunk)>;
    void parallel_for(std::size_t count, const RangeBody& body, int chunks = 0);
    // Calls body(begin, end, thread) over [0, count) in pieces of `grain`, each handed to whichever
    // thread is free next: a core slowed by other work (or given harder pieces) takes fewer. Which
    // thread runs a piece varies from run to run, so bodies must give the same result either way
    // (no per-thread sums); `thread` only selects per-thread scratch.
    void parallel_dynamic(std::size_t count, std::size_t grain, const RangeBody& body);

    static int hardware_threads();

private:
    void worker_loop(int index);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    const RangeBody* body_ = nullptr;
    std::size_t count_ = 0;
    int chunks_ = 0;
    // Jobs come in bursts (a training step runs ~20), and waking a sleeping thread costs tens of
    // microseconds: so workers, and the caller waiting for them, spin a little before they sleep.
    // generation_ (release) publishes body_, count_ and chunks_; next_chunk_ hands out chunks 1..;
    // a worker joins a job only while it is open_ (under mutex_), counted in active_ until it has
    // run its chunks; the caller closes the job once every chunk is taken and waits for active_.
    std::atomic<int> next_chunk_{0};
    std::atomic<int> active_{0};
    bool open_ = false;
    std::atomic<unsigned> generation_{0};
    bool stopping_ = false;
    std::exception_ptr failure_;
};

// The range of chunk `chunk` when [0, count) is split into `chunks` nearly equal parts.
inline std::pair<std::size_t, std::size_t> chunk_range(std::size_t count, int chunks, int chunk) {
    const std::size_t n = static_cast<std::size_t>(chunks);
    const std::size_t c = static_cast<std::size_t>(chunk);
    return {count * c / n, count * (c + 1) / n};
}

}  // namespace lenet
