#include "data/digit_scenes.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#if defined(__clang__)  // OpenCV 4.6's videoio enums add values of different enums (C++20 deprecates it)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-anon-enum-enum-conversion"
#endif
#include <opencv2/videoio.hpp>
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "core/rng.h"
#include "data/image.h"
#include "io/atomic_file.h"

namespace lenet {

namespace {

namespace fs = std::filesystem;
constexpr float kPi = 3.14159265358979f;
// A pixel belongs to a digit's box when its ink coverage reaches this (after scaling and the
// stroke curve): what an annotator would call ink, not the faint anti-aliased fringe.
constexpr float kInkThreshold = 0.25f;

using Color = cv::Vec3f;  // BGR in [0, 1]

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t salt, std::uint64_t index) {
    std::uint64_t z = seed * 0x9E3779B97F4A7C15ull ^ (salt + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull;
    z ^= (index + 1) * 0x94D049BB133111EBull;
    z ^= z >> 29;
    return z * 0xBF58476D1CE4E5B9ull;
}

float luminance(const Color& c) { return 0.114f * c[0] + 0.587f * c[1] + 0.299f * c[2]; }

Color random_color(Rng& rng) {
    const float kind = rng.uniform();
    if (kind < 0.2f) {  // paper: near white, slightly tinted
        const float v = rng.uniform(0.8f, 1.0f);
        return {v - rng.uniform(0, 0.1f), v - rng.uniform(0, 0.05f), v};
    }
    if (kind < 0.35f) {  // board or dark cloth
        const float v = rng.uniform(0.0f, 0.2f);
        return {v + rng.uniform(0, 0.1f), v + rng.uniform(0, 0.1f), v};
    }
    return {rng.uniform(), rng.uniform(), rng.uniform()};
}

// Another colour near `c` (textures of moderate contrast, so digits stay legible).
Color nearby_color(Rng& rng, const Color& c, float spread) {
    Color out;
    for (int k = 0; k < 3; ++k) out[k] = std::clamp(c[k] + rng.uniform(-spread, spread), 0.0f, 1.0f);
    return out;
}

cv::Mat mix(const cv::Mat& t, const Color& a, const Color& b) {  // t: CV_32F in [0, 1]
    cv::Mat out(t.size(), CV_32FC3);
    for (int y = 0; y < t.rows; ++y)
        for (int x = 0; x < t.cols; ++x) {
            const float v = t.at<float>(y, x);
            out.at<Color>(y, x) = a * (1 - v) + b * v;
        }
    return out;
}

cv::Mat background(Rng& rng, int size, const std::vector<cv::Mat>& photos) {
    const int kinds = photos.empty() ? 6 : 7;
    const int kind = int(rng.below(std::uint64_t(kinds)));
    const Color base = random_color(rng);
    const Color other = nearby_color(rng, base, rng.uniform(0.1f, 0.5f));
    cv::Mat t(size, size, CV_32F);
    cv::Mat bg;
    const float s = float(size);
    switch (kind) {
        case 0: {  // linear gradient
            const float angle = rng.uniform(0, 2 * kPi), c = std::cos(angle), d = std::sin(angle);
            for (int y = 0; y < size; ++y)
                for (int x = 0; x < size; ++x)
                    t.at<float>(y, x) = std::clamp(0.5f + ((float(x) - s / 2) * c + (float(y) - s / 2) * d) / s, 0.0f, 1.0f);
            bg = mix(t, base, other);
            break;
        }
        case 1: {  // value noise: a coarse random grid, smoothly enlarged
            const int cells = 2 + int(rng.below(10));
            cv::Mat grid(cells, cells, CV_32F);
            for (int i = 0; i < cells * cells; ++i) grid.at<float>(i / cells, i % cells) = rng.uniform();
            cv::resize(grid, t, cv::Size(size, size), 0, 0, cv::INTER_CUBIC);
            cv::min(cv::max(t, 0.0), 1.0, t);
            bg = mix(t, base, other);
            break;
        }
        case 2: {  // stripes, soft or hard
            const float angle = rng.uniform(0, kPi), period = rng.uniform(6, 48), c = std::cos(angle), d = std::sin(angle);
            const bool hard = rng.uniform() < 0.5f;
            for (int y = 0; y < size; ++y)
                for (int x = 0; x < size; ++x) {
                    const float v = 0.5f + 0.5f * std::sin(2 * kPi * (float(x) * c + float(y) * d) / period);
                    t.at<float>(y, x) = hard ? (v > 0.5f ? 1.0f : 0.0f) : v;
                }
            bg = mix(t, base, other);
            break;
        }
        case 3: {  // checker board
            const int cell = 6 + int(rng.below(44));
            const int ox = int(rng.below(std::uint64_t(cell))), oy = int(rng.below(std::uint64_t(cell)));
            for (int y = 0; y < size; ++y)
                for (int x = 0; x < size; ++x) t.at<float>(y, x) = float(((x + ox) / cell + (y + oy) / cell) % 2);
            bg = mix(t, base, other);
            cv::GaussianBlur(bg, bg, cv::Size(0, 0), 0.7);
            break;
        }
        case 4: {  // blurred blobs of colour
            bg = cv::Mat(size, size, CV_32FC3, cv::Scalar(base[0], base[1], base[2]));
            const int blobs = 8 + int(rng.below(30));
            for (int i = 0; i < blobs; ++i) {
                const Color c = nearby_color(rng, base, 0.45f);
                cv::circle(bg, cv::Point(int(rng.below(std::uint64_t(size))), int(rng.below(std::uint64_t(size)))),
                           int(rng.uniform(s / 20, s / 5)), cv::Scalar(c[0], c[1], c[2]), cv::FILLED, cv::LINE_AA);
            }
            cv::GaussianBlur(bg, bg, cv::Size(0, 0), double(s) / 25);
            break;
        }
        case 5: {  // ruled or squared paper, sometimes with a margin line
            const Color paper = nearby_color(rng, Color(0.93f, 0.96f, 0.97f), 0.06f);
            const Color ink = rng.uniform() < 0.6f ? Color(0.75f, 0.55f, 0.35f) : nearby_color(rng, Color(0.6f, 0.6f, 0.6f), 0.1f);
            bg = cv::Mat(size, size, CV_32FC3, cv::Scalar(paper[0], paper[1], paper[2]));
            const int pitch = 10 + int(rng.below(24)), offset = int(rng.below(std::uint64_t(pitch)));
            const bool squared = rng.uniform() < 0.4f;
            for (int p = offset; p < size; p += pitch) {
                cv::line(bg, cv::Point(0, p), cv::Point(size - 1, p), cv::Scalar(ink[0], ink[1], ink[2]), 1, cv::LINE_AA);
                if (squared) cv::line(bg, cv::Point(p, 0), cv::Point(p, size - 1), cv::Scalar(ink[0], ink[1], ink[2]), 1, cv::LINE_AA);
            }
            if (!squared && rng.uniform() < 0.5f) {
                const int x = int(rng.below(std::uint64_t(size)));
                cv::line(bg, cv::Point(x, 0), cv::Point(x, size - 1), cv::Scalar(0.45, 0.45, 0.9), 1, cv::LINE_AA);
            }
            cv::GaussianBlur(bg, bg, cv::Size(0, 0), 0.6);
            break;
        }
        default: {  // a random crop of a photograph
            const cv::Mat& photo = photos[rng.below(photos.size())];
            const int side = std::min(photo.cols, photo.rows);
            const int crop = std::max(8, int(float(side) * rng.uniform(0.4f, 1.0f)));
            const int x0 = int(rng.below(std::uint64_t(photo.cols - crop + 1)));
            const int y0 = int(rng.below(std::uint64_t(photo.rows - crop + 1)));
            cv::resize(photo(cv::Rect(x0, y0, crop, crop)), bg, cv::Size(size, size), 0, 0, cv::INTER_AREA);
            break;
        }
    }
    if (rng.uniform() < 0.5f) {  // uneven lighting
        const float angle = rng.uniform(0, 2 * kPi), c = std::cos(angle), d = std::sin(angle);
        const float low = rng.uniform(0.55f, 0.95f), high = rng.uniform(1.0f, 1.25f);
        for (int y = 0; y < size; ++y)
            for (int x = 0; x < size; ++x) {
                const float v = std::clamp(0.5f + ((float(x) - s / 2) * c + (float(y) - s / 2) * d) / s, 0.0f, 1.0f);
                bg.at<Color>(y, x) *= low + (high - low) * v;
            }
    }
    const float noise = rng.uniform(0, 0.05f);
    if (noise > 0.005f) {  // sensor noise, through OpenCV's own (deterministic) generator
        cv::RNG cv_rng(rng.next());
        cv::Mat n(size, size, CV_32FC3);
        cv_rng.fill(n, cv::RNG::NORMAL, 0.0, double(noise));
        bg += n;
    }
    cv::min(cv::max(bg, 0.0), 1.0, bg);
    return bg;
}

// One digit, scaled and slanted: its coverage (CV_32F, 0..1) and the box of its ink in the patch.
struct Patch {
    cv::Mat alpha;
    cv::Rect ink;
};

cv::Rect ink_rect(const cv::Mat& alpha, float threshold) {
    int x0 = alpha.cols, y0 = alpha.rows, x1 = -1, y1 = -1;
    for (int y = 0; y < alpha.rows; ++y)
        for (int x = 0; x < alpha.cols; ++x)
            if (alpha.at<float>(y, x) >= threshold) {
                x0 = std::min(x0, x);
                x1 = std::max(x1, x);
                y0 = std::min(y0, y);
                y1 = std::max(y1, y);
            }
    if (x1 < 0) return {};
    return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

Patch render_digit(const Dataset& digits, int index, float target_height, Rng& rng) {
    const int h = digits.shape.h, w = digits.shape.w;
    cv::Mat src(h, w, CV_32F);
    const std::uint8_t* pixels = digits.pixels.data() + std::size_t(index) * digits.shape.size();
    for (int i = 0; i < h * w; ++i) src.at<float>(i / w, i % w) = float(pixels[i]) / 255.0f;
    cv::Rect crop = ink_rect(src, 0.1f);
    if (crop.empty()) crop = {0, 0, w, h};
    // Scale so the ink is target_height tall, with a little aspect and slant variation.
    const float scale = target_height / float(crop.height);
    const float sx = scale * rng.uniform(0.85f, 1.2f), sy = scale;
    const float angle = rng.uniform(-12, 12) * kPi / 180, shear = rng.uniform(-0.2f, 0.2f);
    const float ca = std::cos(angle), sa = std::sin(angle);
    // Linear part: rotation * shear * scale.
    const float a00 = ca * sx, a01 = (ca * shear - sa) * sy, a10 = sa * sx, a11 = (sa * shear + ca) * sy;
    const float cx = float(crop.x) + float(crop.width) / 2, cy = float(crop.y) + float(crop.height) / 2;
    const float half_w = float(crop.width) / 2 + 1.5f, half_h = float(crop.height) / 2 + 1.5f;
    const float ext_x = std::abs(a00) * half_w + std::abs(a01) * half_h, ext_y = std::abs(a10) * half_w + std::abs(a11) * half_h;
    const int out_w = int(std::ceil(2 * ext_x)) + 4, out_h = int(std::ceil(2 * ext_y)) + 4;
    cv::Mat m = (cv::Mat_<double>(2, 3) << a00, a01, double(out_w) / 2 - (a00 * cx + a01 * cy), a10, a11,
                 double(out_h) / 2 - (a10 * cx + a11 * cy));
    Patch patch;
    cv::warpAffine(src, patch.alpha, m, cv::Size(out_w, out_h), cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
    // Stroke weight: a ramp from t0 to t1 (a low t0 thickens the stroke, a high one thins it).
    const float t0 = rng.uniform(0.1f, 0.45f), t1 = t0 + rng.uniform(0.15f, 0.4f);
    patch.alpha = (patch.alpha - double(t0)) / double(t1 - t0);
    cv::min(cv::max(patch.alpha, 0.0), 1.0, patch.alpha);
    patch.ink = ink_rect(patch.alpha, kInkThreshold);
    return patch;
}

// An ink colour that stands out from the background's mean colour, dark or light.
Color ink_color(Rng& rng, const Color& under) {
    const float l = luminance(under);
    const bool can_dark = l >= 0.3f, can_light = l <= 0.7f;
    const bool dark = can_dark && (!can_light || rng.uniform() < 0.5f);
    const float room = std::min(dark ? l : 1 - l, 0.95f);
    const float delta = rng.uniform(std::min(0.28f, room), room);
    const float target = dark ? l - delta : l + delta;
    const float tint = rng.uniform(0, 0.4f);
    Color ink;
    for (int k = 0; k < 3; ++k) ink[k] = std::clamp(target + tint * (rng.uniform() - 0.5f), 0.0f, 1.0f);
    return ink;
}

Color mean_under(const cv::Mat& image, const cv::Rect& r) {
    const cv::Scalar m = cv::mean(image(r & cv::Rect(0, 0, image.cols, image.rows)));
    return {float(m[0]), float(m[1]), float(m[2])};
}

void composite(cv::Mat& image, const cv::Mat& alpha, cv::Point at, const Color& ink) {
    for (int y = 0; y < alpha.rows; ++y)
        for (int x = 0; x < alpha.cols; ++x) {
            const float a = alpha.at<float>(y, x);
            if (a <= 0) continue;
            Color& p = image.at<Color>(at.y + y, at.x + x);
            p = p * (1 - a) + ink * a;
        }
}

// Overlap relative to the smaller box: digits may touch a little, not hide each other.
bool overlaps(const cv::Rect& a, const std::vector<cv::Rect>& others, float limit) {
    for (const cv::Rect& b : others) {
        const double inter = double((a & b).area());
        if (inter > limit * double(std::min(a.area(), b.area()))) return true;
    }
    return false;
}

// Strokes and blobs that are not digits: slanted bars (never upright, which reads as a 1),
// blobs, crosses, wavy scribbles and dots. Drawn at a size like a digit's.
cv::Mat distractor(Rng& rng, float size, cv::Rect& extent) {
    const int side = int(size * 1.3f) + 8;
    cv::Mat alpha = cv::Mat::zeros(side, side, CV_32F);
    const cv::Point2f c(float(side) / 2, float(side) / 2);
    const int thick = std::max(2, int(size * rng.uniform(0.06f, 0.16f)));
    auto at = [&](float dx, float dy) { return cv::Point(int(c.x + dx), int(c.y + dy)); };
    switch (rng.below(5)) {
        case 0: {  // bar
            const float angle = rng.uniform(-50, 50) * kPi / 180, len = size * rng.uniform(0.4f, 0.6f);
            cv::line(alpha, at(-len * std::cos(angle), -len * std::sin(angle)), at(len * std::cos(angle), len * std::sin(angle)),
                     1.0, thick, cv::LINE_AA);
            break;
        }
        case 1:  // blob
            cv::ellipse(alpha, at(0, 0), cv::Size(int(size * rng.uniform(0.15f, 0.4f)), int(size * rng.uniform(0.1f, 0.25f))),
                        double(rng.uniform(0, 180)), 0, 360, 1.0, cv::FILLED, cv::LINE_AA);
            break;
        case 2: {  // cross
            const float r = size * rng.uniform(0.2f, 0.4f);
            cv::line(alpha, at(-r, -r), at(r, r), 1.0, thick, cv::LINE_AA);
            cv::line(alpha, at(-r, r), at(r, -r), 1.0, thick, cv::LINE_AA);
            break;
        }
        case 3: {  // wavy scribble
            std::vector<cv::Point> points;
            const float len = size * 0.6f, amp = size * rng.uniform(0.05f, 0.15f), periods = rng.uniform(1.5f, 3.0f);
            for (int i = 0; i <= 24; ++i) {
                const float u = float(i) / 24;
                points.push_back(at((u - 0.5f) * 2 * len, amp * std::sin(u * periods * 2 * kPi)));
            }
            cv::polylines(alpha, points, false, 1.0, thick, cv::LINE_AA);
            break;
        }
        default: {  // dots
            const int dots = 2 + int(rng.below(4));
            for (int i = 0; i < dots; ++i)
                cv::circle(alpha, at(rng.uniform(-size / 2, size / 2), rng.uniform(-size / 3, size / 3)),
                           std::max(2, thick / 2 + 1), 1.0, cv::FILLED, cv::LINE_AA);
            break;
        }
    }
    cv::GaussianBlur(alpha, alpha, cv::Size(0, 0), double(rng.uniform(0.5f, 1.2f)));  // soft edges, like scaled digits
    extent = ink_rect(alpha, 0.01f);
    return alpha;
}

cv::Mat to_bytes(const cv::Mat& image) {
    cv::Mat out;
    image.convertTo(out, CV_8UC3, 255.0);
    return out;
}

float log_uniform(Rng& rng, float low, float high) { return low * std::exp(rng.uniform() * std::log(high / low)); }

}  // namespace

SceneGenerator::SceneGenerator(const Dataset& digits, SceneOptions options, std::uint64_t split_salt)
    : digits_(digits), options_(std::move(options)), salt_(split_salt) {
    if (digits_.count() == 0) throw Error("digit scenes: no digits to place");
    if (options_.size < 32) throw Error(cat("digit scenes: size ", options_.size, " is too small (at least 32)"));
    for (const std::string& path : options_.photos) {
        cv::Mat photo;
        try {
            photo = read_image_file(path, cv::IMREAD_COLOR);
        } catch (const Error& e) {
            throw Error(cat(e.what(), " (a -photos background)"));
        }
        cv::Mat f;
        photo.convertTo(f, CV_32FC3, 1.0 / 255.0);
        photos_.push_back(f);
    }
}

Scene SceneGenerator::make(std::uint64_t index) const {
    Rng rng(mix_seed(options_.seed, salt_, index));
    const int size = options_.size;
    cv::Mat image = background(rng, size, photos_);
    Scene scene;
    std::vector<cv::Rect> taken;
    const int wanted = options_.min_digits + int(rng.below(std::uint64_t(options_.max_digits - options_.min_digits + 1)));
    for (int d = 0; d < wanted; ++d) {
        const int source = int(rng.below(std::uint64_t(digits_.count())));
        const float height = log_uniform(rng, float(size) / 12, float(size) / 3);
        Patch patch = render_digit(digits_, source, height, rng);
        if (patch.ink.empty() || patch.alpha.cols >= size || patch.alpha.rows >= size) continue;
        for (int attempt = 0; attempt < 40; ++attempt) {
            const cv::Point at(int(rng.below(std::uint64_t(size - patch.alpha.cols + 1))),
                               int(rng.below(std::uint64_t(size - patch.alpha.rows + 1))));
            const cv::Rect ink = patch.ink + at;
            if (overlaps(ink, taken, 0.1f)) continue;
            composite(image, patch.alpha, at, ink_color(rng, mean_under(image, ink)));
            taken.push_back(ink);
            LabelBox box;
            box.cls = digits_.labels[std::size_t(source)];
            const float s = float(size);
            box.box = detect::box_from_corners(float(ink.x) / s, float(ink.y) / s, float(ink.x + ink.width) / s,
                                               float(ink.y + ink.height) / s);
            scene.boxes.push_back(box);
            scene.sources.push_back(source);
            break;
        }
    }
    const int distractors = int(rng.below(std::uint64_t(options_.max_distractors + 1)));
    for (int d = 0; d < distractors; ++d) {
        cv::Rect extent;
        const cv::Mat alpha = distractor(rng, log_uniform(rng, float(size) / 12, float(size) / 4), extent);
        if (extent.empty() || alpha.cols >= size) continue;
        for (int attempt = 0; attempt < 20; ++attempt) {
            const cv::Point at(int(rng.below(std::uint64_t(size - alpha.cols + 1))),
                               int(rng.below(std::uint64_t(size - alpha.rows + 1))));
            if (overlaps(extent + at, taken, 0.0f)) continue;  // never on a digit's box
            composite(image, alpha, at, ink_color(rng, mean_under(image, extent + at)));
            break;
        }
    }
    scene.image = to_bytes(image);
    return scene;
}

namespace {

std::uint64_t split_salt(const std::string& split) { return split == "train" ? 1 : 2; }

std::string mnist_split(const std::string& split) {
    if (split == "train") return "train";
    if (split == "valid") return "test";
    throw Error(cat("digit scenes: split '", split, "': expected train or valid"));
}

}  // namespace

void write_digit_scenes(const std::string& mnist_dir, const std::string& out_dir, const std::string& split,
                        int count, const SceneOptions& options, bool verbose) {
    if (options.format != "jpg" && options.format != "png")
        throw Error(cat("digit scenes: format '", options.format, "': expected jpg or png"));
    const Dataset digits = load_mnist(mnist_dir, mnist_split(split));
    const SceneGenerator generator(digits, options, split_salt(split));
    const fs::path root(out_dir);
    const fs::path images = root / "images" / split, labels = root / "labels" / split;
    fs::create_directories(images);
    fs::create_directories(labels);
    std::string list;
    int boxes = 0;
    for (int i = 0; i < count; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "%06d", i);
        const Scene scene = generator.make(std::uint64_t(i));
        const std::string image_path = (images / (std::string(name) + "." + options.format)).string();
        std::vector<unsigned char> bytes;
        const std::vector<int> params = {cv::IMWRITE_JPEG_QUALITY, 95};
        if (!cv::imencode("." + options.format, scene.image, bytes, options.format == "jpg" ? params : std::vector<int>{}))
            throw Error(cat(image_path, ": cannot encode the scene"));
        write_file_atomically(image_path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
        write_yolo_labels((labels / (std::string(name) + ".txt")).string(), scene.boxes);
        list += image_path + "\n";
        boxes += int(scene.boxes.size());
        if (verbose && ((i + 1) % 500 == 0 || i + 1 == count))
            std::printf("\r%s: %d/%d scenes, %d digits", split.c_str(), i + 1, count, boxes), std::fflush(stdout);
    }
    if (verbose && count > 0) std::printf("\n");
    write_file_atomically((root / (split + ".txt")).string(), list);
    write_file_atomically((root / "digits.names").string(), "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n");
    write_file_atomically((root / "digits.data").string(),
                          cat("classes=10\ntrain=", (root / "train.txt").string(), "\nvalid=", (root / "valid.txt").string(),
                              "\nnames=", (root / "digits.names").string(), "\nbackup=backup/\n"));
    if (verbose)
        std::printf("wrote %d %s scenes (%dx%d, %d digits) to %s; list %s\n", count, split.c_str(), options.size,
                    options.size, boxes, images.string().c_str(), (root / (split + ".txt")).string().c_str());
}

void write_digit_video(const std::string& mnist_dir, const std::string& video_path, const std::string& split,
                       int frames, const SceneOptions& options) {
    const Dataset digits = load_mnist(mnist_dir, mnist_split(split));
    Rng rng(mix_seed(options.seed, split_salt(split) + 100, 0));
    const int size = options.size;
    const cv::Mat bg = background(rng, size, {});
    struct Mover {
        Patch patch;
        int cls;
        float x, y, vx, vy;
        Color ink;
    };
    std::vector<Mover> movers;
    std::vector<cv::Rect> taken;
    const int wanted = std::max(1, options.min_digits) + int(rng.below(std::uint64_t(std::max(0, options.max_digits - options.min_digits) + 1)));
    for (int d = 0; d < wanted; ++d) {
        const int source = int(rng.below(std::uint64_t(digits.count())));
        Patch patch = render_digit(digits, source, log_uniform(rng, float(size) / 8, float(size) / 3.5f), rng);
        if (patch.ink.empty() || patch.alpha.cols >= size || patch.alpha.rows >= size) continue;
        for (int attempt = 0; attempt < 40; ++attempt) {
            const cv::Point at(int(rng.below(std::uint64_t(size - patch.alpha.cols + 1))),
                               int(rng.below(std::uint64_t(size - patch.alpha.rows + 1))));
            if (overlaps(patch.ink + at, taken, 0.0f)) continue;
            taken.push_back(patch.ink + at);
            const float angle = rng.uniform(0, 2 * kPi), speed = rng.uniform(1.0f, 4.0f);
            const Color ink = ink_color(rng, mean_under(bg, patch.ink + at));
            movers.push_back({patch, digits.labels[std::size_t(source)], float(at.x), float(at.y), speed * std::cos(angle),
                              speed * std::sin(angle), ink});
            break;
        }
    }
    const fs::path parent = fs::path(video_path).parent_path();
    if (!parent.empty()) fs::create_directories(parent);
    // OpenCV's own MJPG-in-AVI writer: no GStreamer or FFmpeg needed, and the same bytes everywhere.
    cv::VideoWriter writer(video_path, cv::CAP_OPENCV_MJPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10.0,
                           cv::Size(size, size), true);
    if (!writer.isOpened()) throw Error(cat(video_path, ": cannot open for writing as MJPG video"));
    std::string truth;
    const float s = float(size);
    for (int f = 0; f < frames; ++f) {
        cv::Mat frame = bg.clone();
        std::string line = cat("{\"frame\":", f, ",\"boxes\":[");
        for (std::size_t i = 0; i < movers.size(); ++i) {
            const Mover& m = movers[i];
            const cv::Point at(int(m.x), int(m.y));
            composite(frame, m.patch.alpha, at, m.ink);
            const cv::Rect ink = m.patch.ink + at;
            char box[160];
            std::snprintf(box, sizeof box, "%s{\"class\":%d,\"x\":%.6f,\"y\":%.6f,\"w\":%.6f,\"h\":%.6f}", i ? "," : "", m.cls,
                          double((float(ink.x) + float(ink.width) / 2) / s), double((float(ink.y) + float(ink.height) / 2) / s),
                          double(float(ink.width) / s), double(float(ink.height) / s));
            line += box;
        }
        truth += line + "]}\n";
        writer.write(to_bytes(frame));
        // Move: bounce off the frame's edges, and turn back rather than run into another digit.
        for (std::size_t i = 0; i < movers.size(); ++i) {
            Mover& m = movers[i];
            float nx = m.x + m.vx, ny = m.y + m.vy;
            if (nx < 0 || nx > float(size - m.patch.alpha.cols)) m.vx = -m.vx, nx = m.x + m.vx;
            if (ny < 0 || ny > float(size - m.patch.alpha.rows)) m.vy = -m.vy, ny = m.y + m.vy;
            const cv::Rect next = m.patch.ink + cv::Point(int(nx), int(ny));
            bool blocked = false;
            for (std::size_t j = 0; j < movers.size(); ++j)
                if (j != i && (next & (movers[j].patch.ink + cv::Point(int(movers[j].x), int(movers[j].y)))).area() > 0) blocked = true;
            if (blocked) {
                m.vx = -m.vx;
                m.vy = -m.vy;
                continue;
            }
            m.x = std::clamp(nx, 0.0f, float(size - m.patch.alpha.cols));
            m.y = std::clamp(ny, 0.0f, float(size - m.patch.alpha.rows));
        }
    }
    writer.release();
    fs::path truth_path(video_path);
    truth_path.replace_extension(".jsonl");
    write_file_atomically(truth_path.string(), truth);
}

}  // namespace lenet
