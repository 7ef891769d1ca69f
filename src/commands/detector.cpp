// `lenet detector <subcommand>`: the detector's commands, Darknet-shaped. Only `scenes` exists so
// far (the [yolo] layer and `train`/`map`/`test` come with the network redesign).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

#include "commands/args.h"
#include "commands/commands.h"
#include "core/error.h"
#include "data/digit_scenes.h"

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
                     {"-video", true}, {"-frames", true}, {"-max-digits", true}});
    args.expect_positionals(2, 2, "an MNIST directory and an output directory");
    SceneOptions options;
    options.size = int(args.integer("-size", 320, 32, 4096));
    options.seed = std::uint64_t(args.integer("-seed", 1, 0, (1ll << 62)));
    options.max_digits = int(args.integer("-max-digits", 5, 1, 50));
    if (const auto dir = args.value("-photos")) options.photos = photos_in(*dir);
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

}  // namespace

int run_detector(const std::vector<std::string>& args) {
    if (args.empty()) throw Error("lenet detector: expected a subcommand: scenes (see: lenet help detector)");
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "scenes") return run_scenes(rest);
    throw Error(cat("lenet detector: unknown subcommand '", args[0], "' (see: lenet help detector)"));
}

}  // namespace lenet
