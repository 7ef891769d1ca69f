// The thread pool: static ranges (parallel_for) and pieces handed out on demand (parallel_dynamic).
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "core/thread_pool.h"

using lenet::ThreadPool;

TEST_CASE("parallel_for covers the range once, in contiguous chunks", "[threads]") {
    for (const int threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        for (const std::size_t count : {std::size_t(1), std::size_t(2), std::size_t(7), std::size_t(128)}) {
            std::vector<std::atomic<int>> hits(count);
            pool.parallel_for(count, [&](std::size_t begin, std::size_t end, int chunk) {
                CHECK(chunk < threads);
                CHECK(lenet::chunk_range(count, std::min<int>(threads, int(count)), chunk) == std::make_pair(begin, end));
                for (std::size_t i = begin; i < end; ++i) ++hits[i];
            });
            for (std::size_t i = 0; i < count; ++i) CHECK(hits[i] == 1);
        }
    }
}

TEST_CASE("parallel_dynamic hands every piece out once, to threads of the pool", "[threads]") {
    for (const int threads : {1, 2, 3})
        for (const std::size_t grain : {std::size_t(1), std::size_t(3), std::size_t(64)}) {
            ThreadPool pool(threads);
            const std::size_t count = 100;
            std::vector<std::atomic<int>> hits(count);
            std::atomic<int> pieces{0};
            pool.parallel_dynamic(count, grain, [&](std::size_t begin, std::size_t end, int thread) {
                CHECK((thread >= 0 && thread < threads));
                CHECK(begin % grain == 0);
                CHECK(end == std::min(begin + grain, count));
                ++pieces;
                for (std::size_t i = begin; i < end; ++i) ++hits[i];
            });
            for (std::size_t i = 0; i < count; ++i) CHECK(hits[i] == 1);
            CHECK(pieces == int((count + grain - 1) / grain));
        }
}

TEST_CASE("parallel_dynamic rethrows what a piece throws", "[threads]") {
    ThreadPool pool(2);
    CHECK_THROWS_AS(pool.parallel_dynamic(10, 1,
                                          [](std::size_t begin, std::size_t, int) {
                                              if (begin == 7) throw std::runtime_error("piece 7");
                                          }),
                    std::runtime_error);
    // The pool still works afterwards.
    std::atomic<int> sum{0};
    pool.parallel_dynamic(10, 1, [&](std::size_t begin, std::size_t, int) { sum += int(begin); });
    CHECK(sum == 45);
}
