// Data sources: Darknet's classifier .data file, class names, image lists, the class from the path,
// their errors (file and line), images decoded into the network's shape, and `lenet train`/`test`
// on a folder of PNG images through a .data file.
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <regex>
#include <sstream>

#include "core/error.h"
#include "data/dataset.h"
#include "data/detection_source.h"
#include "data/image_list.h"
#include "data/source.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using namespace lenet;

namespace {

class Folder {
public:
    Folder() : dir_(fs::temp_directory_path() / ("lenet_test_data_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
        fs::create_directories(dir_);
    }
    ~Folder() { fs::remove_all(dir_); }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }
    // Writes `text` to `name` and returns its path.
    std::string write(const std::string& name, const std::string& text) const {
        fs::create_directories(fs::path(path(name)).parent_path());
        std::ofstream(path(name), std::ios::binary) << text;
        return path(name);
    }

private:
    static inline int counter_ = 0;
    fs::path dir_;
};

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("data file: keys, comments, and paths beside the file", "[data]") {
    Folder f;
    f.write("names.txt", "cat\ndog\n");
    f.write("train.txt", "x\n");
    const std::string path = f.write("set.data", "# a classifier\nclasses = 2\n\ntrain=train.txt\n; comment\n"
                                                 "valid=train.txt\nlabels=names.txt\nbackup=/tmp/b\n");
    const DataFile data = read_data_file(path);
    CHECK(data.classes == 2);
    CHECK(data.classes_line == 2);
    CHECK(data.train == f.path("train.txt"));  // not in the working directory: beside the .data file
    CHECK(data.valid == f.path("train.txt"));
    CHECK(data.names == f.path("names.txt"));
    CHECK(data.backup == "/tmp/b");
    // names= is Darknet's other spelling; test= stands in for valid=.
    const DataFile other = read_data_file(f.write("b.data", "names=names.txt\ntest=train.txt\n"));
    CHECK(other.classes == 0);
    CHECK(other.valid == f.path("train.txt"));
}

TEST_CASE("data file: errors name the file, the line and the key", "[data]") {
    Folder f;
    auto error = [&](const std::string& text) {
        const std::string path = f.write("bad.data", text);
        return error_of([&] { read_data_file(path); });
    };
    CHECK_THAT(error("classes=2\ncolour=red\n"), Contains(f.path("bad.data") + ":2: colour=red: unknown key"));
    CHECK_THAT(error("classes=two\n"), Contains("bad.data:1: classes=two: expected an integer"));
    CHECK_THAT(error("classes=0\n"), Contains("bad.data:1: classes=0: expected 1 to"));
    CHECK_THAT(error("labels=a\n\ntrain=x\ntrain=y\n"), Contains("bad.data:4: train=y: given twice (first on line 3)"));
    CHECK_THAT(error("labels=a\nnames=b\n"), Contains("bad.data:2: names=b: a class-name file was already given on line 1"));
    CHECK_THAT(error("classes=2\njust words\n"), Contains("bad.data:2: just words: expected key=value"));
    CHECK_THAT(error("train=\n"), Contains("bad.data:1: train=: expected a file name"));
    CHECK_THAT(error("classes=2\n"), Contains("bad.data: no labels= (or names=)"));
    CHECK_THAT(error_of([&] { read_data_file(f.path("none.data")); }), Contains("none.data: cannot open"));

    // classes= against the names file, and a split without a list.
    f.write("names.txt", "a\nb\n");
    const std::string mismatch = f.write("m.data", "labels=names.txt\nclasses=3\ntrain=names.txt\n");
    CHECK_THAT(error_of([&] { open_data(mismatch, "train", Shape{1, 4, 4}); }),
               Contains("m.data:2: classes=3: " + f.path("names.txt") + " names 2 classes"));
    const std::string no_valid = f.write("v.data", "labels=names.txt\ntrain=names.txt\n");
    CHECK_THAT(error_of([&] { open_data(no_valid, "test", Shape{1, 4, 4}); }), Contains("v.data: no valid= (or test=)"));
    CHECK_THAT(error_of([&] { read_names(f.write("twice.txt", "a\n\nb\na\n")); }),
               Contains("twice.txt:4: class name 'a' given twice"));
}

TEST_CASE("label from path: exactly one class name in the path, as Darknet", "[data]") {
    const std::vector<std::string> names = {"cat", "dog", "bird"};
    CHECK(label_from_path("data/train/dog/001.png", names, "l:1") == 1);
    CHECK(label_from_path("bird_7.jpg", names, "l:1") == 2);
    CHECK_THAT(error_of([&] { label_from_path("data/fish.png", names, "train.list:7"); }),
               Contains("train.list:7: data/fish.png: the path holds none of the 3 class names"));
    CHECK_THAT(error_of([&] { label_from_path("cats/dog.png", names, "train.list:9"); }),
               Contains("train.list:9: cats/dog.png: the path holds two class names, 'cat' and 'dog'"));
}

TEST_CASE("image list: images decoded into the network's shape, errors with list and line", "[data]") {
    Folder f;
    fs::create_directories(f.path("img/gray"));
    fs::create_directories(f.path("img/red"));
    cv::Mat gray(4, 4, CV_8UC1);
    for (int i = 0; i < 16; ++i) gray.data[i] = static_cast<unsigned char>(i * 17);
    REQUIRE(cv::imwrite(f.path("img/gray/0.png"), gray));
    cv::Mat color(4, 4, CV_8UC3, cv::Scalar(0, 0, 255));  // BGR: pure red
    REQUIRE(cv::imwrite(f.path("img/red/0.png"), color));
    f.write("names.txt", "gray\nred\n");
    // Relative to the list's folder; blank lines are skipped but counted.
    const std::string list = f.write("list.txt", "img/gray/0.png\n\n" + f.path("img/red/0.png") + "\n");
    const ImageListSource source(list, read_names(f.path("names.txt")), Shape{1, 4, 4}, 0);
    REQUIRE(source.count() == 2);
    CHECK(source.classes() == 2);
    CHECK(source.class_names() == std::vector<std::string>{"gray", "red"});
    std::vector<float> images(32);
    std::vector<int> labels(2);
    const int order[2] = {1, 0};
    source.gather(order, 2, images.data(), labels.data());
    CHECK(labels == std::vector<int>{1, 0});
    for (int i = 0; i < 16; ++i) CHECK(images[std::size_t(16 + i)] == Approx(float(i * 17) / 255.0f));
    // Red in grayscale: OpenCV's 0.299 R -> 76 / 255.
    CHECK(images[0] == Approx(76.0f / 255.0f));

    // Too large for the cache (here: any): decoded per gather, the same floats.
    const ImageListSource uncached(list, {"gray", "red"}, Shape{1, 4, 4}, 0, 0);
    CHECK(source.cached());
    CHECK_FALSE(uncached.cached());
    std::vector<float> again(32);
    uncached.gather(order, 2, again.data(), nullptr);
    CHECK(again == images);

    // Three channels, letterboxed into 6x4: 4x4 centred, a black column each side.
    const ImageListSource rgb(list, {"gray", "red"}, Shape{3, 4, 6}, 1);
    REQUIRE(rgb.count() == 1);
    std::vector<float> wide(72);
    const int first = 0;
    rgb.gather(&first, 1, wide.data(), nullptr);
    CHECK(wide[0] == 0.0f);             // border
    CHECK(wide[1] == Approx(0.0f));     // row 0, column 0 of the image: value 0
    CHECK(wide[6 + 1] == Approx(68.0f / 255.0f));  // row 1, first image column: pixel 4 = 68

    const std::string missing = f.write("missing.txt", "img/gray/0.png\nimg/gray/nope.png\n");
    CHECK_THAT(error_of([&] { ImageListSource(missing, {"gray"}, Shape{1, 4, 4}, 0); }),
               Contains(missing + ":2: img/gray/nope.png: no such image file"));
    f.write("img/gray/junk.png", "not an image at all");
    const std::string junk = f.write("junk.txt", "img/gray/0.png\nimg/gray/junk.png\n");
    CHECK_THAT(error_of([&] { ImageListSource(junk, {"gray"}, Shape{1, 4, 4}, 0); }),
               Contains(junk + ":2: " + f.path("img/gray/junk.png") + ": byte offset 0: not a PNG"));
    // Decoded per gather, the same error comes when the image is gathered.
    const ImageListSource late(junk, {"gray"}, Shape{1, 4, 4}, 0, 0);
    const int second = 1;
    CHECK_THAT(error_of([&] { late.gather(&second, 1, images.data(), nullptr); }),
               Contains(junk + ":2: " + f.path("img/gray/junk.png") + ": byte offset 0: not a PNG"));
    const std::string unlabelled = f.write("unlabelled.txt", "img/gray/0.png\n");
    CHECK_THAT(error_of([&] { ImageListSource(unlabelled, {"red"}, Shape{1, 4, 4}, 0); }),
               Contains(unlabelled + ":1: img/gray/0.png: the path holds none of the 1 class names"));
    CHECK_THAT(error_of([&] { read_image_list(f.write("empty.txt", "\n\n")); }), Contains("empty.txt: the image list names no images"));
}

TEST_CASE("cli: train and test on a folder of PNG digits through a .data file", "[data][cli]") {
    const std::string mnist = LENET_SOURCE_DIR "/data/mnist";
    if (!fs::exists(mnist + "/train-images-idx3-ubyte") && !fs::exists(mnist + "/train-images-idx3-ubyte.gz"))
        FAIL("MNIST is missing from " << mnist << ": run scripts/get_mnist.sh");
    Folder f;
    // 240 training and 90 validation digits of classes 0, 1, 2 from MNIST's training images.
    const Dataset digits = load_mnist(mnist, "train", 2000);
    const char* const names[3] = {"zero", "one", "two"};
    std::string train, valid;
    int written = 0;
    for (int i = 0; i < digits.count() && written < 330; ++i) {
        const int label = digits.labels[std::size_t(i)];
        if (label > 2) continue;
        const cv::Mat image(28, 28, CV_8UC1, const_cast<std::uint8_t*>(digits.pixels.data() + std::size_t(i) * 784));
        const std::string split = written < 240 ? "train" : "valid";
        const std::string name = split + "/" + names[label] + "/" + std::to_string(i) + ".png";
        fs::create_directories(fs::path(f.path(name)).parent_path());
        REQUIRE(cv::imwrite(f.path(name), image));
        (written < 240 ? train : valid) += name + "\n";
        ++written;
    }
    f.write("train.list", train);
    f.write("valid.list", valid);
    f.write("digits.names", "zero\none\ntwo\n");
    const std::string data = f.write("digits.data", "classes=3\ntrain=train.list\nvalid=valid.list\nnames=digits.names\nbackup=" +
                                                        f.path("backup") + "\n");
    const std::string cfg = f.write("digits.cfg",
                                    "[net]\nbatch=16\nwidth=28\nheight=28\nchannels=1\nadam=1\nlearning_rate=0.002\nseed=3\n"
                                    "[convolutional]\nfilters=8\nsize=3\nactivation=relu\n[maxpool]\nsize=2\nstride=2\n"
                                    "[connected]\noutput=3\nactivation=linear\n[softmax]\n");
    auto lenet = [&](const std::string& arguments) {
        const std::string command = "'" LENET_BINARY "' " + arguments + " >" + f.path("out.txt") + " 2>" + f.path("err.txt");
        const int status = std::system(command.c_str());
        return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : 128, slurp(f.path("out.txt")) + slurp(f.path("err.txt")));
    };
    auto [code, out] = lenet("train '" + cfg + "' '" + data + "' -epochs 3 -threads 1");
    INFO(out);
    REQUIRE(code == 0);
    CHECK_THAT(out, Contains("on 240 images (90 test) for 3 epochs"));
    std::smatch match;
    REQUIRE(std::regex_search(out, match, std::regex("epoch 3/3: train loss [0-9.]+, test accuracy ([0-9.]+)")));
    const double accuracy = std::stod(match[1]);
    CHECK(accuracy > 0.85);  // measured 0.944
    // backup= from the .data file.
    const std::string weights = f.path("backup/digits_final.weights");
    REQUIRE(fs::exists(weights));

    std::tie(code, out) = lenet("test '" + cfg + "' '" + weights + "' '" + data + "'");
    INFO(out);
    REQUIRE(code == 0);
    REQUIRE(std::regex_search(out, match, std::regex("accuracy: ([0-9.]+) \\(([0-9]+)/90\\)")));
    CHECK(std::stod(match[1]) == Approx(accuracy).margin(1e-4));
    // Per-class rows carry the class names.
    CHECK(std::regex_search(out, std::regex(R"(\n +2: [0-9.]+ \([0-9]+/[0-9]+\) two\n)")));

    // A list naming a missing image stops training with the list file and line.
    f.write("valid.list", valid + "valid/zero/missing.png\n");
    std::tie(code, out) = lenet("train '" + cfg + "' '" + data + "' -epochs 1 -threads 1");
    CHECK(code != 0);
    CHECK_THAT(out, Contains(f.path("valid.list") + ":91: valid/zero/missing.png: no such image file"));
}

TEST_CASE("detection source: letterboxed images, boxes in network coordinates, label errors name the file", "[data]") {
    const fs::path dir = fs::temp_directory_path() / ("lenet_detection_source_" + std::to_string(::getpid()));
    fs::create_directories(dir / "images");
    fs::create_directories(dir / "labels");
    // 200 x 100, white: letterboxed into 64 x 64 it becomes 64 x 32 at dy = 16, grey 0.5 above and below.
    cv::imwrite((dir / "images" / "a.png").string(), cv::Mat(100, 200, CV_8UC3, cv::Scalar(255, 255, 255)));
    std::ofstream(dir / "labels" / "a.txt") << "3 0.5 0.5 0.5 0.5\n";
    std::ofstream(dir / "list.txt") << (dir / "images" / "a.png").string() << "\n";
    std::ofstream(dir / "names") << "a\nb\nc\nd\n";
    std::ofstream(dir / "d.data") << "classes=4\ntrain=" << (dir / "list.txt").string()
                                  << "\nvalid=" << (dir / "list.txt").string() << "\nnames=" << (dir / "names").string() << "\n";
    const auto source = open_detection_data((dir / "d.data").string(), "valid", Shape{3, 64, 64});
    REQUIRE(source->count() == 1);
    CHECK(source->has_boxes());
    std::vector<float> image(3 * 64 * 64);
    std::vector<std::vector<detect::Truth>> boxes(1);
    const int index = 0;
    source->gather(&index, 1, image.data(), nullptr);
    source->gather_boxes(&index, 1, boxes.data());
    CHECK(image[0] == Approx(0.5f));              // padding, row 0
    CHECK(image[32 * 64 + 10] == Approx(1.0f));   // the image, row 32
    REQUIRE(boxes[0].size() == 1);
    CHECK(boxes[0][0].cls == 3);
    CHECK(boxes[0][0].box.x == Approx(0.5f));
    CHECK(boxes[0][0].box.y == Approx(0.5f));
    CHECK(boxes[0][0].box.w == Approx(0.5f));
    CHECK(boxes[0][0].box.h == Approx(0.25f));    // 0.5 of 32 rows of 64
    std::ofstream(dir / "labels" / "a.txt") << "7 0.5 0.5 0.5 0.5\n";  // class outside 0..3
    CHECK_THROWS_WITH(open_detection_data((dir / "d.data").string(), "train", Shape{3, 64, 64}),
                      Contains("a.txt:1"));

    // Images reach OpenCV only in the common formats, and its exceptions come back as Errors that
    // name the list and line (fuzz/fuzz_detection_list.cpp: a PGM header claiming 10^10 pixels
    // made cv::imread throw cv::Exception through the source).
    std::ofstream(dir / "labels" / "a.txt") << "3 0.5 0.5 0.5 0.5\n";
    std::ofstream(dir / "images" / "huge.pgm", std::ios::binary) << "P5\n100000 100000\n255\n" << std::string(16, '\0');
    std::ofstream(dir / "labels" / "huge.txt") << "";
    std::ofstream(dir / "images" / "text.png") << "0 0.5 0.5 0.5 0.5\n";
    std::ofstream(dir / "labels" / "text.txt") << "";
    const std::string list = (dir / "list.txt").string(), data = (dir / "d.data").string();
    std::ofstream(list) << (dir / "images" / "a.png").string() << "\n" << (dir / "images" / "huge.pgm").string() << "\n";
    CHECK_THROWS_WITH(open_detection_data(data, "train", Shape{3, 64, 64}),
                      Contains(list + ":2: " + (dir / "images" / "huge.pgm").string() + ": cannot decode image: "));
    std::ofstream(list) << (dir / "images" / "text.png").string() << "\n";
    CHECK_THROWS_WITH(open_detection_data(data, "train", Shape{3, 64, 64}),
                      Contains(list + ":1: " + (dir / "images" / "text.png").string() + ": byte offset 0: not a PNG"));
    std::ofstream(list) << (dir / "images" / "gone.png").string() << "\n";
    std::ofstream(dir / "labels" / "gone.txt") << "";
    CHECK_THROWS_WITH(open_detection_data(data, "train", Shape{3, 64, 64}),
                      Contains(list + ":1: " + (dir / "images" / "gone.png").string() + ": no such file"));
    fs::remove_all(dir);
}
