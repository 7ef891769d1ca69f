// `lenet detector <subcommand>`: the detector's commands, Darknet-shaped. Only `scenes`,
// `anchors` and `evaluate` exist so far (the [yolo] layer and `train`/`map`/`test` come with the network redesign).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <filesystem>

#include "commands/args.h"
#include "commands/commands.h"
#include "core/error.h"
#include "data/digit_scenes.h"
#include "data/image_list.h"
#include "data/yolo_labels.h"
#include "detect/anchors.h"
#include "detect/map.h"

namespace lenet {

namespace {

std::vector<std::string> photos_in(const std::string& dir) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(dir)) throw Error(cat("lenet detector scenes: -photos ", dir, ": not a directory"));
    std::vector<std::string> photos;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        std::string ext = entry.path().extension().string();
        for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
        if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") photos.push_back(entry.path().string());
    }
    std::sort(photos.begin(), photos.end());  // directory order differs between file systems
    if (photos.empty()) throw Error(cat("lenet detector scenes: -photos ", dir, ": no .jpg or .png files"));
    return photos;
}

int run_scenes(const std::vector<std::string>& argv) {
    const Args args("detector scenes", argv,
                    {{"-count", true}, {"-size", true}, {"-seed", true}, {"-split", true}, {"-photos", true},
                     {"-video", true}, {"-frames", true}, {"-max-digits", true}, {"-format", true}});
    args.expect_positionals(2, 2, "an MNIST directory and an output directory");
    SceneOptions options;
    options.size = int(args.integer("-size", 320, 32, 4096));
    options.seed = std::uint64_t(args.integer("-seed", 1, 0, (1ll << 62)));
    options.max_digits = int(args.integer("-max-digits", 5, 1, 50));
    if (const auto dir = args.value("-photos")) options.photos = photos_in(*dir);
    options.format = args.value_or("-format", "jpg");
    if (options.format != "jpg" && options.format != "png")
        throw Error(cat("lenet detector scenes: -format ", options.format, ": expected jpg or png"));
    const std::string split = args.value_or("-split", "train");
    if (split != "train" && split != "valid")
        throw Error(cat("lenet detector scenes: -split ", split, ": expected train or valid"));
    const std::string& mnist = args.positionals()[0];
    if (const auto video = args.value("-video")) {
        const int frames = int(args.integer("-frames", 100, 1, 100000));
        write_digit_video(mnist, *video, split, frames, options);
        std::printf("wrote %s (%d frames, %dx%d, MJPG) and its ground truth (one JSON line per frame)\n", video->c_str(),
                    frames, options.size, options.size);
        return 0;
    }
    const int count = int(args.integer("-count", split == "train" ? 10000 : 1000, 1, 10000000));
    write_digit_scenes(mnist, args.positionals()[1], split, count, options, true);
    return 0;
}

int run_anchors(const std::vector<std::string>& argv) {
    const Args args("detector anchors", argv, {{"-num", true}, {"-width", true}, {"-height", true}, {"-seed", true}});
    args.expect_positionals(1, 1, "a .data file");
    const int k = int(args.integer("-num", 6, 1, 100));
    const int width = int(args.integer("-width", 320, 1, 65536)), height = int(args.integer("-height", 320, 1, 65536));
    const DataFile data = read_data_file(args.positionals()[0]);
    if (data.train.empty()) throw Error(cat(data.path, ": no train= line (the image list to take boxes from)"));
    LabelOptions labels;
    labels.classes = data.classes;
    std::vector<std::pair<float, float>> sizes;
    const std::vector<ListEntry> images = read_image_list(data.train);
    for (const ListEntry& image : images)
        for (const LabelBox& b : read_yolo_labels(find_label_file(image.path), labels))
            sizes.emplace_back(b.box.w * float(width), b.box.h * float(height));
    const detect::Anchors anchors = detect::kmeans_anchors(sizes, k, std::uint64_t(args.integer("-seed", 1, 0, 1ll << 62)));
    std::printf("%zu boxes from %zu images, %d anchors at %dx%d, average IoU %.2f%%\nanchors = ", sizes.size(),
                images.size(), k, width, height, 100 * anchors.average_iou);
    for (std::size_t i = 0; i < anchors.sizes.size(); ++i)
        std::printf("%s%.0f,%.0f", i ? ", " : "", double(anchors.sizes[i].first), double(anchors.sizes[i].second));
    std::printf("\n");
    return 0;
}

float number(const Args& args, const std::string& name, float fallback, float low, float high) {
    const auto text = args.value(name);
    if (!text) return fallback;
    float v = 0;
    const auto r = std::from_chars(text->data(), text->data() + text->size(), v);
    if (r.ec != std::errc() || r.ptr != text->data() + text->size() || !(v >= low && v <= high))
        throw Error(cat("lenet detector evaluate: ", name, " ", *text, ": expected a number from ", low, " to ", high));
    return v;
}

// mAP of saved detections against the valid= list's labels: one detection file per image,
// <predictions dir>/<image stem>.txt, lines `class x_center y_center width height score`.
int run_evaluate(const std::vector<std::string>& argv) {
    const Args args("detector evaluate", argv, {{"-thresh", true}, {"-iou", true}, {"-skip-bad", false}});
    args.expect_positionals(2, 2, "a .data file and a directory of detection files");
    const DataFile data = read_data_file(args.positionals()[0]);
    if (data.valid.empty()) throw Error(cat(data.path, ": no valid= line (the images to evaluate on)"));
    const std::vector<std::string> names = read_names(data.names);
    if (int(names.size()) != data.classes)
        throw Error(cat(data.names, ": ", names.size(), " class names for classes=", data.classes, " in ", data.path));
    detect::MapOptions options;
    options.score_thresh = number(args, "-thresh", 0.25f, 0.0f, 1.0f);
    options.iou_thresh = number(args, "-iou", 0.5f, 0.01f, 1.0f);
    LabelOptions truth_options, prediction_options;
    truth_options.classes = prediction_options.classes = data.classes;
    truth_options.skip_bad = prediction_options.skip_bad = args.flag("-skip-bad");
    prediction_options.with_score = true;
    std::vector<detect::ImageResult> images;
    int missing = 0;
    for (const ListEntry& image : read_image_list(data.valid)) {
        detect::ImageResult result;
        for (const LabelBox& b : read_yolo_labels(find_label_file(image.path), truth_options)) result.truths.push_back({b.box, b.cls});
        const std::string predictions =
            (std::filesystem::path(args.positionals()[1]) / std::filesystem::path(image.path).stem()).string() + ".txt";
        if (std::filesystem::exists(predictions)) {
            for (const LabelBox& b : read_yolo_labels(predictions, prediction_options))
                result.predictions.push_back({b.box, b.cls, b.score});
        } else {
            ++missing;  // an image without detections
        }
        images.push_back(std::move(result));
    }
    const detect::MapResult map = detect::evaluate_map(images, data.classes, options);
    const detect::CocoResult coco = detect::evaluate_coco(images, data.classes);
    std::printf("%zu images (%d without a detection file: no detections)\n%s", images.size(), missing,
                detect::format_map_report(map, coco, names, options).c_str());
    return 0;
}

}  // namespace

int run_detector(const std::vector<std::string>& args) {
    if (args.empty()) throw Error("lenet detector: expected a subcommand: scenes, anchors or evaluate (see: lenet help detector)");
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "scenes") return run_scenes(rest);
    if (args[0] == "anchors") return run_anchors(rest);
    if (args[0] == "evaluate") return run_evaluate(rest);
    throw Error(cat("lenet detector: unknown subcommand '", args[0], "' (see: lenet help detector)"));
}

}  // namespace lenet
