// Where training and test images come from. A source holds `count()` images of one shape with their
// truth, numbered 0..count-1; gather() turns any of them into a network's input. The trainer names
// every batch's indices itself (seed, epoch, update), so a source has no order and no state.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/shape.h"
#include "data/dataset.h"
#include "data/truth.h"

namespace lenet {

class DataSource {
public:
    virtual ~DataSource() = default;

    virtual const std::string& name() const = 0;  // for messages: "data/mnist (train)"
    virtual Shape shape() const = 0;              // of one image as gather() writes it
    virtual int classes() const = 0;
    virtual int count() const = 0;
    // Class names in class order (empty: the classes are numbered).
    virtual const std::vector<std::string>& class_names() const;
    // Writes images indices[0..n) as CHW floats (n x shape) and, when labels is not null, their
    // labels. Called from one thread at a time (the prefetcher's, or the caller's); deterministic.
    virtual void gather(const int* indices, int n, float* images, int* labels) const = 0;
    // Detection sources: the boxes of images indices[0..n) into boxes[0..n).
    virtual bool has_boxes() const { return false; }
    virtual void gather_boxes(const int* /*indices*/, int /*n*/, std::vector<detect::Truth>* /*boxes*/) const {}
    // A training minibatch: gather() and (boxes not null) gather_boxes() in one, with the source's
    // augmentation if it has any (a detection source's jitter, colour and flip). Image i's random
    // changes come from (key, indices[i]) only; the trainer's key is a function of the seed and the
    // epoch, so a batch stays a function of (seed, epoch, update) and a resumed run is exact.
    // Evaluation calls gather(), which never augments.
    virtual void gather_train(const int* indices, int n, std::uint64_t key, float* images, int* labels,
                              std::vector<detect::Truth>* boxes) const;
};

// A Dataset (bytes in memory, e.g. MNIST read from IDX) as a source.
class InMemorySource final : public DataSource {
public:
    // angle > 0: training batches turned by up to `angle` degrees (Darknet's [net] angle).
    explicit InMemorySource(Dataset data, float angle = 0) : data_(std::move(data)), angle_(angle) {}
    const std::string& name() const override { return data_.name; }
    Shape shape() const override { return data_.shape; }
    int classes() const override { return data_.classes; }
    int count() const override { return data_.count(); }
    void gather(const int* indices, int n, float* images, int* labels) const override {
        data_.gather(indices, n, images, labels);
    }
    void gather_train(const int* indices, int n, std::uint64_t key, float* images, int* labels,
                      std::vector<detect::Truth>* boxes) const override;
    const Dataset& dataset() const { return data_; }

private:
    Dataset data_;
    float angle_ = 0;
};

// `path` is either an MNIST-format directory (IDX files) or a Darknet classifier .data file whose
// train=/valid= lists name image files (data/image_list.h). `split` is "train" or "test" (for a
// .data file: valid=, else test=). Images from lists are converted to `input` (the network's
// input shape); IDX images keep their own shape. limit > 0 keeps the first `limit` images.
// angle > 0: training batches (gather_train) turned by up to `angle` degrees ([net] angle).
std::unique_ptr<DataSource> open_data(const std::string& path, const std::string& split, Shape input, int limit = 0,
                                      float angle = 0);

// Whether `path` names a Darknet .data file rather than an IDX directory.
bool is_data_file(const std::string& path);

}  // namespace lenet
