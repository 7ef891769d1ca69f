// Detection accuracy: average precision per class, mAP@0.5 (VOC 2010+ all-point interpolation,
// as AlexeyAB's `darknet detector map -points 0`), COCO's mAP@0.5:0.95, and precision, recall,
// F1 and TP/FP/FN at a score threshold.
//
// Matching, per image and class: predictions in descending score order (equal scores keep their
// input order, as COCO's stable sort) each take the unmatched truth of their class with the highest
// IoU, if that IoU >= iou_thresh; otherwise they are false positives. (VOC and AlexeyAB take the
// best truth even when it is already matched, and then count a false positive; Matching::voc does
// that. AlexeyAB also requires IoU > 0.5 rather than >=.)
//
// A class with no truths has no AP (NaN) and is left out of the mean, as in COCO and current
// AlexeyAB; older AlexeyAB divided by every class, counting such a class as 0
// (empty_classes_count_as_zero). Its predictions still count as false positives at the threshold.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "detect/box.h"

namespace lenet::detect {

struct Prediction {
    Box box;
    int cls = 0;
    float score = 0;
};

// One image: its predictions and truths, in the same coordinates (relative or pixels).
struct ImageResult {
    std::vector<Prediction> predictions;
    std::vector<Truth> truths;
};

enum class Interpolation {
    all_points,  // VOC 2010+ / AlexeyAB -points 0: area under the precision envelope
    coco101,     // COCO: the envelope sampled at recall 0, 0.01, ..., 1
};
enum class Matching {
    best_unmatched,  // COCO: the best-IoU truth not yet matched
    voc,             // VOC, AlexeyAB: the best-IoU truth; a second hit on it is a false positive
};

struct MapOptions {
    float iou_thresh = 0.5f;
    float score_thresh = 0.25f;  // for precision/recall/F1/TP/FP/FN: predictions with score > this
    Interpolation interpolation = Interpolation::all_points;
    Matching matching = Matching::best_unmatched;
    bool empty_classes_count_as_zero = false;
    int max_per_image = 0;  // > 0: keep only the top-scored this many per image and class (COCO: 100)
};

struct ClassResult {
    int truths = 0;
    int predictions = 0;
    double ap = 0;  // NaN when the class has no truths
    // At the score threshold:
    int tp = 0, fp = 0, fn = 0;
    double precision = 0, recall = 0, f1 = 0;
    double average_iou = 0;  // over the true positives
};

struct MapResult {
    std::vector<ClassResult> classes;
    double map = 0;      // mean AP over the classes that count
    int counted_classes = 0;
    int tp = 0, fp = 0, fn = 0;  // at the score threshold, over all classes
    double precision = 0, recall = 0, f1 = 0, average_iou = 0;
};

// The (box, class, score) pairs of detections after NMS: one per class whose score is > thresh
// (AlexeyAB's map collects every score > 0 of detections taken at thresh 0.005).
std::vector<Prediction> predictions_from(const std::vector<Detection>& detections, float thresh = 0.0f);

// Predictions or truths whose class is outside [0, classes) are an internal error (check them
// when reading labels).
MapResult evaluate_map(const std::vector<ImageResult>& images, int classes, const MapOptions& options = {});

// Average precision from the cumulative precision/recall of a ranked list (exposed for tests).
double average_precision(const std::vector<double>& precision, const std::vector<double>& recall,
                         Interpolation interpolation);

struct CocoResult {
    std::array<double, 10> map_at{};  // at IoU 0.50, 0.55, ..., 0.95
    double map50_95 = 0, map50 = 0, map75 = 0;
};
// COCO's summary AP: 101-point interpolation, best-unmatched matching, at most 100 predictions per
// image and class, averaged over the ten IoU thresholds. (`base` supplies empty_classes_count_as_zero;
// its interpolation can be changed to all_points for an AlexeyAB-style average.)
MapOptions coco_options();
CocoResult evaluate_coco(const std::vector<ImageResult>& images, int classes, MapOptions base = coco_options());

// A report in the spirit of AlexeyAB's `detector map`: one row per class (truths, predictions,
// AP@0.5, TP/FP/FN at the threshold), then precision/recall/F1 and the means. `names` may be
// shorter than the class count (missing names print as the class number).
std::string format_map_report(const MapResult& map50, const CocoResult& coco, const std::vector<std::string>& names,
                              const MapOptions& options);

}  // namespace lenet::detect
