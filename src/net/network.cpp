#include "net/network.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "cfg/registry.h"
#include "io/atomic_file.h"
#include "io/weights.h"

namespace lenet {

namespace {
// Refuse plans that cannot fit in memory before allocating them, naming the layer.
constexpr double kMaxBufferBytes = 16.0 * (1ull << 30);
}  // namespace

std::unique_ptr<Network> Network::from_cfg_file(const std::string& path, const BuildOptions& build) {
    return from_sections(read_cfg_file(path), build);
}

std::unique_ptr<Network> Network::from_sections(const std::vector<CfgSection>& sections, const BuildOptions& build) {
    if (sections.empty()) throw Error("empty cfg: expected [net] followed by layers");
    std::unique_ptr<Network> net(new Network());
    net->options_ = parse_net_options(sections.front());
    if (sections.size() == 1) sections.front().fail_section("the cfg has no layers after [net]");
    net->max_batch_ = build.max_batch > 0 ? build.max_batch : net->options_.minibatch();

    Shape shape = net->options_.input;
    double planned_bytes = double(shape.size()) * net->max_batch_ * 4.0;
    for (std::size_t i = 1; i < sections.size(); ++i) {
        const CfgSection& section = sections[i];
        const LayerKind* kind = find_layer_kind(section.name);
        if (!kind) {
            if (section.name == "net" || section.name == "network")
                section.fail_section("[net] may only be the first section");
            section.fail_section("unknown section (layer type)");
        }
        auto layer = kind->make(section, shape);
        section.finish(kind->darknet_keys);
        shape = layer->output_shape();
        if (shape.size() == 0) section.fail_section(cat("the layer's output would be empty (", to_string(shape), ")"));
        // Activations and their gradients for a full batch.
        planned_bytes += 2.0 * double(shape.size()) * net->max_batch_ * 4.0;
        if (planned_bytes > kMaxBufferBytes)
            section.fail_section(cat("the network would need ", planned_bytes / (1ull << 30),
                                     " GiB of activations at batch ", net->max_batch_, ": too large"));
        net->layer_names_.push_back(cat("layer ", i - 1, " (", layer->summary().kind, ", ", section.file, ":",
                                        section.line, ")"));
        net->layers_.push_back(std::move(layer));
    }
    net->ends_in_softmax_ = sections.back().name == "softmax" || sections.back().name == "soft";

    net->pool_ = std::make_unique<ThreadPool>(build.threads);
    // The kernel table is bound here, once; layers reach it through compute_.
    net->compute_ = Compute{net->pool_.get(), build.backend ? build.backend : best_backend()};
    net->packed_binary_ = build.packed_binary;
    const std::size_t count = net->layers_.size();
    net->absorbs_next_.assign(count, 0);
    if (build.fuse)
        for (std::size_t i = 0; i + 1 < count; ++i)
            if (net->layers_[i]->absorb_next(*net->layers_[i + 1])) net->absorbs_next_[i++] = 1;
    std::size_t workspace = 0;
    for (std::size_t i = 0; i < count; ++i) {
        Layer& layer = *net->layers_[i];
        layer.reserve(net->max_batch_);
        // A fusing layer writes straight into the next layer's buffers: its own stay empty.
        const std::size_t size = net->absorbs_next_[i] ? 0 : std::size_t(net->max_batch_) * layer.output_shape().size();
        net->outputs_.emplace_back(size, 0.0f);
        net->grads_.emplace_back(size, 0.0f);
        workspace = std::max(workspace, layer.workspace_floats(net->max_batch_, net->pool_->size()));
    }
    net->workspace_.assign(workspace, 0.0f);
    net->param_offsets_.assign(1, 0);
    for (const auto& layer : net->layers_)
        net->param_offsets_.push_back(net->param_offsets_.back() + layer->params().size());
    net->init_weights(net->options_.seed);
    return net;
}

namespace {
double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

const float* Network::forward(const float* input, int batch, bool train, std::vector<double>* layer_seconds) {
    LENET_CHECK(batch > 0 && batch <= max_batch_, "batch ", batch, " outside 1..", max_batch_);
    if (layer_seconds) layer_seconds->resize(layers_.size(), 0.0);
    const float* in = input;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        const double start = layer_seconds ? now_seconds() : 0.0;
        const std::size_t out = absorbs_next_[i] ? i + 1 : i;  // a fused pair's time counts as the first's
        layers_[i]->forward({in, outputs_[out].data(), batch, train, workspace_.data(), compute_, rng_, packed_binary_});
        if (layer_seconds) (*layer_seconds)[i] += now_seconds() - start;
        in = outputs_[out].data();
        i = out;
    }
    return in;
}

void Network::backward(const float* input, int batch, std::vector<double>* layer_seconds, const LayerDone* layer_done) {
    if (layer_seconds) layer_seconds->resize(layers_.size(), 0.0);
    for (std::size_t out = layers_.size(); out-- > 0;) {
        // Layer i runs; out is i + 1 when i absorbed that layer.
        const std::size_t i = out > 0 && absorbs_next_[out - 1] ? out - 1 : out;
        const float* in = i == 0 ? input : outputs_[i - 1].data();
        float* in_grad = i == 0 ? nullptr : grads_[i - 1].data();
        const double start = layer_seconds ? now_seconds() : 0.0;
        if (in_grad && !layers_[i]->sets_input_grad()) {
            // Zeroed just before its only writer runs (layers form a chain), split over the pool:
            // the buffer is then still in cache when the layer adds into it.
            const std::size_t count = std::size_t(batch) * layers_[i - 1]->output_shape().size();
            const auto zero = [&](std::size_t begin, std::size_t end, int) { std::fill(in_grad + begin, in_grad + end, 0.0f); };
            if (count >= (1 << 16)) pool_->parallel_for(count, zero);
            else zero(0, count, 0);
        }
        layers_[i]->backward({in, outputs_[out].data(), grads_[out].data(), in_grad, batch, workspace_.data(), compute_});
        if (layer_seconds) (*layer_seconds)[i] += now_seconds() - start;
        if (layer_done && param_offsets_[out + 1] > param_offsets_[i])
            (*layer_done)(param_offsets_[i], param_offsets_[out + 1] - param_offsets_[i]);
        out = i;
    }
}

std::vector<Param> Network::params() {
    std::vector<Param> all;
    for (auto& layer : layers_)
        for (const Param& p : layer->params()) all.push_back(p);
    return all;
}

void Network::zero_param_grads() {
    for (const Param& p : params()) {
        std::fill_n(p.grad, p.size, 0.0f);
        if (p.grad_stale) *p.grad_stale = false;  // the next backward adds onto the zeros
    }
}

void Network::init_weights(std::uint64_t seed) {
    Rng rng(seed);
    for (auto& layer : layers_) layer->init_weights(rng);
    rng_.reseed(seed ^ 0x5DEECE66Dull);
}

std::uint64_t Network::load_weights(const std::string& path) {
    WeightsReader reader(path, read_file(path));
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        reader.set_layer(layer_names_[i]);
        layers_[i]->read_weights(reader);
    }
    if (reader.remaining() != 0)
        throw Error(cat(path, ": ", reader.remaining(), " unexpected bytes at byte offset ", reader.offset(),
                        " after the last layer: the file does not match this cfg (expected ", reader.offset(),
                        " bytes in all)"));
    return reader.seen();
}

std::string Network::weights_bytes(std::uint64_t seen, bool packed) const {
    WeightsWriter writer(seen, packed);
    for (const auto& layer : layers_) layer->write_weights(writer);
    return writer.finish();
}

void Network::save_weights(const std::string& path, std::uint64_t seen, bool packed) const {
    write_file_atomically(path, weights_bytes(seen, packed));
}

std::string Network::summary_table() const {
    std::string table;
    char line[256];
    std::snprintf(line, sizeof line, "%5s %-10s %7s %-11s %18s    %18s %10s %9s\n", "layer", "type", "filters",
                  "size/strd", "input", "output", "params", "MFLOPs");
    table += line;
    std::size_t total_params = 0;
    double total_flops = 0;
    Shape in = options_.input;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        const LayerSummary s = layers_[i]->summary();
        const Shape out = layers_[i]->output_shape();
        std::snprintf(line, sizeof line, "%5zu %-10s %7s %-11s %4d x %4d x %4d -> %4d x %4d x %4d %10zu %9.3f\n", i,
                      s.kind.c_str(), s.filters.c_str(), s.window.c_str(), in.w, in.h, in.c, out.w, out.h, out.c,
                      s.parameters, s.flops / 1e6);
        table += line;
        total_params += s.parameters;
        total_flops += s.flops;
        in = out;
    }
    std::snprintf(line, sizeof line, "total: %zu parameters (%.2f MiB as float32), %.3f MFLOPs per image forward\n",
                  total_params, double(total_params) * 4.0 / (1 << 20), total_flops / 1e6);
    table += line;
    return table;
}

}  // namespace lenet
