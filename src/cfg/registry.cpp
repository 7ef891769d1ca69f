#include "cfg/registry.h"

namespace lenet {

std::unique_ptr<Layer> make_convolutional(const CfgSection&, Shape);
std::unique_ptr<Layer> make_connected(const CfgSection&, Shape);
std::unique_ptr<Layer> make_maxpool(const CfgSection&, Shape);
std::unique_ptr<Layer> make_avgpool(const CfgSection&, Shape);
std::unique_ptr<Layer> make_dropout(const CfgSection&, Shape);
std::unique_ptr<Layer> make_batchnorm(const CfgSection&, Shape);
std::unique_ptr<Layer> make_softmax(const CfgSection&, Shape);
std::unique_ptr<Layer> make_upsample(const CfgSection&, Shape);
std::unique_ptr<Layer> make_route(const CfgSection&, const GraphContext&);
std::unique_ptr<Layer> make_shortcut(const CfgSection&, const GraphContext&);
std::unique_ptr<Layer> make_yolo(const CfgSection&, const GraphContext&);

int GraphContext::resolve(const CfgSection& section, std::string_view key, int value) const {
    const int resolved = value < 0 ? index + value : value;
    if (resolved < 0)
        section.fail(key, cat("layer ", value, " from layer ", index, " would be layer ", resolved,
                              ": before the first layer (layers count from 0 after [net])"));
    if (resolved >= index)
        section.fail(key, cat("layer ", resolved, " is not before this layer (", index,
                              "): a layer reads only earlier layers"));
    return resolved;
}

const std::vector<LayerKind>& layer_kinds() {
    static const std::vector<LayerKind> kinds = {
        {{"convolutional", "conv"}, make_convolutional, {"flipped", "dot"}},
        {{"connected", "conn"}, make_connected, {}},
        {{"maxpool", "max"}, make_maxpool, {}},
        {{"avgpool", "avg"}, make_avgpool, {}},
        {{"dropout"}, make_dropout, {"dropblock", "dropblock_size_abs", "dropblock_size_rel"}},
        {{"batchnorm"}, make_batchnorm, {}},
        {{"softmax", "soft"}, make_softmax, {"noloss"}},
        {{"route"}, nullptr, {}, make_route},
        {{"shortcut"}, nullptr, {}, make_shortcut},
        {{"upsample"}, make_upsample, {}},
        // AlexeyAB's keys (pjreddie's Darknet has none of them): accepted, ignored with a warning.
        {{"yolo"}, nullptr, {"max", "map", "scale_x_y", "iou_normalizer", "cls_normalizer", "obj_normalizer",
                             "iou_loss", "iou_thresh", "nms_kind", "beta_nms", "max_delta", "focal_loss",
                             "label_smooth_eps", "counters_per_class", "resize", "new_coords", "objectness_smooth",
                             "track_history_size", "sim_thresh", "dets_for_track", "dets_for_show", "track_ciou_norm",
                             "embedding_layer"},
         make_yolo},
    };
    return kinds;
}

const LayerKind* find_layer_kind(std::string_view name) {
    for (const auto& kind : layer_kinds())
        for (auto alias : kind.names)
            if (alias == name) return &kind;
    return nullptr;
}

}  // namespace lenet
