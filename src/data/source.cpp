#include "data/source.h"

#include <filesystem>

#include "core/error.h"
#include "data/augment.h"
#include "data/image_list.h"

namespace lenet {

const std::vector<std::string>& DataSource::class_names() const {
    static const std::vector<std::string> none;
    return none;
}

void DataSource::gather_train(const int* indices, int n, std::uint64_t /*key*/, float* images, int* labels,
                              std::vector<detect::Truth>* boxes) const {
    gather(indices, n, images, labels);
    if (boxes) gather_boxes(indices, n, boxes);
}

void InMemorySource::gather_train(const int* indices, int n, std::uint64_t key, float* images, int* labels,
                                  std::vector<detect::Truth>* boxes) const {
    DataSource::gather_train(indices, n, key, images, labels, boxes);
    rotate_batch(images, n, shape(), indices, key, angle_);
}

bool is_data_file(const std::string& path) { return !std::filesystem::is_directory(path) && std::filesystem::exists(path); }

std::unique_ptr<DataSource> open_data(const std::string& path, const std::string& split, Shape input, int limit,
                                      float angle) {
    if (!is_data_file(path)) return std::make_unique<InMemorySource>(load_mnist(path, split, limit), angle);
    const DataFile data = read_data_file(path);
    const std::string& list = split == "train" ? data.train : data.valid;
    if (list.empty())
        throw Error(cat(path, ": no ", split == "train" ? "train=" : "valid= (or test=)", " list of images"));
    std::vector<std::string> names = read_names(data.names);
    if (data.classes && data.classes != int(names.size()))
        throw Error(cat(path, ":", data.classes_line, ": classes=", data.classes, ": ", data.names, " names ",
                        names.size(), " classes"));
    auto source = std::make_unique<ImageListSource>(list, std::move(names), input, limit,
                                                    ImageListSource::kCacheFloats, angle);
    return source;
}

}  // namespace lenet
