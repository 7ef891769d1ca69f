// The background minibatch gatherer: every batch equals a direct Dataset::gather of the same
// indices, in the order they were started, whatever the timing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "core/rng.h"
#include "data/dataset.h"
#include "data/prefetcher.h"
#include "data/source.h"

TEST_CASE("prefetcher: each batch equals a direct gather of its indices", "[data]") {
    lenet::Dataset data;
    data.shape = lenet::Shape{1, 3, 2};
    data.classes = 10;
    const int count = 37;
    lenet::Rng rng(3);
    for (int i = 0; i < count * 6; ++i) data.pixels.push_back(std::uint8_t(rng.below(256)));
    for (int i = 0; i < count; ++i) data.labels.push_back(std::uint8_t(i % 10));

    std::vector<int> order(count);
    std::iota(order.begin(), order.end(), 0);
    rng.shuffle(order.begin(), order.end());
    const int batch = 8;
    const lenet::InMemorySource source(data);
    lenet::Prefetcher prefetcher(source, batch);
    prefetcher.start(order.data(), batch);
    for (int first = 0; first < count; first += batch) {
        const lenet::Prefetcher::Batch& got = prefetcher.take();
        const int n = std::min(batch, count - first);
        REQUIRE(got.n == n);
        if (first + batch < count) prefetcher.start(order.data() + first + batch, std::min(batch, count - first - batch));
        std::vector<float> images(std::size_t(n) * 6);
        std::vector<int> labels(static_cast<std::size_t>(n));
        data.gather(order.data() + first, n, images.data(), labels.data());
        // The batch being filled in the background is the other buffer: this one stays intact.
        CHECK(std::vector<float>(got.images.begin(), got.images.begin() + std::ptrdiff_t(images.size())) == images);
        CHECK(std::vector<int>(got.labels.begin(), got.labels.begin() + n) == labels);
    }
}

namespace {

// A detection-style source: image i is one pixel of value i with one box of class i.
class BoxSource final : public lenet::DataSource {
public:
    const std::string& name() const override { return name_; }
    lenet::Shape shape() const override { return lenet::Shape{1, 1, 1}; }
    int classes() const override { return 10; }
    int count() const override { return 10; }
    void gather(const int* indices, int n, float* images, int* labels) const override {
        for (int i = 0; i < n; ++i) {
            images[i] = float(indices[i]);
            if (labels) labels[i] = indices[i];
        }
    }
    bool has_boxes() const override { return true; }
    void gather_boxes(const int* indices, int n, std::vector<lenet::detect::Truth>* boxes) const override {
        for (int i = 0; i < n; ++i) boxes[i] = {lenet::detect::Truth{{0.5f, 0.5f, 0.25f, 0.25f}, indices[i]}};
    }

private:
    std::string name_ = "boxes";
};

}  // namespace

TEST_CASE("prefetcher: a source's boxes reach the batch's truth", "[data]") {
    const BoxSource source;
    lenet::Prefetcher prefetcher(source, 4);
    const int indices[3] = {7, 2, 5};
    prefetcher.start(indices, 3);
    const lenet::Prefetcher::Batch& batch = prefetcher.take();
    const lenet::Truth truth = batch.truth();
    REQUIRE(truth.n == 3);
    REQUIRE(truth.boxes);
    for (int i = 0; i < 3; ++i) {
        CHECK(truth.labels[i] == indices[i]);
        REQUIRE(truth.boxes[i].size() == 1);
        CHECK(truth.boxes[i][0].cls == indices[i]);
        CHECK(batch.images[std::size_t(i)] == float(indices[i]));
    }
}
