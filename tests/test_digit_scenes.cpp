// Digit scenes: deterministic, boxes on the ink, labels that the label reader accepts, train and
// validation digits from disjoint MNIST splits. Uses data/mnist (scripts/get_mnist.sh).
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <set>

#include "data/image_list.h"
#include "data/digit_scenes.h"
#include "data/yolo_labels.h"
#include "io/atomic_file.h"

using namespace lenet;
namespace fs = std::filesystem;

namespace {

const std::string kMnist = LENET_SOURCE_DIR "/data/mnist";

void require_mnist() {
    if (!fs::exists(kMnist + "/train-images-idx3-ubyte") && !fs::exists(kMnist + "/train-images-idx3-ubyte.gz"))
        FAIL("MNIST is missing from " << kMnist << ": run scripts/get_mnist.sh (make test does)");
}

struct Scratch {
    fs::path dir = fs::temp_directory_path() / ("lenet_scenes_" + std::to_string(::getpid()));
    Scratch() { fs::create_directories(dir); }
    ~Scratch() { fs::remove_all(dir); }
};

}  // namespace

TEST_CASE("digit scenes: same seed, same bytes, another seed, other scenes", "[scenes]") {
    require_mnist();
    Scratch s;
    SceneOptions options;
    options.size = 160;
    options.seed = 7;
    write_digit_scenes(kMnist, (s.dir / "a").string(), "train", 5, options, false);
    write_digit_scenes(kMnist, (s.dir / "b").string(), "train", 5, options, false);
    options.seed = 8;
    write_digit_scenes(kMnist, (s.dir / "c").string(), "train", 5, options, false);
    for (int i = 0; i < 5; ++i) {
        const std::string name = "00000" + std::to_string(i);
        const std::string image = "/images/train/" + name + ".jpg", label = "/labels/train/" + name + ".txt";
        CHECK(read_file((s.dir / "a").string() + image) == read_file((s.dir / "b").string() + image));
        CHECK(read_file((s.dir / "a").string() + label) == read_file((s.dir / "b").string() + label));
        CHECK(read_file((s.dir / "a").string() + image) != read_file((s.dir / "c").string() + image));
    }
    // Scene i does not depend on how many are made.
    SceneOptions same;
    same.size = 160;
    same.seed = 7;
    write_digit_scenes(kMnist, (s.dir / "d").string(), "train", 2, same, false);
    CHECK(read_file((s.dir / "d/images/train/000001.jpg").string()) == read_file((s.dir / "a/images/train/000001.jpg").string()));
    // PNG too, lossless.
    same.format = "png";
    write_digit_scenes(kMnist, (s.dir / "e").string(), "train", 1, same, false);
    CHECK(fs::exists(s.dir / "e/images/train/000000.png"));
    // Darknet's layout: list, .data, names; label files found by Darknet's rule and read back.
    const std::string list = read_file((s.dir / "a/train.txt").string());
    CHECK(list.find((s.dir / "a/images/train/000004.jpg").string() + "\n") != std::string::npos);
    const std::string data = read_file((s.dir / "a/digits.data").string());
    CHECK(data.find("classes=10\n") == 0);
    CHECK(data.find("train=" + (s.dir / "a/train.txt").string() + "\n") != std::string::npos);
    CHECK(data.find("valid=" + (s.dir / "a/valid.txt").string() + "\n") != std::string::npos);
    CHECK(data.find("names=" + (s.dir / "a/digits.names").string() + "\n") != std::string::npos);
    CHECK(data.find("backup=") != std::string::npos);
    CHECK(read_file((s.dir / "a/digits.names").string()) == "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n");
    const DataFile parsed = read_data_file((s.dir / "a/digits.data").string());
    CHECK(parsed.classes == 10);
    CHECK(read_image_list(parsed.train).size() == 5);
    CHECK(read_names(parsed.names).size() == 10);
    LabelOptions strict;
    strict.classes = 10;
    int boxes = 0;
    for (int i = 0; i < 5; ++i) {
        const std::string image = (s.dir / ("a/images/train/00000" + std::to_string(i) + ".jpg")).string();
        boxes += int(read_yolo_labels(find_label_file(image), strict).size());
    }
    CHECK(boxes >= 5);
}

TEST_CASE("digit scenes: boxes lie on the ink, inside the image, at 1/12..1/3 of the side", "[scenes]") {
    require_mnist();
    const Dataset digits = load_mnist(kMnist, "test", 2000);
    SceneOptions options;
    options.size = 240;
    options.seed = 3;
    options.max_distractors = 0;  // so that every difference from the background is a digit
    const SceneGenerator generator(digits, options, 2);
    // The background alone: the same scene with its digits drawn with zero contrast is not
    // available, so compare against a local estimate instead: each box's border rows and columns
    // must contain pixels that differ strongly from the box's surroundings' median.
    int checked = 0;
    std::multiset<int> heights;
    for (std::uint64_t i = 0; i < 40; ++i) {
        const Scene scene = generator.make(i);
        REQUIRE(scene.image.type() == CV_8UC3);
        REQUIRE(scene.boxes.size() == scene.sources.size());
        for (std::size_t b = 0; b < scene.boxes.size(); ++b) {
            const detect::Box& box = scene.boxes[b].box;
            CHECK(box.left() >= 0.0f);
            CHECK(box.top() >= 0.0f);
            CHECK(box.right() <= 1.0f);
            CHECK(box.bottom() <= 1.0f);
            CHECK(scene.boxes[b].cls == digits.labels[std::size_t(scene.sources[b])]);
            const int x0 = int(std::lround(box.left() * 240)), x1 = int(std::lround(box.right() * 240));
            const int y0 = int(std::lround(box.top() * 240)), y1 = int(std::lround(box.bottom() * 240));
            heights.insert(y1 - y0);
            // Ink is what differs from the box's own typical colour (the background behind a
            // thin stroke): the box's median, per channel.
            const cv::Mat region = scene.image(cv::Rect(x0, y0, x1 - x0, y1 - y0));
            std::vector<cv::Mat> channels;
            cv::split(region, channels);
            auto median = [](const cv::Mat& c) {
                std::vector<unsigned char> v(c.begin<unsigned char>(), c.end<unsigned char>());
                std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
                return int(v[v.size() / 2]);
            };
            const int m[3] = {median(channels[0]), median(channels[1]), median(channels[2])};
            auto inky = [&](int x, int y) {
                const cv::Vec3b p = region.at<cv::Vec3b>(y, x);
                return std::abs(p[0] - m[0]) + std::abs(p[1] - m[1]) + std::abs(p[2] - m[2]) > 45;
            };
            auto row_has_ink = [&](int y) {
                for (int x = 0; x < region.cols; ++x)
                    if (inky(x, y)) return true;
                return false;
            };
            auto col_has_ink = [&](int x) {
                for (int y = 0; y < region.rows; ++y)
                    if (inky(x, y)) return true;
                return false;
            };
            // The outermost rows and columns of an exact box touch the ink (within one pixel).
            CHECK((row_has_ink(0) || row_has_ink(1)));
            CHECK((row_has_ink(region.rows - 1) || row_has_ink(region.rows - 2)));
            CHECK((col_has_ink(0) || col_has_ink(1)));
            CHECK((col_has_ink(region.cols - 1) || col_has_ink(region.cols - 2)));
            ++checked;
        }
    }
    CHECK(checked >= 60);
    // Heights span the range (MNIST 1s are tall and thin, so heights are the stable measure); the
    // slant and the stroke weight move a digit's ink height by up to about 15%.
    CHECK(*heights.begin() >= 240 / 12 * 85 / 100);
    CHECK(*heights.rbegin() <= 240 / 3 * 115 / 100);
    CHECK(*heights.begin() <= 30);
    CHECK(*heights.rbegin() >= 60);
}

TEST_CASE("digit scenes: train scenes use training digits, valid scenes test digits", "[scenes]") {
    require_mnist();
    const Dataset train = load_mnist(kMnist, "train", 3000), test = load_mnist(kMnist, "test", 3000);
    SceneOptions options;
    options.size = 96;
    const SceneGenerator train_scenes(train, options, 1), valid_scenes(test, options, 2);
    // The generators only see their own split's digits; check that the sources index them and that
    // the pixels of the digits used are never identical across the splits.
    const std::size_t n = train.shape.size();
    auto digest = [n](const Dataset& d, int index) {  // FNV-1a of the digit's pixels
        std::uint64_t h = 1469598103934665603ull;
        for (std::size_t p = 0; p < n; ++p) h = (h ^ d.pixels[std::size_t(index) * n + p]) * 1099511628211ull;
        return h;
    };
    std::set<std::uint64_t> train_digits;
    for (std::uint64_t i = 0; i < 30; ++i)
        for (int source : train_scenes.make(i).sources) {
            REQUIRE(source < train.count());
            train_digits.insert(digest(train, source));
        }
    int valid_used = 0;
    for (std::uint64_t i = 0; i < 30; ++i)
        for (int source : valid_scenes.make(i).sources) {
            REQUIRE(source < test.count());
            ++valid_used;
            CHECK(train_digits.count(digest(test, source)) == 0);
        }
    CHECK(valid_used > 20);
    // write_digit_scenes picks the split by name.
    CHECK_THROWS_WITH(write_digit_scenes(kMnist, "/nonexistent", "test", 1, options, false),
                      Catch::Matchers::Contains("split 'test': expected train or valid"));
}

TEST_CASE("digit scenes: a video of moving digits with per-frame ground truth", "[scenes]") {
    require_mnist();
    Scratch s;
    SceneOptions options;
    options.size = 128;
    options.seed = 5;
    const std::string video = (s.dir / "moving.avi").string();
    write_digit_video(kMnist, video, "valid", 12, options);
    CHECK(fs::file_size(video) > 1000);
    const std::string truth = read_file((s.dir / "moving.jsonl").string());
    CHECK(std::count(truth.begin(), truth.end(), '\n') == 12);
    CHECK(truth.find("{\"frame\":0,\"boxes\":[{\"class\":") == 0);
    CHECK(truth.find("{\"frame\":11,") != std::string::npos);
}
