// Maps cfg section names (with Darknet's aliases) to the function that builds that layer.
#pragma once
#include <memory>
#include <string_view>
#include <vector>

#include "cfg/cfg.h"
#include "layers/layer.h"

namespace lenet {

using LayerFactory = std::unique_ptr<Layer> (*)(const CfgSection& section, Shape input);

// What a layer that names other layers ([route] layers=-1,8, [shortcut] from=-3) sees when it is
// built. Indices follow Darknet: layers count from 0 after [net]; a negative index counts back
// from this layer.
struct GraphContext {
    int index = 0;                        // this layer's
    Shape network_input;                  // read by layer 0
    const std::vector<Shape>* shapes{};   // output shapes of layers 0 .. index - 1
    Shape previous() const { return index == 0 ? network_input : (*shapes)[std::size_t(index - 1)]; }
    // The earlier layer that `value` (from `key`) names; fails naming file, line and key when it
    // points before layer 0 or at this or a later layer.
    int resolve(const CfgSection& section, std::string_view key, int value) const;
};
// Such a layer sets its input_layers() to the resolved indices.
using GraphLayerFactory = std::unique_ptr<Layer> (*)(const CfgSection& section, const GraphContext& context);

struct LayerKind {
    std::vector<std::string_view> names;  // the first is canonical
    LayerFactory make;                    // null for graph layers and for sections not implemented yet
    std::vector<std::string_view> darknet_keys;  // accepted by Darknet, ignored by lenet (warning)
    GraphLayerFactory make_graph = nullptr;      // layers that name their inputs
    // Neither factory set: a Darknet section lenet does not implement yet (none today); building a net
    // with it fails, naming it, except for a summary (BuildOptions::summary_only).
    bool implemented() const { return make || make_graph; }
};

const std::vector<LayerKind>& layer_kinds();
// Null when no kind has that name.
const LayerKind* find_layer_kind(std::string_view name);

}  // namespace lenet
