#include "net/network.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>

#include "cfg/registry.h"
#include "io/atomic_file.h"
#include "io/train_state.h"
#include "io/weights.h"
#include "kernels/ops.h"

namespace lenet {

namespace {
// Refuse plans that cannot fit in memory before allocating them, naming the layer.
constexpr double kMaxBufferBytes = 16.0 * (1ull << 30);
}  // namespace

std::unique_ptr<Network> Network::from_cfg_file(const std::string& path, const BuildOptions& build) {
    return from_sections(read_cfg_file(path), build);
}

namespace {

// A Darknet section lenet does not implement yet, built only for a summary: it passes its input's
// shape through so that the rows after it still show Darknet's shapes.
class UnimplementedLayer final : public Layer {
public:
    UnimplementedLayer(std::string kind, Shape input) : kind_(std::move(kind)) { input_ = output_ = input; }
    LayerSummary summary() const override { return {kind_ + "*", "", "", 0, 0}; }
    void forward(const ForwardPass&) override { throw Error(cat("[", kind_, "] is not implemented yet")); }
    void backward(const BackwardPass&) override { throw Error(cat("[", kind_, "] is not implemented yet")); }

private:
    std::string kind_;
};

}  // namespace

std::unique_ptr<Network> Network::from_sections(const std::vector<CfgSection>& sections, const BuildOptions& build) {
    if (sections.empty()) throw Error("empty cfg: expected [net] followed by layers");
    std::unique_ptr<Network> net(new Network());
    net->options_ = parse_net_options(sections.front());
    if (sections.size() == 1) sections.front().fail_section("the cfg has no layers after [net]");
    net->max_batch_ = build.max_batch > 0 ? build.max_batch : net->options_.minibatch();
    net->inference_ = build.inference;
    net->summary_only_ = build.summary_only;

    std::vector<Shape> shapes;
    GraphContext context{0, net->options_.input, &shapes};
    double planned_bytes = double(net->options_.input.size()) * net->max_batch_ * 4.0;
    for (std::size_t i = 1; i < sections.size(); ++i) {
        const CfgSection& section = sections[i];
        const LayerKind* kind = find_layer_kind(section.name);
        if (!kind) {
            if (section.name == "net" || section.name == "network")
                section.fail_section("[net] may only be the first section");
            section.fail_section("unknown section (layer type)");
        }
        context.index = int(i - 1);
        std::unique_ptr<Layer> layer;
        if (!kind->implemented()) {
            if (!build.summary_only) section.fail_section("this layer type is not implemented yet");
            layer = std::make_unique<UnimplementedLayer>(section.name, context.previous());
        } else {
            layer = kind->make_graph ? kind->make_graph(section, context) : kind->make(section, context.previous());
            section.finish(kind->darknet_keys);
        }
        const Shape shape = layer->output_shape();
        if (shape.size() == 0) section.fail_section(cat("the layer's output would be empty (", to_string(shape), ")"));
        // Activations and their gradients for a full batch.
        planned_bytes += (build.inference ? 1.0 : 2.0) * double(shape.size()) * net->max_batch_ * 4.0;
        if (planned_bytes > kMaxBufferBytes && !build.summary_only)
            section.fail_section(cat("the network would need ", planned_bytes / (1ull << 30),
                                     " GiB of activations at batch ", net->max_batch_, ": too large"));
        net->layer_names_.push_back(cat("layer ", i - 1, " (", layer->summary().kind, ", ", section.file, ":",
                                        section.line, ")"));
        net->inputs_.push_back(layer->input_layers().empty() ? std::vector<int>{context.index - 1} : layer->input_layers());
        shapes.push_back(shape);
        net->layers_.push_back(std::move(layer));
    }
    net->ends_in_softmax_ = sections.back().name == "softmax" || sections.back().name == "soft";

    const std::size_t count = net->layers_.size();
    std::vector<std::vector<int>> readers(count);
    for (std::size_t i = 0; i < count; ++i)
        for (int j : net->inputs_[i])
            if (j >= 0) readers[std::size_t(j)].push_back(int(i));
    for (std::size_t i = 0; i < count; ++i)
        if (readers[i].empty()) net->output_layers_.push_back(int(i));

    // The kernel table is bound here, once; layers reach it through compute_. A device backend's
    // ops run on one stream and share its scratch: one host thread issues them.
    const Backend backend = build.backend ? build.backend : best_backend();
    const bool on_host = kernels::tensor_memory(*backend).device() == Device::cpu;
    net->pool_ = std::make_unique<ThreadPool>(on_host ? build.threads : 1);
    net->compute_ = Compute{net->pool_.get(), backend};
    net->packed_binary_ = build.packed_binary;
    net->plan_fusion(build.fuse && !build.summary_only, readers);
    net->sign_planes_.assign(count, 0);
    if (net->inference_ && net->packed_binary_ && !build.summary_only) net->plan_sign_planes(readers);
    if (net->inference_ && !build.summary_only)
        for (const auto& layer : net->layers_) layer->plan_inference_only();
    net->plan_memory();
    net->param_offsets_.assign(1, 0);
    for (const auto& layer : net->layers_)
        net->param_offsets_.push_back(net->param_offsets_.back() + layer->params().size());
    net->init_weights(net->options_.seed);
    return net;
}

void Network::plan_fusion(bool fuse, const std::vector<std::vector<int>>& readers) {
    const std::size_t count = layers_.size();
    absorbs_next_.assign(count, 0);
    // Layer i may absorb i + 1 only when i + 1 reads i alone and nothing else reads i: i's output
    // is never formed (a [route] over a convolution keeps it unfused).
    if (fuse)
        for (std::size_t i = 0; i + 1 < count; ++i)
            if (inputs_[i + 1] == std::vector<int>{int(i)} && readers[i] == std::vector<int>{int(i + 1)} &&
                (layers_[i]->absorb_next(*layers_[i + 1]) ||
                 (inference_ && layers_[i]->absorb_next_at_inference(*layers_[i + 1], *compute_.ops))))
                absorbs_next_[i++] = 1;

    // Each gradient is zeroed once, just before its first writer in the backward pass (the highest
    // running reader) unless that writer overwrites it whole; later writers add (gradients sum).
    // A layer that overwrites its input's gradient but is not its first writer writes into a
    // scratch tensor instead, which the network then adds into the gradient.
    zero_input_grad_.assign(count, {});
    grad_via_scratch_.assign(count, 0);
    std::vector<char> written(count, 0);
    for (std::size_t i = count; i-- > 0;) {
        zero_input_grad_[i].assign(inputs_[i].size(), 0);
        if (absorbed(int(i))) continue;  // its reader-of-i is inside the fused layer
        const bool overwrites = inputs_[i].size() == 1 && layers_[i]->sets_input_grad();
        for (std::size_t k = 0; k < inputs_[i].size(); ++k) {
            const int j = inputs_[i][k];
            if (j < 0) continue;
            if (written[std::size_t(j)]) {
                if (overwrites) grad_via_scratch_[i] = 1;
                continue;
            }
            written[std::size_t(j)] = 1;
            zero_input_grad_[i][k] = overwrites ? 0 : 1;
        }
    }
}

void Network::plan_sign_planes(const std::vector<std::vector<int>>& readers) {
    const std::size_t count = layers_.size();
    using SignPass = Layer::SignPass;
    const auto pass_of = [&](std::size_t i) { return layers_[i]->sign_pass(); };
    // Candidates: every layer that can write sign planes, unless fused or an output of the network.
    std::vector<char>& packed = sign_planes_;
    for (std::size_t i = 0; i < count; ++i)
        packed[i] = pass_of(i) != SignPass::none && !absorbs_next_[i] && !absorbed(int(i));
    for (int o : output_layers_) packed[std::size_t(o)] = 0;
    // Drop candidates until every one left has only binary readers that agree on the per-channel
    // layers in between, and every non-convolution left reads only candidates. Readers come later
    // in cfg order, so a backward sweep sees a layer's readers settled first.
    std::vector<std::vector<Layer::SignStage>> stages(count);
    for (bool changed = true; changed;) {
        changed = false;
        for (std::size_t i = count; i-- > 0;) {
            if (!packed[i]) continue;
            bool ok = true;
            if (pass_of(i) != SignPass::reads_and_writes)
                for (int j : inputs_[i]) ok = ok && j >= 0 && packed[std::size_t(j)];
            std::optional<std::vector<Layer::SignStage>> after;
            for (int r : readers[i]) {
                const auto ru = std::size_t(r);
                std::vector<Layer::SignStage> via;
                if (pass_of(ru) == SignPass::reads_and_writes && inputs_[ru].size() == 1) {
                    // A binary convolution reads the signs directly.
                } else if (packed[ru] && std::count(inputs_[ru].begin(), inputs_[ru].end(), int(i)) == 1) {
                    // Where i's channels land in r's output (a route concatenates).
                    int offset = 0;
                    for (int j : inputs_[ru]) {
                        if (j == int(i)) break;
                        offset += layers_[std::size_t(j)]->output_shape().c;
                    }
                    if (pass_of(ru) == SignPass::per_channel) via.push_back({layers_[ru].get(), offset});
                    for (Layer::SignStage stage : stages[ru]) via.push_back({stage.layer, stage.shift + offset});
                } else {
                    ok = false;
                    break;
                }
                if (!after) after = via;
                else if (*after != via) ok = false;
            }
            if (!after) ok = false;
            if (!ok) {
                packed[i] = 0;
                changed = true;
            } else {
                stages[i] = *after;
            }
        }
    }
    for (std::size_t i = 0; i < count; ++i) {
        Layer::SignPlan plan;
        plan.output = packed[i];
        if (plan.output) plan.stages = stages[i];
        plan.input = !inputs_[i].empty();
        for (int j : inputs_[i]) plan.input = plan.input && j >= 0 && packed[std::size_t(j)];
        if (plan.input || plan.output) layers_[i]->plan_signs(plan);
    }
}

void Network::plan_memory() {
    const std::size_t count = layers_.size();
    outputs_.clear();
    grads_.clear();
    scratch_grads_.clear();
    slots_.clear();
    outputs_.resize(count);
    grads_.resize(count);
    if (summary_only_) {
        input_ptrs_.assign(count, {});
        input_grad_ptrs_.assign(count, {});
        for (std::size_t i = 0; i < count; ++i) {
            input_ptrs_[i].assign(inputs_[i].size(), nullptr);
            input_grad_ptrs_[i].assign(inputs_[i].size(), nullptr);
        }
        return;
    }
    // Tensors live where the bound backend's kernels address them (kernels::tensor_memory).
    const TensorMemory& memory = kernels::tensor_memory(*compute_.ops);
    std::size_t workspace = 0;
    for (std::size_t i = 0; i < count; ++i) {
        layers_[i]->reserve(max_batch_);
        workspace = std::max(workspace, layers_[i]->workspace_floats(max_batch_, pool_->size()));
    }
    workspace_ = Tensor::flat(workspace, memory);
    const auto output_of = [&](std::size_t i) { return absorbs_next_[i] ? i + 1 : i; };  // buffer layer i writes

    if (!inference_) {
        // Training keeps every activation for the backward pass. A fusing layer writes straight
        // into the next layer's tensors: its own stay empty.
        for (std::size_t i = 0; i < count; ++i) {
            if (absorbs_next_[i]) continue;
            outputs_[i] = Tensor(max_batch_, layers_[i]->output_shape(), memory);
            grads_[i] = Tensor(max_batch_, layers_[i]->output_shape(), memory);
        }
        scratch_grads_.resize(count);
        for (std::size_t i = 0; i < count; ++i)
            if (grad_via_scratch_[i]) scratch_grads_[i] = Tensor(max_batch_, layers_[i]->input_shape(), memory);
    } else {
        // Greedy liveness: walking the layers in run order, each output takes a free slot (the
        // smallest that fits, else the largest, grown) and frees its inputs' slots after their
        // last reader; outputs of output layers are never freed.
        constexpr std::size_t kForever = std::size_t(-1);
        std::vector<std::size_t> last_use(count, 0);
        for (std::size_t i = 0; i < count; ++i)
            if (!absorbed(int(i)))
                for (int j : inputs_[i])
                    if (j >= 0) last_use[std::size_t(j)] = std::max(last_use[std::size_t(j)], i);
        for (int o : output_layers_) last_use[std::size_t(o)] = kForever;
        std::vector<std::size_t> capacity;
        std::vector<char> busy;
        std::vector<int> slot_of(count, -1);
        for (std::size_t i = 0; i < count; ++i) {
            if (absorbed(int(i))) continue;
            const std::size_t b = output_of(i);
            const std::size_t need = std::size_t(max_batch_) * layers_[b]->output_shape().size();
            // Slot s beats the best so far if it fits and is smaller (or the best does not fit),
            // or if neither fits and s is larger (less to grow).
            int best = -1;
            for (std::size_t s = 0; s < capacity.size(); ++s) {
                if (busy[s]) continue;
                const std::size_t cap = capacity[s], have = best < 0 ? 0 : capacity[std::size_t(best)];
                const bool fits = cap >= need, best_fits = best >= 0 && have >= need;
                if (best < 0 || (fits && (!best_fits || cap < have)) || (!fits && !best_fits && cap > have)) best = int(s);
            }
            if (best < 0) {
                best = int(capacity.size());
                capacity.push_back(0);
                busy.push_back(0);
            }
            capacity[std::size_t(best)] = std::max(capacity[std::size_t(best)], need);
            busy[std::size_t(best)] = 1;
            slot_of[b] = best;
            for (int j : inputs_[i])
                if (j >= 0 && last_use[std::size_t(j)] == i) busy[std::size_t(slot_of[std::size_t(j)])] = 0;
        }
        for (std::size_t cap : capacity) slots_.push_back(Tensor::flat(cap, memory));
        for (std::size_t b = 0; b < count; ++b)
            if (slot_of[b] >= 0)
                outputs_[b] = Tensor::view(slots_[std::size_t(slot_of[b])].data(), max_batch_, layers_[b]->output_shape(),
                                           memory.device());
    }
    input_ptrs_.assign(count, {});
    input_grad_ptrs_.assign(count, {});
    for (std::size_t i = 0; i < count; ++i)
        for (int j : inputs_[i]) {
            input_ptrs_[i].push_back(j < 0 ? nullptr : outputs_[std::size_t(j)].data());
            input_grad_ptrs_[i].push_back(j < 0                   ? nullptr
                                          : grad_via_scratch_[i] ? scratch_grads_[i].data()
                                                                 : grads_[std::size_t(j)].data());
        }
}

std::size_t Network::activation_floats() const {
    std::size_t floats = 0;
    if (inference_)
        for (const Tensor& slot : slots_) floats += slot.size();
    else
        for (const Tensor& t : outputs_) floats += t.size();
    return floats;
}

namespace {
double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

const float* Network::forward(const float* input, int batch, bool train, std::vector<double>* layer_seconds) {
    LENET_CHECK(!summary_only_, "this network was built for its summary only and cannot run");
    LENET_CHECK(!(train && inference_), "this network was built for inference and cannot run a training pass");
    LENET_CHECK(batch > 0 && batch <= max_batch_, "batch ", batch, " outside 1..", max_batch_);
    if (layer_seconds) layer_seconds->resize(layers_.size(), 0.0);
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        const double start = layer_seconds ? now_seconds() : 0.0;
        const std::size_t out = absorbs_next_[i] ? i + 1 : i;  // a fused pair's time counts as the first's
        std::vector<const float*>& in = input_ptrs_[i];
        for (std::size_t k = 0; k < in.size(); ++k)
            if (inputs_[i][k] < 0) in[k] = input;
        layers_[i]->forward({in[0], outputs_[out].data(), batch, train, workspace_.data(), compute_, rng_, packed_binary_,
                             in});
        if (layer_seconds) (*layer_seconds)[i] += now_seconds() - start;
        i = out;
    }
    return outputs_.back().data();
}

void Network::backward(const float* input, int batch, std::vector<double>* layer_seconds, const LayerDone* layer_done) {
    LENET_CHECK(!inference_ && !summary_only_, "this network was built for inference and cannot run backward");
    if (layer_seconds) layer_seconds->resize(layers_.size(), 0.0);
    for (std::size_t out = layers_.size(); out-- > 0;) {
        // Layer i runs; out is i + 1 when i absorbed that layer.
        const std::size_t i = out > 0 && absorbs_next_[out - 1] ? out - 1 : out;
        std::vector<const float*>& in = input_ptrs_[i];
        const std::vector<float*>& in_grad = input_grad_ptrs_[i];
        const double start = layer_seconds ? now_seconds() : 0.0;
        for (std::size_t k = 0; k < in.size(); ++k) {
            const int j = inputs_[i][k];
            if (j < 0) in[k] = input;
            if (!zero_input_grad_[i][k]) continue;
            // Zeroed just before its first writer runs, split over the pool: the buffer is then
            // still in cache when the layer adds into it.
            float* grad = in_grad[k];
            const std::size_t count = std::size_t(batch) * layers_[std::size_t(j)]->output_shape().size();
            const auto zero = [&](std::size_t begin, std::size_t end, int) { std::fill(grad + begin, grad + end, 0.0f); };
            if (count >= (1 << 16)) pool_->parallel_for(count, zero);
            else zero(0, count, 0);
        }
        layers_[i]->backward({in[0], outputs_[out].data(), grads_[out].data(), in_grad[0], batch, workspace_.data(),
                              compute_, in, in_grad});
        if (grad_via_scratch_[i] && in_grad[0]) {
            const float* from = in_grad[0];
            float* to = grads_[std::size_t(inputs_[i][0])].data();
            const std::size_t count = std::size_t(batch) * layers_[i]->input_shape().size();
            for (std::size_t t = 0; t < count; ++t) to[t] += from[t];
        }
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
    const std::vector<float> lenet_only = lenet_only_values();
    if (!reader.packed() && !lenet_only.empty()) {
        // Older lenets wrote [batchnorm] biases after Darknet's arrays: such a file is that many
        // bytes longer than Darknet's layout.
        const std::size_t darknet = weights_bytes(0).size() - kWeightsHeaderBytes;
        if (reader.remaining() == darknet + lenet_only.size() * sizeof(float)) {
            reader.set_inline_lenet_arrays(true);
            std::cerr << "lenet: warning: " << path << ": written by an older lenet ([batchnorm] biases inside the "
                      << ".weights, which Darknet misreads); loaded, save it again for Darknet's layout\n";
        }
    }
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        reader.set_layer(layer_names_[i]);
        layers_[i]->read_weights(reader);
    }
    if (reader.packed() && !reader.inline_lenet_arrays()) {
        reader.set_layer("the lenet-only arrays ([batchnorm] biases)");
        std::uint64_t count = 0;
        reader.read_words(&count, 1, "count");
        if (count != lenet_only.size())
            throw Error(cat(path, ": byte offset ", reader.offset() - 8, ": ", count,
                            " lenet-only values ([batchnorm] biases), this cfg has ", lenet_only.size()));
        std::vector<float> values(lenet_only.size());
        reader.read_floats(values.data(), values.size(), "values");
        set_lenet_only_values(values);
    }
    if (reader.remaining() != 0)
        throw Error(cat(path, ": ", reader.remaining(), " unexpected bytes at byte offset ", reader.offset(),
                        " after the last layer: the file does not match this cfg (expected ", reader.offset(),
                        " bytes in all)"));
    if (!reader.packed() && !reader.inline_lenet_arrays() && !lenet_only.empty()) {
        // Darknet's file has no [batchnorm] biases; a checkpoint's sidecar does.
        std::optional<TrainState> state;
        try {
            state = load_train_state(state_path_for(path));
        } catch (const Error& e) {
            std::cerr << "lenet: warning: " << e.what() << " ([batchnorm] biases start at 0)\n";
        }
        if (state && state->seen == reader.seen()) set_lenet_only_values(state->lenet_only);
    }
    return reader.seen();
}

std::string Network::weights_bytes(std::uint64_t seen, bool packed) const {
    WeightsWriter writer(seen, packed);
    for (const auto& layer : layers_) layer->write_weights(writer);
    if (packed) {
        const std::vector<float> values = lenet_only_values();
        const std::uint64_t count = values.size();
        writer.write_words(&count, 1);
        writer.write_floats(values.data(), values.size());
    }
    return writer.finish();
}

std::vector<float> Network::lenet_only_values() const {
    std::vector<float> values;
    for (const auto& layer : layers_)
        for (const FloatArray& array : layer->lenet_only_arrays())
            values.insert(values.end(), array.data, array.data + array.size);
    return values;
}

bool Network::set_lenet_only_values(const std::vector<float>& values) {
    std::size_t at = 0;
    for (const auto& layer : layers_)
        for (const FloatArray& array : layer->lenet_only_arrays()) at += array.size;
    if (at != values.size()) return false;
    at = 0;
    for (const auto& layer : layers_)
        for (const FloatArray& array : layer->lenet_only_arrays()) {
            std::copy(values.begin() + std::ptrdiff_t(at), values.begin() + std::ptrdiff_t(at + array.size), array.data);
            at += array.size;
        }
    return true;
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
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        const LayerSummary s = layers_[i]->summary();
        const Shape in = layers_[i]->input_shape();
        const Shape out = layers_[i]->output_shape();
        std::snprintf(line, sizeof line, "%5zu %-10s %7s %-11s %4d x %4d x %4d -> %4d x %4d x %4d %10zu %9.3f\n", i,
                      s.kind.c_str(), s.filters.c_str(), s.window.c_str(), in.w, in.h, in.c, out.w, out.h, out.c,
                      s.parameters, s.flops / 1e6);
        table += line;
        total_params += s.parameters;
        total_flops += s.flops;
    }
    for (const auto& layer : layers_)
        if (dynamic_cast<const UnimplementedLayer*>(layer.get())) {
            table += "* not implemented yet: its input's shape is passed through\n";
            break;
        }
    std::snprintf(line, sizeof line, "total: %zu parameters (%.2f MiB as float32), %.3f MFLOPs per image forward\n",
                  total_params, double(total_params) * 4.0 / (1 << 20), total_flops / 1e6);
    table += line;
    return table;
}

}  // namespace lenet
