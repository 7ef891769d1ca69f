// Maps cfg section names (with Darknet's aliases) to the function that builds that layer.
#pragma once
#include <memory>
#include <string_view>
#include <vector>

#include "cfg/cfg.h"
#include "layers/layer.h"

namespace lenet {

using LayerFactory = std::unique_ptr<Layer> (*)(const CfgSection& section, Shape input);

struct LayerKind {
    std::vector<std::string_view> names;  // the first is canonical
    LayerFactory make;
    std::vector<std::string_view> darknet_keys;  // accepted by Darknet, ignored by lenet (warning)
};

const std::vector<LayerKind>& layer_kinds();
// Null when no kind has that name.
const LayerKind* find_layer_kind(std::string_view name);

}  // namespace lenet
