// Darknet's classifier data: a `.data` file of key=value lines
//   classes=10
//   train=data/train.list      (one image path per line)
//   valid=data/test.list
//   labels=data/labels.list    (or names=: one class name per line, class k on line k)
//   backup=backup/
// and the image lists it names. As in Darknet (classifier fill_truth), an image's class is the
// label name that occurs in its path as the list writes it; exactly one must. Relative paths are taken from the working
// directory when they exist there, else from the folder of the file that names them.
// Errors read like cfg errors: "file:line: key=value: what".
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/source.h"

namespace lenet {

struct DataFile {
    std::string path;
    int classes = 0;
    std::string train, valid, names, backup;  // resolved paths ("" when absent)
    int classes_line = 0;                     // for errors about classes=
};

// One image named by a list: its path as written (which the class comes from), resolved, and
// where it was named.
struct ListEntry {
    std::string text, path;
    int line = 0;
};

DataFile read_data_file(const std::string& path);
// The non-empty lines of a names/labels file; a name given twice is an error.
std::vector<std::string> read_names(const std::string& path);
std::vector<ListEntry> read_image_list(const std::string& path);
// The index of the one name that occurs in `image` (Darknet's rule); `where` ("list:line") leads
// the error when none or several do.
int label_from_path(const std::string& image, const std::vector<std::string>& names, const std::string& where);

// The images of a list with their classes, converted to `input` (channels, letterbox). Small sets
// are decoded once, up front; larger ones per gather (on the prefetch thread).
class ImageListSource final : public DataSource {
public:
    // cache_floats: above this many floats of decoded images, decode per gather instead. angle > 0:
    // training batches (gather_train) turned by up to `angle` degrees (Darknet's [net] angle).
    ImageListSource(const std::string& list_path, std::vector<std::string> names, Shape input, int limit,
                    std::size_t cache_floats = kCacheFloats, float angle = 0);
    const std::string& name() const override { return name_; }
    Shape shape() const override { return shape_; }
    int classes() const override { return int(names_.size()); }
    int count() const override { return int(entries_.size()); }
    const std::vector<std::string>& class_names() const override { return names_; }
    void gather(const int* indices, int n, float* images, int* labels) const override;
    void gather_train(const int* indices, int n, std::uint64_t key, float* images, int* labels,
                      std::vector<detect::Truth>* boxes) const override;

    static constexpr std::size_t kCacheFloats = std::size_t(256) << 20;  // 1 GiB
    bool cached() const { return !cache_.empty(); }

private:
    void decode(int index, float* out) const;

    std::string name_, list_path_;
    std::vector<std::string> names_;
    Shape shape_;
    std::vector<ListEntry> entries_;
    std::vector<int> labels_;
    std::vector<float> cache_;  // count x shape, or empty
    float angle_ = 0;
};

}  // namespace lenet
