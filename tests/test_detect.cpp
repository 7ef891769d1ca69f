// Box math, Darknet's NMS, letterbox mapping and mAP against hand-worked examples.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/rng.h"
#include "detect/box.h"
#include "detect/map.h"

using namespace lenet::detect;

TEST_CASE("box: IoU of hand-worked pairs", "[detect][box]") {
    const Box a{0.5f, 0.5f, 0.4f, 0.4f};  // 0.3..0.7
    CHECK(iou(a, a) == Approx(1.0));
    // b: 0.5..0.9 in x, same y: intersection 0.2 x 0.4 = 0.08, union 0.16 + 0.16 - 0.08 = 0.24.
    const Box b{0.7f, 0.5f, 0.4f, 0.4f};
    CHECK(intersection(a, b) == Approx(0.08));
    CHECK(iou(a, b) == Approx(1.0 / 3.0));
    // Touching edges and disjoint boxes: 0; an empty box: 0, not NaN.
    CHECK(iou(a, Box{0.9f, 0.5f, 0.4f, 0.4f}) == 0.0f);
    CHECK(iou(a, Box{0.1f, 0.1f, 0.05f, 0.05f}) == 0.0f);
    CHECK(iou(a, Box{0.5f, 0.5f, 0.0f, 0.0f}) == 0.0f);
    // Nested: the small one's area over the large one's.
    CHECK(iou(a, Box{0.5f, 0.5f, 0.2f, 0.2f}) == Approx(0.25));
    const Box c = box_from_corners(10, 20, 30, 60);
    CHECK(c.x == 20);
    CHECK(c.y == 40);
    CHECK(c.w == 20);
    CHECK(c.h == 40);
}

namespace {

Detection det(float x, float objectness, std::vector<float> prob) {
    return {Box{x, 0.5f, 0.2f, 0.2f}, objectness, std::move(prob)};
}

}  // namespace

TEST_CASE("box: nms_sort suppresses per class by score, as Darknet's do_nms_sort", "[detect][box]") {
    // Boxes 0 and 1 (x 0.5 and 0.55, 0.2 wide and tall): intersection 0.15 * 0.2 = 0.03, union
    // 0.04 + 0.04 - 0.03 = 0.05, IoU 0.6. Box 2 (x 0.7..0.9) meets neither.
    std::vector<Detection> d = {det(0.5f, 0.9f, {0.8f, 0.3f}), det(0.55f, 0.9f, {0.9f, 0.35f}),
                                det(0.8f, 0.9f, {0.7f, 0.0f})};
    REQUIRE(iou(d[0].box, d[1].box) == Approx(0.6));
    nms_sort(d, 0.45f);
    // Class 0: 1 (0.9) beats 0 (0.8); 2 stays. Class 1: 1 (0.35) beats 0 (0.3).
    CHECK(d[0].prob == std::vector<float>{0.0f, 0.0f});
    CHECK(d[1].prob == std::vector<float>{0.9f, 0.35f});
    CHECK(d[2].prob == std::vector<float>{0.7f, 0.0f});

    // Above the threshold only: IoU 0.6 survives thresh 0.6 (Darknet suppresses IoU > thresh).
    std::vector<Detection> e = {det(0.5f, 0.9f, {0.8f}), det(0.55f, 0.9f, {0.9f})};
    nms_sort(e, 0.6f);
    CHECK(e[0].prob[0] == 0.8f);
    CHECK(e[1].prob[0] == 0.9f);

    // Objectness 0 takes no part: it neither suppresses nor is suppressed.
    std::vector<Detection> f = {det(0.5f, 0.0f, {0.95f}), det(0.55f, 0.9f, {0.9f})};
    nms_sort(f, 0.45f);
    CHECK(f[0].prob[0] == 0.95f);
    CHECK(f[1].prob[0] == 0.9f);

    // Ties: the earlier one is kept (Darknet's qsort leaves the order undefined).
    std::vector<Detection> g = {det(0.5f, 0.9f, {0.5f}), det(0.55f, 0.9f, {0.5f})};
    nms_sort(g, 0.45f);
    CHECK(g[0].prob[0] == 0.5f);
    CHECK(g[1].prob[0] == 0.0f);

    // A suppressed box no longer suppresses: chain a > b > c where a-b and b-c overlap, a-c do not.
    std::vector<Detection> h = {det(0.5f, 0.9f, {0.9f}), det(0.6f, 0.9f, {0.8f}), det(0.7f, 0.9f, {0.7f})};
    nms_sort(h, 0.3f);  // IoU(a,b) = IoU(b,c) = 0.1*0.2/(0.08-0.02) = 1/3
    CHECK(h[1].prob[0] == 0.0f);
    CHECK(h[2].prob[0] == 0.7f);  // b was suppressed, so it suppresses nothing; IoU(a, c) = 0
}

namespace {

// Darknet's do_nms_sort as lenet first wrote it (every live candidate in every class's sort, IoU for
// every later pair): the truth for the faster nms_sort.
void nms_sort_reference(std::vector<Detection>& detections, float thresh) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < detections.size(); ++i)
        if (detections[i].objectness != 0) order.push_back(i);
    std::size_t classes = 0;
    for (std::size_t i : order) classes = std::max(classes, detections[i].prob.size());
    for (std::size_t k = 0; k < classes; ++k) {
        auto score = [&](std::size_t i) { return k < detections[i].prob.size() ? detections[i].prob[k] : 0.0f; };
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return score(a) > score(b); });
        for (std::size_t i = 0; i < order.size(); ++i) {
            if (score(order[i]) == 0) continue;
            const Box& kept = detections[order[i]].box;
            for (std::size_t j = i + 1; j < order.size(); ++j) {
                Detection& other = detections[order[j]];
                if (k < other.prob.size() && iou(kept, other.box) > thresh) other.prob[k] = 0;
            }
        }
    }
}

}  // namespace

TEST_CASE("box: nms_sort gives the reference's scores bit for bit on random candidates", "[detect][box]") {
    lenet::Rng rng(17);
    int suppressed = 0;
    for (int round = 0; round < 300; ++round) {
        // Crowded or sparse boxes, some touching exactly (edges on a 1/16 grid), scores with ties
        // (a few levels), zero scores, objectness 0, shorter prob vectors, and thresholds from
        // negative (every pair) to 1.
        const int n = 1 + int(rng.uniform() * 60), classes = 1 + int(rng.uniform() * 4);
        const bool grid = round % 3 == 0;
        std::vector<Detection> d(static_cast<std::size_t>(n));
        for (Detection& c : d) {
            auto coordinate = [&](float scale) {
                const float v = rng.uniform() * scale;
                return grid ? std::round(v * 16) / 16 : v;
            };
            c.box = {coordinate(1.0f), coordinate(1.0f), coordinate(round % 2 ? 0.6f : 0.2f) + 0.0625f,
                     coordinate(round % 2 ? 0.6f : 0.2f) + 0.0625f};
            c.objectness = rng.uniform() < 0.1f ? 0.0f : 0.5f;
            c.prob.resize(std::size_t(rng.uniform() < 0.1f ? int(rng.uniform() * float(classes)) : classes));
            for (float& p : c.prob) p = rng.uniform() < 0.3f ? 0.0f : (grid ? float(int(rng.uniform() * 4)) / 4.0f : rng.uniform());
        }
        const float thresholds[] = {0.45f, 0.0f, 1.0f, 0.3f, -0.1f};
        const float thresh = thresholds[round % 5];
        std::vector<Detection> expected = d;
        nms_sort_reference(expected, thresh);
        nms_sort(d, thresh);
        for (std::size_t i = 0; i < d.size(); ++i) {
            REQUIRE(d[i].prob.size() == expected[i].prob.size());
            for (std::size_t k = 0; k < d[i].prob.size(); ++k) {
                INFO("round " << round << ", candidate " << i << ", class " << k << ", thresh " << thresh);
                CHECK(std::memcmp(&d[i].prob[k], &expected[i].prob[k], sizeof(float)) == 0);
                suppressed += d[i].prob[k] == 0 && expected[i].prob[k] == 0;
            }
        }
    }
    CHECK(suppressed > 1000);  // the rounds did suppress
}

TEST_CASE("box: nms_objectness is class-agnostic", "[detect][box]") {
    std::vector<Detection> d = {det(0.5f, 0.6f, {0.6f, 0.0f}), det(0.55f, 0.9f, {0.0f, 0.9f})};
    nms_objectness(d, 0.45f);
    CHECK(d[0].objectness == 0.0f);
    CHECK(d[0].prob == std::vector<float>{0.0f, 0.0f});
    CHECK(d[1].objectness == 0.9f);
}

TEST_CASE("box: letterbox geometry as Darknet's letterbox_image", "[detect][box]") {
    // 640x480 into 416x416: width limits; new_h = 480*416/640 = 312, padded (416-312)/2 = 52 above.
    Letterbox g = letterbox_geometry(640, 480, 416, 416);
    CHECK(g.new_w == 416);
    CHECK(g.new_h == 312);
    CHECK(g.dx == 0);
    CHECK(g.dy == 52);
    // 500x375 into 320x320: new_h = 375*320/500 = 240 exactly.
    g = letterbox_geometry(500, 375, 320, 320);
    CHECK(g.new_h == 240);
    CHECK(g.dy == 40);
    // Tall 300x1000 into 416x416: height limits; new_w = 300*416/1000 = 124.8 -> 124 (truncated).
    g = letterbox_geometry(300, 1000, 416, 416);
    CHECK(g.new_w == 124);
    CHECK(g.new_h == 416);
    CHECK(g.dx == 146);
    // Same aspect: no padding.
    g = letterbox_geometry(640, 640, 320, 320);
    CHECK(g.new_w == 320);
    CHECK(g.dx == 0);
}

TEST_CASE("box: network boxes map back to the image as Darknet's correct_yolo_boxes", "[detect][box]") {
    // 640x480 in 416x416 (new_h 312, pad 52): a box at the input's centre, 0.5 x 0.375 of it,
    // is the image's centre, 0.5 x 0.5 of it: 320x240 pixels.
    const Letterbox g = letterbox_geometry(640, 480, 416, 416);
    const Box rel = network_to_image({0.5f, 0.5f, 0.5f, 0.375f}, g, true);
    CHECK(rel.x == Approx(0.5));
    CHECK(rel.y == Approx(0.5));
    CHECK(rel.w == Approx(0.5));
    CHECK(rel.h == Approx(0.5));
    const Box px = network_to_image({0.5f, 0.5f, 0.5f, 0.375f}, g, false);
    CHECK(px.x == Approx(320));
    CHECK(px.y == Approx(240));
    CHECK(px.w == Approx(320));
    CHECK(px.h == Approx(240));
    // The top of the embedded image (input row 52) is image row 0.
    const Box top = network_to_image({0.5f, 52.0f / 416, 0.1f, 0.0f}, g, false);
    CHECK(top.y == Approx(0).margin(1e-4));
    // Darknet's half-pixel: with an odd padding (300x1000 -> 124 wide, 292 to pad, 146 each side)
    // it is even; with 301 wide: new_w 125, pad 291, embedded at 145, Darknet subtracts 145.5.
    const Letterbox odd = letterbox_geometry(301, 1000, 416, 416);
    REQUIRE(odd.new_w == 125);
    REQUIRE(odd.dx == 145);
    const Box left = network_to_image({145.5f / 416, 0.5f, 0.0f, 0.1f}, odd, true);
    CHECK(left.x == Approx(0).margin(1e-6));
}

TEST_CASE("box: image_to_network inverts network_to_image", "[detect][box]") {
    for (const auto& [w, h] : std::vector<std::pair<int, int>>{{640, 480}, {301, 1000}, {320, 320}, {77, 13}}) {
        const Letterbox g = letterbox_geometry(w, h, 416, 320);
        for (const Box& b : {Box{0.3f, 0.6f, 0.2f, 0.1f}, Box{0.0f, 1.0f, 1.0f, 0.5f}}) {
            const Box there = image_to_network(b, g, true);
            const Box back = network_to_image(there, g, true);
            CHECK(back.x == Approx(b.x).margin(1e-6));
            CHECK(back.y == Approx(b.y).margin(1e-6));
            CHECK(back.w == Approx(b.w).margin(1e-6));
            CHECK(back.h == Approx(b.h).margin(1e-6));
            const Box pixels{b.x * float(w), b.y * float(h), b.w * float(w), b.h * float(h)};
            const Box back_px = network_to_image(image_to_network(pixels, g, false), g, false);
            CHECK(back_px.x == Approx(pixels.x).margin(1e-3));
            CHECK(back_px.h == Approx(pixels.h).margin(1e-3));
        }
    }
    // Stretched (no letterbox): relative boxes are unchanged.
    const Letterbox s = stretch_geometry(640, 480, 416, 416);
    const Box b = network_to_image({0.25f, 0.75f, 0.5f, 0.125f}, s, true);
    CHECK(b.x == 0.25f);
    CHECK(b.h == 0.125f);
}

namespace {

Box at(float x) { return {x, 0.5f, 0.1f, 0.1f}; }
// Shifted right by 0.1 * shift of its width: IoU = (1 - s) / (1 + s).
Box shifted(float x, float s) { return {x + 0.1f * s, 0.5f, 0.1f, 0.1f}; }

}  // namespace

TEST_CASE("map: all-point AP of a hand-worked ranking", "[detect][map]") {
    // One class, 3 truths in one image; predictions by score: hit, miss, hit, miss, hit.
    // precision 1, 1/2, 2/3, 2/4, 3/5; recall 1/3, 1/3, 2/3, 2/3, 1.
    // Envelope: 1, 2/3, 2/3, 3/5, 3/5. AP = 1/3 * 1 + 1/3 * 2/3 + 1/3 * 3/5 = 0.7555...
    ImageResult image;
    image.truths = {{at(0.1f), 0}, {at(0.3f), 0}, {at(0.5f), 0}};
    image.predictions = {{at(0.1f), 0, 0.9f}, {at(0.8f), 0, 0.8f}, {at(0.3f), 0, 0.7f}, {at(0.9f), 0, 0.6f}, {at(0.5f), 0, 0.5f}};
    MapOptions options;
    options.score_thresh = 0.65f;
    const MapResult r = evaluate_map({image}, 1, options);
    CHECK(r.classes[0].ap == Approx((1.0 + 2.0 / 3 + 3.0 / 5) / 3));
    CHECK(r.map == Approx(r.classes[0].ap));
    // At score > 0.65: hit, miss, hit: TP 2, FP 1, FN 1.
    CHECK(r.tp == 2);
    CHECK(r.fp == 1);
    CHECK(r.fn == 1);
    CHECK(r.precision == Approx(2.0 / 3));
    CHECK(r.recall == Approx(2.0 / 3));
    CHECK(r.f1 == Approx(2.0 / 3));
    CHECK(r.average_iou == Approx(1.0));
    // COCO's 101 points on the same ranking: recall points 0..0.33 (34 of them) take 1, 0.34..0.66
    // (33) take 2/3, 0.67..1 (34) take 3/5.
    options.interpolation = Interpolation::coco101;
    CHECK(evaluate_map({image}, 1, options).map == Approx((34 * 1.0 + 33 * 2.0 / 3 + 34 * 0.6) / 101));
}

TEST_CASE("map: duplicates, empty predictions, classes without truths, ties", "[detect][map]") {
    SECTION("a duplicate of a matched truth is a false positive") {
        ImageResult image;
        image.truths = {{at(0.5f), 0}};
        image.predictions = {{at(0.5f), 0, 0.9f}, {shifted(0.5f, 0.1f), 0, 0.8f}};
        const MapResult r = evaluate_map({image}, 1);
        CHECK(r.classes[0].ap == Approx(1.0));  // the duplicate comes after full recall
        CHECK(r.tp == 1);
        CHECK(r.fp == 1);
    }
    SECTION("best unmatched truth (COCO) against best truth (VOC)") {
        // Two truths side by side; the first prediction takes A; the second overlaps A best but A
        // is taken: COCO gives it B, VOC counts a false positive.
        ImageResult image;
        image.truths = {{at(0.5f), 0}, {at(0.56f), 0}};  // A, B: IoU(A, B) = 0.04/0.16 = 0.25
        image.predictions = {{at(0.5f), 0, 0.9f}, {at(0.52f), 0, 0.8f}};
        // p2 vs A: shift 0.2 -> IoU 0.8/1.2 = 0.667; vs B: shift 0.4 -> 0.6/1.4 = 0.43 < 0.5.
        MapOptions options;
        options.iou_thresh = 0.4f;
        CHECK(evaluate_map({image}, 1, options).tp == 2);
        options.matching = Matching::voc;
        CHECK(evaluate_map({image}, 1, options).tp == 1);
    }
    SECTION("no predictions: AP 0, every truth a false negative") {
        ImageResult image;
        image.truths = {{at(0.5f), 0}, {at(0.2f), 1}};
        const MapResult r = evaluate_map({image}, 2);
        CHECK(r.classes[0].ap == 0.0);
        CHECK(r.map == 0.0);
        CHECK(r.fn == 2);
        CHECK(r.precision == 0.0);
        CHECK(r.recall == 0.0);
        CHECK(r.f1 == 0.0);
    }
    SECTION("a class with no truths has no AP and is left out of the mean") {
        ImageResult image;
        image.truths = {{at(0.5f), 0}};
        image.predictions = {{at(0.5f), 0, 0.9f}, {at(0.2f), 1, 0.9f}};  // class 1 has no truths
        MapResult r = evaluate_map({image}, 3);
        CHECK(std::isnan(r.classes[1].ap));
        CHECK(std::isnan(r.classes[2].ap));
        CHECK(r.counted_classes == 1);
        CHECK(r.map == Approx(1.0));
        CHECK(r.fp == 1);  // class 1's prediction still counts against precision
        CHECK(r.precision == Approx(0.5));
        MapOptions old;
        old.empty_classes_count_as_zero = true;  // AlexeyAB before valid_classes: divide by all
        r = evaluate_map({image}, 3, old);
        CHECK(r.map == Approx(1.0 / 3));
    }
    SECTION("equal scores keep their input order") {
        ImageResult image;
        image.truths = {{at(0.5f), 0}};
        image.predictions = {{at(0.9f), 0, 0.5f}, {at(0.5f), 0, 0.5f}};  // miss first, then hit
        CHECK(evaluate_map({image}, 1).classes[0].ap == Approx(0.5));
        std::swap(image.predictions[0], image.predictions[1]);
        CHECK(evaluate_map({image}, 1).classes[0].ap == Approx(1.0));
    }
    SECTION("the IoU threshold is inclusive; truths match only their own class and image") {
        ImageResult a, b;
        a.truths = {{at(0.5f), 0}};
        b.predictions = {{at(0.5f), 0, 0.9f}};  // right box, wrong image
        a.predictions = {{at(0.5f), 1, 0.9f}};  // right box, wrong class
        const MapResult r = evaluate_map({a, b}, 2);
        CHECK(r.tp == 0);
        CHECK(r.fp == 2);
        ImageResult c;
        c.truths = {{Box{0.5f, 0.5f, 0.5f, 0.5f}, 0}};
        c.predictions = {{Box{0.375f, 0.5f, 0.25f, 0.5f}, 0, 0.9f}};  // its left half: IoU exactly 0.5
        REQUIRE(iou(c.truths[0].box, c.predictions[0].box) == 0.5f);
        CHECK(evaluate_map({c}, 1).tp == 1);
    }
}

TEST_CASE("map: COCO mAP@0.5:0.95 averages ten IoU thresholds", "[detect][map]") {
    // One truth, one prediction at IoU 0.873/1.127 = 0.775: a hit at 0.50..0.75 (6 of 10).
    ImageResult image;
    image.truths = {{at(0.5f), 0}};
    image.predictions = {{shifted(0.5f, 0.127f), 0, 0.9f}};
    REQUIRE(iou(image.truths[0].box, image.predictions[0].box) == Approx(0.7746).margin(1e-4));
    const CocoResult r = evaluate_coco({image}, 1);
    CHECK(r.map50 == Approx(1.0));
    CHECK(r.map75 == Approx(1.0));
    CHECK(r.map_at[6] == 0.0);
    CHECK(r.map50_95 == Approx(0.6));
    // max_per_image: COCO keeps 100 per image and class.
    ImageResult many;
    many.truths = {{at(0.5f), 0}};
    for (int i = 0; i < 150; ++i) many.predictions.push_back({at(0.9f), 0, 0.9f});
    many.predictions.push_back({at(0.5f), 0, 0.1f});  // the hit ranks 151st: dropped
    CHECK(evaluate_coco({many}, 1).map50 == 0.0);
}

TEST_CASE("map: predictions from detections after NMS", "[detect][map]") {
    std::vector<Detection> d = {det(0.5f, 0.9f, {0.8f, 0.3f}), det(0.55f, 0.9f, {0.9f, 0.0f})};
    nms_sort(d, 0.45f);
    const std::vector<Prediction> p = predictions_from(d);
    REQUIRE(p.size() == 2);  // detection 0 lost class 0 to detection 1 but keeps class 1
    CHECK(p[0].cls == 1);
    CHECK(p[0].score == 0.3f);
    CHECK(p[1].cls == 0);
    CHECK(p[1].score == 0.9f);
    CHECK(predictions_from(d, 0.5f).size() == 1);
}

#include "detect/anchors.h"

TEST_CASE("anchors: k-means with 1 - IoU finds the clusters", "[detect][anchors]") {
    CHECK(shape_iou(10, 20, 10, 20) == Approx(1.0));
    CHECK(shape_iou(10, 20, 20, 10) == Approx(100.0 / 300.0));  // 10x10 overlap of two 200s
    // Three tight groups of sizes: 10x10, 30x60, 100x80, with a little spread.
    std::vector<std::pair<float, float>> sizes;
    for (int i = 0; i < 20; ++i) {
        const float d = float(i % 5) - 2;
        sizes.push_back({10 + d * 0.2f, 10 - d * 0.2f});
        sizes.push_back({30 + d, 60 - d});
        sizes.push_back({100 + d, 80 + d});
    }
    const Anchors a = kmeans_anchors(sizes, 3, 1);
    REQUIRE(a.sizes.size() == 3);
    CHECK(a.sizes[0].first == Approx(10).margin(0.01));
    CHECK(a.sizes[1].first == Approx(30).margin(0.01));
    CHECK(a.sizes[1].second == Approx(60).margin(0.01));
    CHECK(a.sizes[2].first == Approx(100).margin(0.01));
    CHECK(a.average_iou > 0.95);
    // Deterministic for a seed; too few boxes is an error.
    CHECK(kmeans_anchors(sizes, 3, 1).sizes == a.sizes);
    CHECK_THROWS(kmeans_anchors({{1, 1}}, 2, 1));
}

#include "detect/letterbox.h"

TEST_CASE("letterbox: Darknet's bilinear resize and grey letterbox", "[detect][box]") {
    PlanarImage row{2, 1, 1, {0.0f, 1.0f}};
    // Columns sample c * (2 - 1) / (3 - 1): 0, 0.5, and the last column copied.
    CHECK(resize_darknet(row, 3, 1).data == std::vector<float>{0.0f, 0.5f, 1.0f});
    // Same size: unchanged.
    PlanarImage square{2, 2, 1, {0.1f, 0.2f, 0.3f, 0.4f}};
    CHECK(resize_darknet(square, 2, 2).data == square.data);
    // 2x2 -> 3x3: the centre is the mean of all four; edges the means of their pairs.
    const PlanarImage big = resize_darknet(square, 3, 3);
    CHECK(big.at(1, 1, 0) == Approx(0.25));
    CHECK(big.at(1, 0, 0) == Approx(0.15));
    CHECK(big.at(0, 1, 0) == Approx(0.2));
    CHECK(big.at(2, 2, 0) == Approx(0.4));
    // A 4x2 image into 4x4: rows 1 and 2 hold it, rows 0 and 3 are grey.
    PlanarImage wide{4, 2, 1, {0, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f}};
    Letterbox g;
    const PlanarImage boxed = letterbox_darknet(wide, 4, 4, &g);
    CHECK(g.new_h == 2);
    CHECK(g.dy == 1);
    CHECK(boxed.at(0, 0, 0) == 0.5f);
    CHECK(boxed.at(3, 3, 0) == 0.5f);
    CHECK(boxed.at(1, 1, 0) == 0.1f);
    CHECK(boxed.at(3, 2, 0) == 0.7f);
#ifndef LENET_NO_OPENCV
    // From OpenCV: BGR bytes -> RGB planes.
    cv::Mat bgr(1, 1, CV_8UC3, cv::Scalar(0, 51, 255));
    const PlanarImage rgb = planar_from_mat(bgr, 3);
    CHECK(rgb.data == std::vector<float>{1.0f, 0.2f, 0.0f});
#endif
}

TEST_CASE("map: the report names classes, shows '-' for a class without truths", "[detect][map]") {
    ImageResult image;
    image.truths = {{at(0.5f), 0}};
    image.predictions = {{at(0.5f), 0, 0.9f}, {at(0.2f), 1, 0.8f}};
    const MapOptions options;
    const std::string report =
        format_map_report(evaluate_map({image}, 2, options), evaluate_coco({image}, 2), {"zero"}, options);
    CHECK_THAT(report, Catch::Matchers::Contains("    0 zero               1       1    1.0000       1       0       0\n"));
    CHECK_THAT(report, Catch::Matchers::Contains("    1 1                  0       1         -       0       1       0\n"));
    CHECK_THAT(report, Catch::Matchers::Contains("precision 0.5000, recall 1.0000"));
    CHECK_THAT(report, Catch::Matchers::Contains("mAP@0.50 = 1.0000 (all-point, over 1 classes with truths)"));
}
