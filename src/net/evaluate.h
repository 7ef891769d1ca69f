// Classification accuracy of a network over a data source, in batches of the network's max batch.
#pragma once
#include <vector>

#include "data/source.h"
#include "detect/map.h"
#include "net/network.h"

namespace lenet {

struct Evaluation {
    int correct = 0;
    int total = 0;
    double loss = 0;  // mean cross-entropy
    std::vector<std::vector<int>> confusion;  // [truth][predicted]
    double accuracy() const { return total ? double(correct) / total : 0.0; }
};

Evaluation evaluate(Network& net, const DataSource& data);

// Detection: the candidates for image `image` of the last forward() from every [yolo] layer
// (Darknet's get_network_boxes before NMS), boxes relative to the network input.
std::vector<detect::Detection> network_detections(Network& net, int image, float thresh);

// mAP of a detector over a source with boxes: candidates at objectness > thresh (0.005, as
// AlexeyAB's `detector map`), Darknet's per-class NMS at `nms`, scored in network coordinates
// (IoU does not change under the letterbox's scaling and shift).
struct DetectionEvaluation {
    detect::MapResult map50;
    detect::CocoResult coco;
    int images = 0;
};
DetectionEvaluation evaluate_detections(Network& net, const DataSource& data, const detect::MapOptions& options = {},
                                        float thresh = 0.005f, float nms = 0.45f);
// Whether the network has a [yolo] layer (a detector).
bool is_detector(Network& net);

// Checks that a network's input and output fit a data source; throws Error naming both otherwise.
void check_network_fits(Network& net, const std::string& cfg_path, const DataSource& data);

}  // namespace lenet
