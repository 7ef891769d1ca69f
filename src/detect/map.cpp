#include "detect/map.h"

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace lenet::detect {

double average_precision(const std::vector<double>& precision, const std::vector<double>& recall,
                         Interpolation interpolation) {
    LENET_CHECK(precision.size() == recall.size());
    const std::size_t n = precision.size();
    if (n == 0) return 0;
    // The precision envelope: at each rank, the best precision at this recall or beyond.
    std::vector<double> envelope(precision);
    for (std::size_t i = n - 1; i-- > 0;) envelope[i] = std::max(envelope[i], envelope[i + 1]);
    if (interpolation == Interpolation::all_points) {
        // VOC 2010+: sum of recall steps times the envelope after the step, from recall 0.
        double ap = 0, previous_recall = 0;
        for (std::size_t i = 0; i < n; ++i) {
            ap += (recall[i] - previous_recall) * envelope[i];
            previous_recall = recall[i];
        }
        return ap;
    }
    // COCO: 101 recall points (as numpy's linspace(0, 1, 101): i * 0.01), each taking the envelope
    // at the first rank whose recall reaches it, 0 if none does.
    double sum = 0;
    std::size_t rank = 0;
    for (int point = 0; point <= 100; ++point) {
        const double r = point * 0.01;
        while (rank < n && recall[rank] < r) ++rank;
        if (rank == n) break;
        sum += envelope[rank];
    }
    return sum / 101.0;
}

namespace {

struct Ranked {
    float score;
    std::size_t image, index;
};

double ratio(int a, int b) { return b > 0 ? double(a) / double(b) : 0.0; }

}  // namespace

MapResult evaluate_map(const std::vector<ImageResult>& images, int classes, const MapOptions& options) {
    LENET_CHECK(classes > 0);
    MapResult result;
    result.classes.resize(std::size_t(classes));
    double map_sum = 0;
    double iou_sum_all = 0;
    for (int c = 0; c < classes; ++c) {
        ClassResult& cr = result.classes[std::size_t(c)];
        std::vector<Ranked> ranked;
        std::vector<std::vector<char>> matched(images.size());
        for (std::size_t i = 0; i < images.size(); ++i) {
            const ImageResult& image = images[i];
            for (const Truth& t : image.truths) {
                LENET_CHECK(t.cls >= 0 && t.cls < classes, "truth class ", t.cls);
                if (t.cls == c) ++cr.truths;
            }
            matched[i].assign(image.truths.size(), 0);
            std::vector<Ranked> mine;
            for (std::size_t p = 0; p < image.predictions.size(); ++p) {
                const Prediction& prediction = image.predictions[p];
                LENET_CHECK(prediction.cls >= 0 && prediction.cls < classes, "prediction class ", prediction.cls);
                if (prediction.cls == c) mine.push_back({prediction.score, i, p});
            }
            if (options.max_per_image > 0 && mine.size() > std::size_t(options.max_per_image)) {
                std::stable_sort(mine.begin(), mine.end(), [](const Ranked& a, const Ranked& b) { return a.score > b.score; });
                mine.resize(std::size_t(options.max_per_image));
            }
            ranked.insert(ranked.end(), mine.begin(), mine.end());
        }
        std::stable_sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) { return a.score > b.score; });
        cr.predictions = int(ranked.size());

        std::vector<double> precision, recall;
        precision.reserve(ranked.size());
        recall.reserve(ranked.size());
        int tp = 0, fp = 0;
        double iou_sum = 0;
        for (const Ranked& r : ranked) {
            const ImageResult& image = images[r.image];
            const Box& box = image.predictions[r.index].box;
            int best = -1;
            float best_iou = 0;
            for (std::size_t t = 0; t < image.truths.size(); ++t) {
                if (image.truths[t].cls != c) continue;
                if (options.matching == Matching::best_unmatched && matched[r.image][t]) continue;
                const float overlap = iou(box, image.truths[t].box);
                if (overlap >= options.iou_thresh && overlap > best_iou) {
                    best_iou = overlap;
                    best = int(t);
                }
            }
            const bool hit = best >= 0 && !matched[r.image][std::size_t(best)];
            if (hit) {
                matched[r.image][std::size_t(best)] = 1;
                ++tp;
            } else {
                ++fp;
            }
            // Predictions above the score threshold are a prefix of the ranking.
            if (r.score > options.score_thresh) {
                cr.tp = tp;
                cr.fp = fp;
                if (hit) iou_sum += best_iou;
            }
            precision.push_back(ratio(tp, tp + fp));
            recall.push_back(ratio(tp, cr.truths));
        }
        cr.fn = cr.truths - cr.tp;
        cr.precision = ratio(cr.tp, cr.tp + cr.fp);
        cr.recall = ratio(cr.tp, cr.truths);
        cr.f1 = cr.precision + cr.recall > 0 ? 2 * cr.precision * cr.recall / (cr.precision + cr.recall) : 0;
        cr.average_iou = cr.tp > 0 ? iou_sum / cr.tp : 0;
        iou_sum_all += iou_sum;
        if (cr.truths > 0) {
            cr.ap = average_precision(precision, recall, options.interpolation);
            map_sum += cr.ap;
            ++result.counted_classes;
        } else {
            cr.ap = std::numeric_limits<double>::quiet_NaN();
            if (options.empty_classes_count_as_zero) ++result.counted_classes;
        }
        result.tp += cr.tp;
        result.fp += cr.fp;
        result.fn += cr.fn;
    }
    result.map = result.counted_classes > 0 ? map_sum / result.counted_classes : 0;
    result.precision = ratio(result.tp, result.tp + result.fp);
    result.recall = ratio(result.tp, result.tp + result.fn);
    result.f1 = result.precision + result.recall > 0
                    ? 2 * result.precision * result.recall / (result.precision + result.recall)
                    : 0;
    result.average_iou = result.tp > 0 ? iou_sum_all / result.tp : 0;
    return result;
}

std::vector<Prediction> predictions_from(const std::vector<Detection>& detections, float thresh) {
    std::vector<Prediction> out;
    for (const Detection& d : detections)
        for (std::size_t k = 0; k < d.prob.size(); ++k)
            if (d.prob[k] > thresh) out.push_back({d.box, int(k), d.prob[k]});
    return out;
}

MapOptions coco_options() {
    MapOptions options;
    options.interpolation = Interpolation::coco101;
    options.matching = Matching::best_unmatched;
    options.max_per_image = 100;
    return options;
}

CocoResult evaluate_coco(const std::vector<ImageResult>& images, int classes, MapOptions base) {
    CocoResult result;
    double sum = 0;
    for (int i = 0; i < 10; ++i) {
        base.iou_thresh = float(0.5 + 0.05 * i);
        result.map_at[std::size_t(i)] = evaluate_map(images, classes, base).map;
        sum += result.map_at[std::size_t(i)];
    }
    result.map50_95 = sum / 10;
    result.map50 = result.map_at[0];
    result.map75 = result.map_at[5];
    return result;
}

std::string format_map_report(const MapResult& r, const CocoResult& coco, const std::vector<std::string>& names,
                              const MapOptions& options) {
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "%5s %-12s %7s %7s %9s %7s %7s %7s\n", "class", "name", "truths", "preds", "AP@0.5",
                  "TP", "FP", "FN");
    out += line;
    for (std::size_t c = 0; c < r.classes.size(); ++c) {
        const ClassResult& cr = r.classes[c];
        const std::string name = c < names.size() ? names[c] : std::to_string(c);
        char ap[32];
        if (std::isnan(cr.ap))
            std::snprintf(ap, sizeof ap, "%9s", "-");
        else
            std::snprintf(ap, sizeof ap, "%9.4f", cr.ap);
        std::snprintf(line, sizeof line, "%5zu %-12.12s %7d %7d %s %7d %7d %7d\n", c, name.c_str(), cr.truths, cr.predictions, ap,
                      cr.tp, cr.fp, cr.fn);
        out += line;
    }
    std::snprintf(line, sizeof line,
                  "at score > %.2f: precision %.4f, recall %.4f, F1 %.4f, TP %d, FP %d, FN %d, average IoU %.2f%%\n",
                  double(options.score_thresh), r.precision, r.recall, r.f1, r.tp, r.fp, r.fn, 100 * r.average_iou);
    out += line;
    std::snprintf(line, sizeof line, "mAP@%.2f = %.4f (all-point, over %d classes with truths)\n", double(options.iou_thresh),
                  r.map, r.counted_classes);
    out += line;
    std::snprintf(line, sizeof line, "COCO: mAP@0.5:0.95 = %.4f, mAP@0.5 = %.4f, mAP@0.75 = %.4f (101-point)\n",
                  coco.map50_95, coco.map50, coco.map75);
    out += line;
    return out;
}

}  // namespace lenet::detect
