#include "net/evaluate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "layers/yolo.h"

namespace lenet {

bool is_detector(Network& net) {
    for (int i = 0; i < net.layer_count(); ++i)
        if (as_yolo(net.layer(i))) return true;
    return false;
}

std::vector<detect::Detection> network_detections(Network& net, int image, float thresh) {
    std::vector<detect::Detection> detections;
    for (int i = 0; i < net.layer_count(); ++i)
        if (const YoloLayer* yolo = as_yolo(net.layer(i)))
            yolo->detections(net.compute(), net.output(i), image, thresh, detections);
    return detections;
}

DetectionEvaluation evaluate_detections(Network& net, const DataSource& data, const detect::MapOptions& options,
                                        float thresh, float nms) {
    DetectionEvaluation result;
    const int batch = net.max_batch();
    std::vector<float> images(std::size_t(batch) * data.shape().size());
    std::vector<int> indices(static_cast<std::size_t>(batch));
    std::vector<std::vector<detect::Truth>> truths(static_cast<std::size_t>(batch));
    std::vector<detect::ImageResult> scored;
    for (int start = 0; start < data.count(); start += batch) {
        const int n = std::min(batch, data.count() - start);
        std::iota(indices.begin(), indices.begin() + n, start);
        data.gather(indices.data(), n, images.data(), nullptr);
        data.gather_boxes(indices.data(), n, truths.data());
        net.forward(images.data(), n, false);
        for (int i = 0; i < n; ++i) {
            std::vector<detect::Detection> detections = network_detections(net, i, thresh);
            detect::nms_sort(detections, nms);
            scored.push_back({detect::predictions_from(detections), truths[std::size_t(i)]});
        }
    }
    result.images = int(scored.size());
    result.map50 = detect::evaluate_map(scored, data.classes(), options);
    result.coco = detect::evaluate_coco(scored, data.classes());
    return result;
}

void check_network_fits(Network& net, const std::string& cfg_path, const DataSource& data) {
    if (!(net.input_shape() == data.shape()))
        throw Error(cat(cfg_path, ": the network takes ", to_string(net.input_shape()), " input but ", data.name(),
                        " holds ", to_string(data.shape()), " images"));
    if (data.has_boxes()) {
        bool any = false;
        for (int i = 0; i < net.layer_count(); ++i)
            if (const YoloLayer* yolo = as_yolo(net.layer(i))) {
                any = true;
                if (yolo->classes() != data.classes())
                    throw Error(cat(cfg_path, ": [yolo] (layer ", i, ") has classes=", yolo->classes(), " but ",
                                    data.name(), " has ", data.classes(), " classes"));
            }
        if (!any) throw Error(cat(cfg_path, ": detection data (", data.name(), ") needs a network with [yolo] layers"));
        return;
    }
    if (int(net.output_shape().size()) != data.classes())
        throw Error(cat(cfg_path, ": the network has ", net.output_shape().size(), " outputs but ", data.name(), " has ",
                        data.classes(), " classes"));
}

Evaluation evaluate(Network& net, const DataSource& data) {
    Evaluation result;
    result.confusion.assign(std::size_t(data.classes()), std::vector<int>(std::size_t(data.classes()), 0));
    const int batch = net.max_batch();
    const int classes = data.classes();
    std::vector<float> images(std::size_t(batch) * data.shape().size());
    std::vector<int> labels(static_cast<std::size_t>(batch)), indices(static_cast<std::size_t>(batch));
    for (int start = 0; start < data.count(); start += batch) {
        const int n = std::min(batch, data.count() - start);
        std::iota(indices.begin(), indices.begin() + n, start);
        data.gather(indices.data(), n, images.data(), labels.data());
        const float* out = net.forward(images.data(), n, false);
        for (int i = 0; i < n; ++i) {
            const float* p = out + std::size_t(i) * classes;
            const int predicted = int(std::max_element(p, p + classes) - p);
            result.correct += predicted == labels[std::size_t(i)];
            result.confusion[std::size_t(labels[std::size_t(i)])][std::size_t(predicted)] += 1;
            result.loss -= std::log(std::max(p[labels[std::size_t(i)]], 1e-12f));
        }
        result.total += n;
    }
    if (result.total) result.loss /= result.total;
    return result;
}

}  // namespace lenet
