#include "cfg/registry.h"

namespace lenet {

std::unique_ptr<Layer> make_convolutional(const CfgSection&, Shape);
std::unique_ptr<Layer> make_connected(const CfgSection&, Shape);
std::unique_ptr<Layer> make_maxpool(const CfgSection&, Shape);
std::unique_ptr<Layer> make_avgpool(const CfgSection&, Shape);
std::unique_ptr<Layer> make_dropout(const CfgSection&, Shape);
std::unique_ptr<Layer> make_batchnorm(const CfgSection&, Shape);
std::unique_ptr<Layer> make_softmax(const CfgSection&, Shape);

const std::vector<LayerKind>& layer_kinds() {
    static const std::vector<LayerKind> kinds = {
        {{"convolutional", "conv"}, make_convolutional, {"flipped", "dot"}},
        {{"connected", "conn"}, make_connected, {}},
        {{"maxpool", "max"}, make_maxpool, {}},
        {{"avgpool", "avg"}, make_avgpool, {}},
        {{"dropout"}, make_dropout, {"dropblock", "dropblock_size_abs", "dropblock_size_rel"}},
        {{"batchnorm"}, make_batchnorm, {}},
        {{"softmax", "soft"}, make_softmax, {"noloss"}},
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
