// Darknet's detector augmentation (data/augment.h): jittered crops and flips keep every box on its
// ink, flip mirrors x, colour changes pixels but never boxes, one channel takes only exposure; the
// detection source augments only training batches, the same key giving the same batch; the cfg
// keys' ranges are checked with the file, line and key. Classifiers: [net] angle turns training
// images only.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "cfg/cfg.h"
#include "core/error.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/detection_source.h"
#include "data/source.h"
#include "net/network.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using namespace lenet;

namespace {

struct Rect {
    int x, y, w, h;  // pixels
};

// A black w x h image with white rectangles, and their boxes (relative, exact).
detect::PlanarImage rectangles(int w, int h, int channels, const std::vector<Rect>& rects,
                               std::vector<detect::Truth>& truths) {
    detect::PlanarImage im{w, h, channels, std::vector<float>(std::size_t(w * h * channels), 0.0f)};
    truths.clear();
    for (std::size_t r = 0; r < rects.size(); ++r) {
        const Rect& q = rects[r];
        for (int k = 0; k < channels; ++k)
            for (int y = q.y; y < q.y + q.h; ++y)
                for (int x = q.x; x < q.x + q.w; ++x) im.at(x, y, k) = 1.0f;
        truths.push_back({detect::box_from_corners(float(q.x) / float(w), float(q.y) / float(h),
                                                   float(q.x + q.w) / float(w), float(q.y + q.h) / float(h)),
                          int(r)});
    }
    return im;
}

// Ink: pixels above `thresh` in the first channel.
bool ink(const detect::PlanarImage& im, int x, int y, float thresh) { return im.at(x, y, 0) > thresh; }

const std::vector<Rect> kRects = {{4, 6, 30, 40}, {70, 20, 24, 24}, {120, 50, 36, 44}, {50, 70, 16, 24}};

}  // namespace

TEST_CASE("augmentation keeps boxes on their digits: jitter, flip and exposure move the ink and the boxes alike",
          "[data][augment]") {
    std::vector<detect::Truth> truths;
    const detect::PlanarImage image = rectangles(160, 100, 3, kRects, truths);
    Augmentation a;
    a.jitter = 0.3f;
    a.flip = true;
    a.exposure = 1.2f;  // ink 1 -> 1 or 0.83; the grey padding 0.5 -> 0.6 or 0.42
    a.hue = 0.1f;
    a.saturation = 1.5f;
    const float thresh = 0.72f;
    const int net = 96;
    int dropped = 0, flipped_or_cropped = 0;
    for (int seed = 0; seed < 60; ++seed) {
        Rng rng = image_rng(11, seed);
        std::vector<detect::Truth> boxes;
        const detect::PlanarImage out = augment_detection(image, truths, net, net, a, rng, boxes);
        REQUIRE(out.w == net);
        REQUIRE(out.h == net);
        REQUIRE(out.c == 3);
        dropped += int(truths.size() - boxes.size());
        std::vector<char> covered(std::size_t(net * net), 0);
        for (const detect::Truth& t : boxes) {
            INFO("seed " << seed << ", box of rectangle " << t.cls);
            const float l = t.box.left() * float(net), r = t.box.right() * float(net);
            const float top = t.box.top() * float(net), bottom = t.box.bottom() * float(net);
            CHECK(l >= -1e-3f);
            CHECK(r <= float(net) + 1e-3f);
            CHECK(top >= -1e-3f);
            CHECK(bottom <= float(net) + 1e-3f);
            // The ink's bounding box near this box (2 pixels around it) is the box, to 1.5 pixels.
            int ix0 = net, iy0 = net, ix1 = -1, iy1 = -1;
            for (int y = std::max(0, int(top) - 2); y < std::min(net, int(bottom) + 3); ++y)
                for (int x = std::max(0, int(l) - 2); x < std::min(net, int(r) + 3); ++x) {
                    covered[std::size_t(y * net + x)] = 1;
                    if (!ink(out, x, y, thresh)) continue;
                    ix0 = std::min(ix0, x), iy0 = std::min(iy0, y), ix1 = std::max(ix1, x), iy1 = std::max(iy1, y);
                }
            if (r - l < 2 || bottom - top < 2) continue;  // a sliver at the crop's edge
            REQUIRE(ix1 >= 0);
            CHECK(float(ix0) == Approx(l).margin(1.5));
            CHECK(float(ix1 + 1) == Approx(r).margin(1.5));
            CHECK(float(iy0) == Approx(top).margin(1.5));
            CHECK(float(iy1 + 1) == Approx(bottom).margin(1.5));
            if (std::abs(t.box.x - truths[std::size_t(t.cls)].box.x) > 0.01f) ++flipped_or_cropped;
        }
        // No ink outside every box: nothing visible went unlabelled.
        int stray = 0;
        for (int y = 0; y < net; ++y)
            for (int x = 0; x < net; ++x) stray += ink(out, x, y, thresh) && !covered[std::size_t(y * net + x)];
        INFO("seed " << seed);
        CHECK(stray == 0);
    }
    CHECK(flipped_or_cropped > 20);  // the draws did move things
    CHECK(dropped >= 0);
}

TEST_CASE("augmentation: flip mirrors x, and hue, saturation and exposure change pixels but not boxes", "[data][augment]") {
    std::vector<detect::Truth> truths;
    detect::PlanarImage image = rectangles(160, 100, 3, kRects, truths);
    for (int y = 0; y < image.h; ++y)  // colour under the rectangles, so that hue has something to turn
        for (int x = 0; x < image.w; ++x)
            if (image.at(x, y, 0) == 0) image.at(x, y, 0) = 0.8f * float(x) / float(image.w), image.at(x, y, 1) = 0.3f;
    const int net = 64;
    Augmentation none, flip;
    flip.flip = true;
    int mirrored = 0, kept = 0;
    for (int seed = 0; seed < 16; ++seed) {
        Rng r1 = image_rng(3, seed), r2 = image_rng(3, seed);
        std::vector<detect::Truth> plain_boxes, flip_boxes;
        const detect::PlanarImage plain = augment_detection(image, truths, net, net, none, r1, plain_boxes);
        const detect::PlanarImage flipped = augment_detection(image, truths, net, net, flip, r2, flip_boxes);
        REQUIRE(plain_boxes.size() == truths.size());
        REQUIRE(flip_boxes.size() == truths.size());
        const bool was_flipped = flipped.data != plain.data;
        (was_flipped ? mirrored : kept) += 1;
        for (int k = 0; k < 3; ++k)
            for (int y = 0; y < net; ++y)
                for (int x = 0; x < net; ++x)
                    REQUIRE(flipped.at(x, y, k) == plain.at(was_flipped ? net - 1 - x : x, y, k));
        for (std::size_t i = 0; i < truths.size(); ++i) {
            CHECK(flip_boxes[i].box.x == Approx(was_flipped ? 1 - plain_boxes[i].box.x : plain_boxes[i].box.x));
            CHECK(flip_boxes[i].box.y == plain_boxes[i].box.y);
            CHECK(flip_boxes[i].box.w == plain_boxes[i].box.w);
            CHECK(flip_boxes[i].box.h == plain_boxes[i].box.h);
            CHECK(flip_boxes[i].cls == plain_boxes[i].cls);
        }
    }
    CHECK(mirrored > 2);
    CHECK(kept > 2);

    // Colour on top of jitter and flip: the same seed, the same boxes, other pixels.
    Augmentation geometry, colour;
    geometry.jitter = colour.jitter = 0.25f;
    geometry.flip = colour.flip = true;
    colour.hue = 0.2f;
    colour.saturation = 1.5f;
    colour.exposure = 1.5f;
    for (int seed = 0; seed < 8; ++seed) {
        Rng r1 = image_rng(9, seed), r2 = image_rng(9, seed);
        std::vector<detect::Truth> geometry_boxes, colour_boxes;
        const detect::PlanarImage g = augment_detection(image, truths, net, net, geometry, r1, geometry_boxes);
        const detect::PlanarImage c = augment_detection(image, truths, net, net, colour, r2, colour_boxes);
        CHECK(g.data != c.data);
        REQUIRE(geometry_boxes.size() == colour_boxes.size());
        for (std::size_t i = 0; i < colour_boxes.size(); ++i) {
            CHECK(colour_boxes[i].box.x == geometry_boxes[i].box.x);
            CHECK(colour_boxes[i].box.y == geometry_boxes[i].box.y);
            CHECK(colour_boxes[i].box.w == geometry_boxes[i].box.w);
            CHECK(colour_boxes[i].box.h == geometry_boxes[i].box.h);
        }
        for (float v : c.data) REQUIRE((v >= 0 && v <= 1));
    }
}

TEST_CASE("augmentation: Darknet's HSV distortion, and one channel takes exposure only", "[data][augment]") {
    // Pure red, hue + 1/3 -> pure green; saturation 0.5 -> half the chroma; exposure 0.5 -> half the value.
    detect::PlanarImage rgb{1, 1, 3, {1.0f, 0.0f, 0.0f}};
    distort_image(rgb, 1.0f / 3, 1, 1);
    CHECK(rgb.data[0] == Approx(0).margin(1e-5));
    CHECK(rgb.data[1] == Approx(1));
    CHECK(rgb.data[2] == Approx(0).margin(1e-5));
    rgb.data = {1.0f, 0.0f, 0.0f};  // a whole turn: red again (Darknet's h > 1 test made it magenta)
    distort_image(rgb, 1, 1, 1);
    CHECK(rgb.data == std::vector<float>{1.0f, 0.0f, 0.0f});
    rgb.data = {0.8f, 0.4f, 0.4f};  // h 0, s 0.5, v 0.8
    distort_image(rgb, 0, 0.5f, 0.5f);
    CHECK(rgb.data[0] == Approx(0.4f));
    CHECK(rgb.data[1] == Approx(0.3f));
    CHECK(rgb.data[2] == Approx(0.3f));
    rgb.data = {0.5f, 0.5f, 0.5f};  // grey: no chroma, hue leaves it (Darknet computes 0/0 here)
    distort_image(rgb, 0.4f, 2, 1);
    CHECK(rgb.data == std::vector<float>{0.5f, 0.5f, 0.5f});
    detect::PlanarImage grey{2, 1, 1, {0.2f, 0.9f}};
    distort_image(grey, 0.3f, 3, 1);  // hue and saturation: nothing
    CHECK(grey.data == std::vector<float>{0.2f, 0.9f});
    distort_image(grey, 0, 1, 1.5f);
    CHECK(grey.data[0] == Approx(0.3f));
    CHECK(grey.data[1] == 1.0f);  // clipped
    // rand_scale(s) lies in [1/s, s], both sides drawn.
    Rng rng(5);
    int above = 0;
    for (int i = 0; i < 200; ++i) {
        const float s = rand_scale(rng, 1.5f);
        REQUIRE((s >= 1 / 1.5f - 1e-6f && s <= 1.5f + 1e-6f));
        above += s > 1;
    }
    CHECK(above > 60);
    CHECK(above < 140);
}

TEST_CASE("detection source: only training batches are augmented, the same key gives the same batch",
          "[data][augment]") {
    const fs::path dir = fs::temp_directory_path() / ("lenet_augment_source_" + std::to_string(::getpid()));
    fs::create_directories(dir / "images");
    fs::create_directories(dir / "labels");
    std::ofstream list(dir / "list.txt");
    for (int i = 0; i < 3; ++i) {
        cv::Mat image(60 + 10 * i, 80, CV_8UC3, cv::Scalar(20, 40, 60));
        cv::rectangle(image, cv::Rect(10 + 5 * i, 12, 20, 24), cv::Scalar(250, 250, 250), cv::FILLED);
        const std::string name = cat("s", i);
        cv::imwrite((dir / "images" / (name + ".png")).string(), image);
        std::ofstream(dir / "labels" / (name + ".txt"))
            << i << " " << (20 + 5 * i) / 80.0 << " " << 24.0 / (60 + 10 * i) << " 0.25 " << 24.0 / (60 + 10 * i) << "\n";
        list << (dir / "images" / (name + ".png")).string() << "\n";
    }
    list.close();
    std::ofstream(dir / "names") << "a\nb\nc\n";
    std::ofstream(dir / "d.data") << "classes=3\ntrain=" << (dir / "list.txt").string()
                                  << "\nvalid=" << (dir / "list.txt").string() << "\nnames=" << (dir / "names").string() << "\n";
    Augmentation a;
    a.jitter = 0.3f;
    a.flip = true;
    a.exposure = 1.5f;
    a.hue = 0.1f;
    const Shape shape{3, 48, 48};
    const auto plain = open_detection_data((dir / "d.data").string(), "valid", shape);
    const auto augmented = open_detection_data((dir / "d.data").string(), "train", shape, 0, false, a);
    const std::size_t size = shape.size();
    const int indices[3] = {2, 0, 1};
    std::vector<float> want(3 * size), got(3 * size), again(3 * size), other(3 * size);
    std::vector<std::vector<detect::Truth>> want_boxes(3), got_boxes(3), again_boxes(3), other_boxes(3);
    plain->gather(indices, 3, want.data(), nullptr);
    plain->gather_boxes(indices, 3, want_boxes.data());

    // gather() (evaluation, mAP) never augments.
    augmented->gather(indices, 3, got.data(), nullptr);
    augmented->gather_boxes(indices, 3, got_boxes.data());
    CHECK(got == want);
    for (int i = 0; i < 3; ++i) {
        REQUIRE(got_boxes[std::size_t(i)].size() == 1);
        CHECK(got_boxes[std::size_t(i)][0].box.x == want_boxes[std::size_t(i)][0].box.x);
        CHECK(got_boxes[std::size_t(i)][0].box.w == want_boxes[std::size_t(i)][0].box.w);
    }
    // Without augmentation gather_train is gather.
    int labels[3];
    plain->gather_train(indices, 3, 77, got.data(), labels, got_boxes.data());
    CHECK(got == want);
    CHECK(labels[0] == 2);

    // Training batches: the same key, the same images and boxes; image i's draws do not depend
    // on the batch around it.
    augmented->gather_train(indices, 3, 77, got.data(), nullptr, got_boxes.data());
    augmented->gather_train(indices, 3, 77, again.data(), nullptr, again_boxes.data());
    augmented->gather_train(indices, 3, 78, other.data(), nullptr, other_boxes.data());
    CHECK(got != want);
    CHECK(got == again);
    CHECK(other != got);
    for (int i = 0; i < 3; ++i) {
        REQUIRE(got_boxes[std::size_t(i)].size() == again_boxes[std::size_t(i)].size());
        for (std::size_t k = 0; k < got_boxes[std::size_t(i)].size(); ++k) {
            CHECK(got_boxes[std::size_t(i)][k].box.x == again_boxes[std::size_t(i)][k].box.x);
            CHECK(got_boxes[std::size_t(i)][k].box.y == again_boxes[std::size_t(i)][k].box.y);
            CHECK(got_boxes[std::size_t(i)][k].cls == indices[i]);
        }
    }
    std::vector<float> single(size);
    std::vector<detect::Truth> single_boxes;
    augmented->gather_train(&indices[1], 1, 77, single.data(), nullptr, &single_boxes);
    CHECK(std::equal(single.begin(), single.end(), got.begin() + std::ptrdiff_t(size)));
    // Decoded per gather (nothing cached), the same floats.
    LabelOptions labels_options;
    labels_options.classes = 3;
    const DetectionSource uncached((dir / "list.txt").string(), {"a", "b", "c"}, shape, 0, labels_options, a, 0);
    uncached.gather_train(indices, 3, 77, again.data(), nullptr, again_boxes.data());
    CHECK(again == got);
    // Grey networks keep grey originals: the same floats as converting each decoded image.
    const Shape grey{1, 48, 48};
    const DetectionSource grey_cached((dir / "list.txt").string(), {"a", "b", "c"}, grey, 0, labels_options, a);
    const DetectionSource grey_uncached((dir / "list.txt").string(), {"a", "b", "c"}, grey, 0, labels_options, a, 0);
    std::vector<float> g1(3 * grey.size()), g2(3 * grey.size());
    grey_cached.gather_train(indices, 3, 77, g1.data(), nullptr, nullptr);
    grey_uncached.gather_train(indices, 3, 77, g2.data(), nullptr, nullptr);
    CHECK(g1 == g2);
    grey_cached.gather(indices, 3, g1.data(), nullptr);
    grey_uncached.gather(indices, 3, g2.data(), nullptr);
    CHECK(g1 == g2);
    fs::remove_all(dir);
}

TEST_CASE("augmentation keys: ranges checked, errors name the file, the line and the key", "[data][augment]") {
    const auto build = [](const std::string& net, const std::string& yolo) {
        return Network::from_sections(parse_cfg("[net]\nwidth=2\nheight=2\nchannels=14\n" + net +
                                                    "[yolo]\nmask=0,1\nanchors=1,1,2,2,3,3\nclasses=2\nnum=3\n" + yolo,
                                                "aug.cfg"));
    };
    CHECK_THROWS_WITH(build("hue=1.5\n", ""), Contains("aug.cfg:5: [net] hue=1.5: expected a number in [0, 1]"));
    CHECK_THROWS_WITH(build("saturation=0\n", ""), Contains("aug.cfg:5: [net] saturation=0: expected a number in (0, 10]"));
    CHECK_THROWS_WITH(build("exposure=-1\n", ""), Contains("aug.cfg:5: [net] exposure=-1: expected a number in (0, 10]"));
    CHECK_THROWS_WITH(build("exposure=x\n", ""), Contains("aug.cfg:5: [net] exposure=x: expected a number"));
    CHECK_THROWS_WITH(build("flip=2\n", ""), Contains("aug.cfg:5: [net] flip=2: expected 0 or 1"));
    CHECK_THROWS_WITH(build("angle=200\n", ""), Contains("aug.cfg:5: [net] angle=200: expected a number of degrees in [0, 180]"));
    CHECK_THROWS_WITH(build("", "jitter=0.5\n"), Contains("aug.cfg:10: [yolo] jitter=0.5: expected a number in [0, 0.5)"));
    CHECK_THROWS_WITH(build("", "random=-1\n"), Contains("aug.cfg:10: [yolo] random=-1"));
    auto net = build("hue=.1\nsaturation=1.5\nexposure=1.5\nflip=1\n", "jitter=.3\nrandom=1\n");
    CHECK(net->options().hue == Approx(0.1f));
    CHECK(net->options().saturation == Approx(1.5f));
    CHECK(net->options().exposure == Approx(1.5f));
    CHECK(net->options().flip);
    CHECK_FALSE(build("", "")->options().flip);  // lenet's default, unlike Darknet's
}

TEST_CASE("classifier angle: a quarter turn turns a bar, training batches only, the same key the same turn",
          "[data][augment]") {
    // 5 x 5, a bar on row 1 from column 0 to 2: turned by 90 degrees about the centre (out(x, y) =
    // in(4 - y, x)) it lies on column 1 from row 2 to 4 (a transpose would put it on rows 0 to 2).
    std::vector<float> bar(25, 0.0f), turned(25), want(25, 0.0f);
    for (int x = 0; x < 3; ++x) bar[std::size_t(5 + x)] = 1, want[std::size_t((x + 2) * 5 + 1)] = 1;
    rotate_image(bar.data(), turned.data(), 5, 5, 1, 90);
    for (std::size_t i = 0; i < 25; ++i) CHECK(turned[i] == Approx(want[i]).margin(1e-5));
    rotate_image(bar.data(), turned.data(), 5, 5, 1, 0);
    CHECK(turned == bar);

    Dataset digits;
    digits.name = "bars";
    digits.shape = Shape{1, 9, 9};
    digits.classes = 2;
    digits.pixels.assign(2 * 81, 0);
    for (int x = 1; x < 8; ++x) digits.pixels[std::size_t(4 * 9 + x)] = digits.pixels[std::size_t(81 + x * 9 + 4)] = 255;
    digits.labels = {0, 1};
    const InMemorySource plain(digits), turning(digits, 30);
    const int indices[2] = {1, 0};
    std::vector<float> want_batch(2 * 81), got(2 * 81), again(2 * 81), other(2 * 81);
    int labels[2];
    plain.gather(indices, 2, want_batch.data(), nullptr);
    plain.gather_train(indices, 2, 5, got.data(), nullptr, nullptr);
    CHECK(got == want_batch);
    turning.gather(indices, 2, got.data(), nullptr);  // evaluation: never turned
    CHECK(got == want_batch);
    turning.gather_train(indices, 2, 5, got.data(), labels, nullptr);
    turning.gather_train(indices, 2, 5, again.data(), nullptr, nullptr);
    turning.gather_train(indices, 2, 6, other.data(), nullptr, nullptr);
    CHECK(labels[0] == 1);
    CHECK(labels[1] == 0);
    CHECK(got != want_batch);
    CHECK(got == again);
    CHECK(got != other);
    // A turn by at most 30 degrees about the centre keeps the centre pixel of the bar lit.
    CHECK(got[40] == Approx(1.0f));
    CHECK(got[81 + 40] == Approx(1.0f));
}
