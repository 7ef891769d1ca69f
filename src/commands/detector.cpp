// `lenet detector <subcommand>`: the detector's commands, Darknet-shaped: scenes (the digit-scene
// generator), anchors (k-means), evaluate (mAP of saved detections), train, map, test.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "commands/args.h"
#include "commands/commands.h"
#include "core/error.h"
#include "data/digit_scenes.h"
#include "data/image.h"
#include "data/image_list.h"
#include "data/yolo_labels.h"
#include "detect/anchors.h"
#include "detect/letterbox.h"
#include "detect/map.h"
#include "data/detection_source.h"
#include "layers/yolo.h"
#include "net/evaluate.h"
#include "net/network.h"
#include "net/trainer.h"

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

float number(const Args& args, const std::string& name, float fallback, float low, float high,
             const char* command = "evaluate") {
    const auto text = args.value(name);
    if (!text) return fallback;
    float v = 0;
    const auto r = std::from_chars(text->data(), text->data() + text->size(), v);
    if (r.ec != std::errc() || r.ptr != text->data() + text->size() || !(v >= low && v <= high))
        throw Error(cat("lenet detector ", command, ": ", name, " ", *text, ": expected a number from ", low, " to ", high));
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

int run_train_detector(const std::vector<std::string>& argv) {
    const Args args("detector train", argv,
                    {{"-weights", true}, {"-epochs", true}, {"-threads", true}, {"-seed", true}, {"-log", true},
                     {"-backup", true}, {"-backend", true}, {"-gpu", true}, {"-train-limit", true}, {"-valid-limit", true},
                     {"-clear", false}, {"-resume", false}, {"-skip-bad", false}, {"-plot", true}});
    args.expect_positionals(2, 2, "a detection .data file and a cfg");
    TrainConfig config = train_config_from(args, args.positionals()[1], args.positionals()[0], "-valid-limit");
    config.detection = true;
    config.skip_bad_labels = args.flag("-skip-bad");
    return train_and_plot(args, config);
}

// An inference network with the weights: Darknet .weights, a packed file (`lenet export -binary`)
// or `none` (the cfg's random initialization, seed from [net]). float_binary: XNOR layers run as
// their float simulation instead of the bit-packed kernels (the same outputs, bit for bit).
std::unique_ptr<Network> load_detector(const std::string& cfg, const std::string& weights, int threads,
                                       Backend backend, int max_batch, bool float_binary) {
    BuildOptions build;
    build.inference = true;
    build.packed_binary = !float_binary;
    build.threads = threads;
    build.backend = backend;
    build.max_batch = max_batch;
    auto net = Network::from_cfg_file(cfg, build);
    if (!is_detector(*net)) throw Error(cat(cfg, ": no [yolo] layer: not a detector"));
    if (weights != "none") net->load_weights(weights);
    return net;
}

int run_map(const std::vector<std::string>& argv) {
    const Args args("detector map", argv,
                    {{"-thresh", true}, {"-iou", true}, {"-threads", true}, {"-backend", true}, {"-gpu", true}, {"-limit", true},
                     {"-skip-bad", false}, {"-float-binary", false}});
    args.expect_positionals(3, 3, "a detection .data file, a cfg and weights");
    const auto net = load_detector(args.positionals()[1], args.positionals()[2], int(args.integer("-threads", 0, 1, 1024)),
                                   backend_option(args), 8, args.flag("-float-binary"));
    const auto data = open_detection_data(args.positionals()[0], "valid", net->input_shape(),
                                          int(args.integer("-limit", 0, 1, 1 << 30)), args.flag("-skip-bad"));
    check_network_fits(*net, args.positionals()[1], *data);
    detect::MapOptions options;
    options.score_thresh = number(args, "-thresh", 0.25f, 0.0f, 1.0f, "map");
    options.iou_thresh = number(args, "-iou", 0.5f, 0.01f, 1.0f, "map");
    const DetectionEvaluation eval = evaluate_detections(*net, *data, options);
    std::printf("%d images of %s\n%s", eval.images, data->name().c_str(),
                detect::format_map_report(eval.map50, eval.coco, data->class_names(), options).c_str());
    return 0;
}

// The k-th output name for `out` when several images are annotated: out_k.ext.
std::string numbered(const std::string& out, std::size_t k, std::size_t count) {
    if (count == 1) return out;
    const std::filesystem::path p(out);
    return (p.parent_path() / (p.stem().string() + "_" + std::to_string(k) + p.extension().string())).string();
}

// `detector test -dump dir`, for scripts/check_darknet.sh (tools/darknet_harness.c writes the same
// files from Darknet): per image, <stem>.input.f32 (the network's input floats), <stem>.layer<i>.f32
// (each [yolo] layer's raw output, float32) and <stem>.boxes.txt (after NMS, one line per box and
// class with score > thresh: index class score x y w h, the index the candidate's place in
// network_detections' order, which is Darknet's; box relative to the image).
void write_floats(const std::string& path, const float* data, std::size_t count) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    bool ok = f && std::fwrite(data, sizeof(float), count, f) == count;
    if (f && std::fclose(f) != 0) ok = false;
    if (!ok) throw Error(cat("lenet detector test: -dump ", path, ": cannot write"));
}

void dump_detections(const std::string& dir, const std::string& image_path, Network& net, const detect::PlanarImage& input,
                     const std::vector<detect::Detection>& detections, const detect::Letterbox& geometry, float thresh) {
    const std::string stem = (std::filesystem::path(dir) / std::filesystem::path(image_path).stem()).string();
    write_floats(stem + ".input.f32", input.data.data(), input.data.size());
    for (int i = 0; i < net.layer_count(); ++i)
        if (as_yolo(net.layer(i)))
            write_floats(cat(stem, ".layer", i, ".f32"), net.output(i), net.layer(i).output_shape().size());
    std::FILE* f = std::fopen((stem + ".boxes.txt").c_str(), "w");
    if (!f) throw Error(cat("lenet detector test: -dump ", stem, ".boxes.txt: cannot write"));
    for (std::size_t i = 0; i < detections.size(); ++i)  // nms_sort keeps the order
        for (std::size_t c = 0; c < detections[i].prob.size(); ++c) {
            const detect::Detection& d = detections[i];
            if (d.prob[c] <= thresh) continue;
            const detect::Box b = detect::network_to_image(d.box, geometry, true);
            std::fprintf(f, "%zu %zu %.9g %.9g %.9g %.9g %.9g\n", i, c, double(d.prob[c]), double(b.x), double(b.y),
                         double(b.w), double(b.h));
        }
    if (std::fclose(f) != 0) throw Error(cat("lenet detector test: -dump ", stem, ".boxes.txt: cannot write"));
}

int run_test_detector(const std::vector<std::string>& argv) {
    const Args args("detector test", argv,
                    {{"-thresh", true}, {"-nms", true}, {"-out", true}, {"-threads", true}, {"-backend", true}, {"-gpu", true},
                     {"-dump", true}, {"-float-binary", false}});
    args.expect_positionals(4, 1 << 20, "a .data file, a cfg, weights (or none) and one or more images");
    const std::vector<std::string>& pos = args.positionals();
    const float thresh = number(args, "-thresh", 0.25f, 0.0f, 1.0f, "test");
    const float nms = number(args, "-nms", 0.45f, 0.0f, 1.0f, "test");
    const auto net = load_detector(pos[1], pos[2], int(args.integer("-threads", 0, 1, 1024)),
                                   backend_option(args), 1, args.flag("-float-binary"));
    const DataFile data = read_data_file(pos[0]);
    std::vector<std::string> names;
    if (!data.names.empty()) names = read_names(data.names);
    const Shape input = net->input_shape();
    const std::size_t images = pos.size() - 3;
    for (std::size_t k = 0; k < images; ++k) {
        const std::string& path = pos[3 + k];
        cv::Mat image;
        try {
            image = read_image_file(path, cv::IMREAD_COLOR);
        } catch (const Error& e) {
            throw Error(cat("lenet detector test: ", e.what()));
        }
        detect::Letterbox geometry;
        const detect::PlanarImage planar =
            detect::letterbox_darknet(detect::planar_from_mat(image, input.c), input.w, input.h, &geometry);
        const auto start = std::chrono::steady_clock::now();
        net->forward(planar.data.data(), 1, false);
        std::vector<detect::Detection> detections = network_detections(*net, 0, thresh);
        detect::nms_sort(detections, nms);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        std::printf("%s: predicted in %.1f ms\n", path.c_str(), ms);
        if (const auto dir = args.value("-dump")) dump_detections(*dir, path, *net, planar, detections, geometry, thresh);
        for (const detect::Detection& d : detections)
            for (std::size_t c = 0; c < d.prob.size(); ++c) {
                if (d.prob[c] <= thresh) continue;
                const detect::Box b = detect::network_to_image(d.box, geometry, false);
                const std::string name = c < names.size() ? names[c] : std::to_string(c);
                std::printf("%s: %.0f%%  left %.0f top %.0f right %.0f bottom %.0f\n", name.c_str(),
                            100.0 * double(d.prob[c]), double(b.left()), double(b.top()), double(b.right()),
                            double(b.bottom()));
                if (args.value("-out")) {
                    const cv::Point p0(int(b.left()), int(b.top())), p1(int(b.right()), int(b.bottom()));
                    cv::rectangle(image, p0, p1, cv::Scalar(0, 0, 255), 2);
                    cv::putText(image, cat(name, " ", int(100 * d.prob[c] + 0.5f), "%"), cv::Point(p0.x, std::max(p0.y - 3, 10)),
                                cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 255), 1);
                }
            }
        if (const auto out = args.value("-out")) {
            const std::string file = numbered(*out, k, images);
            if (!cv::imwrite(file, image)) throw Error(cat("lenet detector test: -out ", file, ": cannot write the image"));
            std::printf("wrote %s\n", file.c_str());
        }
    }
    return 0;
}

}  // namespace

int run_detector(const std::vector<std::string>& args) {
    if (args.empty())
        throw Error("lenet detector: expected a subcommand: scenes, anchors, evaluate, train, map or test (see: lenet help detector)");
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "scenes") return run_scenes(rest);
    if (args[0] == "anchors") return run_anchors(rest);
    if (args[0] == "evaluate") return run_evaluate(rest);
    if (args[0] == "train") return run_train_detector(rest);
    if (args[0] == "map") return run_map(rest);
    if (args[0] == "test") return run_test_detector(rest);
    throw Error(cat("lenet detector: unknown subcommand '", args[0], "' (see: lenet help detector)"));
}

}  // namespace lenet
