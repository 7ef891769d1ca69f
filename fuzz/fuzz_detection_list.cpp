// Fuzz target: the detector's data path (data/detection_source.h): a detection .data file, its
// names file, the image list, label lookup (labels/ beside images/, else the .txt beside the image)
// and the YOLO label files, then open_detection_data over both splits and a gather of every image.
// The input is up to six files separated by lines "%%":
//   d.data  d.names  list.txt  labels/train/a.txt  images/train/b.txt  labels/train/c.txt
// (a missing section: no such file), written into a per-process folder beside three small images
// (images/train/{a.png,b.jpg,c.png}); relative paths in them resolve from that folder, as they do
// from the folder of the file that names them. The lists may name any path; only those inside the
// folder are opened (no "..", no NUL), so that the fuzzer never reads /dev or /proc. Every box that
// comes back must be a valid one.
#include <unistd.h>

#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "data/detection_source.h"
#include "data/image_list.h"
#include "data/yolo_labels.h"
#include "fuzz_util.h"

namespace fs = std::filesystem;

namespace {

const char* const kFiles[] = {"d.data", "d.names", "list.txt", "labels/train/a.txt", "images/train/b.txt",
                              "labels/train/c.txt"};
std::string g_dir;  // canonical, without a trailing '/'

bool inside(const std::string& path) {
    if (path.empty() || path.find('\0') != std::string::npos || path.find("..") != std::string::npos) return false;
    std::error_code ec;
    const std::string canonical = fs::weakly_canonical(fs::path(path), ec).string();
    return !ec && canonical.size() > g_dir.size() && canonical.compare(0, g_dir.size(), g_dir) == 0 &&
           canonical[g_dir.size()] == '/';
}

void write_file(const std::string& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    if (!out) std::abort();  // harness failure
}

void check_truths(const std::vector<lenet::detect::Truth>& truths, int classes) {
    for (const lenet::detect::Truth& t : truths) {
        const lenet::detect::Box& b = t.box;
        const bool ok = t.cls >= 0 && t.cls < classes && std::isfinite(b.x) && std::isfinite(b.y) && b.w > 0 &&
                        b.h > 0 && b.left() >= -1e-3f && b.right() <= 1 + 1e-3f && b.top() >= -1e-3f &&
                        b.bottom() <= 1 + 1e-3f;
        if (!ok) std::abort();  // a bad box got through
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char*** argv) {
    lenet_fuzz::cap_opencv_image_size(argv);  // as fuzz_image
    const fs::path dir = fs::path(lenet_fuzz::temp_dir()) / ("lenet_fuzz_detection_" + std::to_string(::getpid()));
    fs::create_directories(dir / "images" / "train");
    fs::create_directories(dir / "labels" / "train");
    // Three images of other sizes and channels than the networks below take.
    cv::Mat colour(6, 8, CV_8UC3, cv::Scalar(10, 200, 90)), grey(9, 5, CV_8UC1, cv::Scalar(128));
    if (!cv::imwrite((dir / "images/train/a.png").string(), colour) ||
        !cv::imwrite((dir / "images/train/b.jpg").string(), colour) ||
        !cv::imwrite((dir / "images/train/c.png").string(), grey))
        std::abort();
    g_dir = fs::canonical(dir).string();
    static const bool cleanup = [] { return std::atexit([] { fs::remove_all(g_dir); }) == 0; }();
    (void)cleanup;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::size_t file = 0;
    for (; file < std::size(kFiles); ++file) {
        const std::string path = g_dir + "/" + kFiles[file];
        if (text.data() == nullptr) {
            fs::remove(path);
            continue;
        }
        const std::size_t end = text.find("\n%%\n");
        write_file(path, text.substr(0, end));
        if (end == std::string_view::npos) text = {};
        else text.remove_prefix(end + 4);
    }

    // The readers on their own, as the detector commands call them.
    const std::string data_path = g_dir + "/d.data";
    lenet::DataFile df;
    try {
        df = lenet::read_data_file(data_path);
    } catch (const lenet::Error&) {
        return 0;
    }
    std::vector<std::string> names;
    if (inside(df.names)) {
        try {
            names = lenet::read_names(df.names);
        } catch (const lenet::Error&) {
        }
    }
    lenet::LabelOptions labels;
    labels.classes = names.empty() ? 10 : int(names.size());
    for (const std::string& list : {df.train, df.valid}) {
        if (!inside(list)) continue;
        try {
            int looked = 0;
            for (const lenet::ListEntry& entry : lenet::read_image_list(list)) {
                if (!inside(entry.path) || ++looked > 16) continue;
                try {
                    const std::string label = lenet::find_label_file(entry.path);
                    if (!inside(label)) std::abort();  // the lookup left the image's folder tree
                    for (const lenet::LabelBox& b : lenet::read_yolo_labels(label, labels))
                        if (b.cls < 0 || b.cls >= labels.classes) std::abort();
                } catch (const lenet::Error&) {
                }
            }
        } catch (const lenet::Error&) {
        }
    }

    // The whole source, when every file it opens lies inside the folder.
    if (!inside(df.names)) return 0;
    const lenet::Shape shapes[] = {{3, 16, 12}, {1, 8, 8}};
    for (const char* split : {"train", "valid"}) {
        const std::string& list = std::string_view(split) == "train" ? df.train : df.valid;
        if (!inside(list)) continue;
        try {
            bool all_inside = true;
            int count = 0;
            for (const lenet::ListEntry& entry : lenet::read_image_list(list))
                if (++count <= 8) all_inside = all_inside && inside(entry.path);
            if (!all_inside) continue;
        } catch (const lenet::Error&) {
            continue;
        }
        for (bool skip_bad : {false, true}) {
            try {
                const lenet::Shape shape = shapes[size % 2];
                const auto source = lenet::open_detection_data(data_path, split, shape, 8, skip_bad);
                const int n = source->count();
                if (n < 0 || n > 8 || source->classes() <= 0) std::abort();
                std::vector<int> indices(static_cast<std::size_t>(n));
                for (int i = 0; i < n; ++i) indices[std::size_t(i)] = n - 1 - i;
                std::vector<float> images(static_cast<std::size_t>(n) * shape.size());
                std::vector<int> first(static_cast<std::size_t>(n));
                std::vector<std::vector<lenet::detect::Truth>> truths(static_cast<std::size_t>(n));
                source->gather(indices.data(), n, images.data(), first.data());
                source->gather_boxes(indices.data(), n, truths.data());
                for (int i = 0; i < n; ++i) {
                    check_truths(truths[std::size_t(i)], source->classes());
                    if (first[std::size_t(i)] < -1 || first[std::size_t(i)] >= source->classes()) std::abort();
                }
                for (float v : images)
                    if (!(v >= 0 && v <= 1)) std::abort();
            } catch (const lenet::Error&) {
            }
        }
    }
    return 0;
}
