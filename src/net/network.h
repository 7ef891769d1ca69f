// A network built from a cfg: [net] options plus layers in cfg order forming a graph (each layer
// reads the previous output or the layers it names; an output may have several readers), with
// every activation, gradient and workspace tensor planned once at build time for batches up to
// max_batch().
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cfg/cfg.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "kernels/backend.h"
#include "layers/layer.h"
#include "net/net_options.h"

namespace lenet {

struct BuildOptions {
    int threads = 0;  // 0: all cores
    Backend backend = best_backend();
    int max_batch = 0;  // 0: the cfg's minibatch (batch / subdivisions)
    bool fuse = true;   // let layers absorb the next one (Layer::absorb_next); off only to test fusion
    // XNOR layers at inference: bit-packed kernels, or (false) the float simulation they must match.
    bool packed_binary = true;
    // Forward passes only (no training): no gradient tensors, and an activation's memory is reused
    // once its last reader has run (outputs of output_layers() are kept).
    bool inference = false;
    // Shapes only, for `lenet summary`: no tensors, and Darknet sections lenet does not implement
    // yet build as pass-through rows marked "not implemented yet". forward() refuses.
    bool summary_only = false;
};

class Network {
public:
    static std::unique_ptr<Network> from_cfg_file(const std::string& path, const BuildOptions& build = {});
    static std::unique_ptr<Network> from_sections(const std::vector<CfgSection>& sections, const BuildOptions& build = {});

    const NetOptions& options() const { return options_; }
    NetOptions& options() { return options_; }
    int layer_count() const { return int(layers_.size()); }
    Layer& layer(int index) { return *layers_[std::size_t(index)]; }
    Shape input_shape() const { return options_.input; }
    Shape output_shape() const { return layers_.back()->output_shape(); }
    // The layers layer `index` reads (-1: the network's input), in order.
    const std::vector<int>& inputs(int index) const { return inputs_[std::size_t(index)]; }
    // Layers whose output no later layer reads, in order; the last layer is always one.
    const std::vector<int>& output_layers() const { return output_layers_; }
    int max_batch() const { return max_batch_; }
    bool ends_in_softmax() const { return ends_in_softmax_; }
    // Whether layer `index` runs inside the layer before it (fusion: it never runs on its own).
    bool absorbed(int index) const { return index > 0 && absorbs_next_[std::size_t(index - 1)]; }
    // Whether layer `index` writes its output as sign planes (inference only: its readers all
    // need only signs; kernels/ops/sign_planes.h). Its output() then holds bytes, not floats.
    bool sign_planes(int index) const { return sign_planes_[std::size_t(index)] != 0; }
    const Compute& compute() const { return compute_; }
    ThreadPool& pool() { return *pool_; }

    // Layer `index`'s output after forward() (null for a layer fused into the next one, whose
    // output is never formed; at inference valid only for output_layers()), and the gradient of
    // the loss with respect to it, which the caller fills for each output layer before backward().
    const float* output(int index) const { return outputs_[std::size_t(index)].data(); }
    float* output_grad(int index) { return grads_[std::size_t(index)].data(); }
    const Tensor& output_tensor(int index) const { return outputs_[std::size_t(index)]; }
    bool inference() const { return inference_; }
    // Floats held by activation tensors (shared slots counted once), for tests of the reuse plan.
    std::size_t activation_floats() const;

    // Runs the layers on batch <= max_batch() images; returns the last layer's output.
    // With layer_seconds, adds each layer's wall time to it (for `lenet bench`).
    const float* forward(const float* input, int batch, bool train, std::vector<double>* layer_seconds = nullptr);
    // The gradient of the loss with respect to the last layer's output, for the caller to fill
    // after forward(train = true) and before backward().
    float* output_grad() { return grads_.back().data(); }
    // Adds this batch's parameter gradients into the layers' gradient buffers. With layer_done,
    // calls it after each layer's backward with that layer's parameter arrays, as indices
    // [first, first + count) into params() (layers without parameters are skipped): a layer's
    // parameters are final then, and no later (lower) layer's backward reads them.
    using LayerDone = std::function<void(std::size_t first, std::size_t count)>;
    void backward(const float* input, int batch, std::vector<double>* layer_seconds = nullptr,
                  const LayerDone* layer_done = nullptr);

    std::vector<Param> params();
    void zero_param_grads();
    void init_weights(std::uint64_t seed);
    Rng& rng() { return rng_; }

    // Darknet .weights, or (packed) lenet's packed format with 1 bit per binary weight (io/weights.h);
    // load reads either and returns the file's `seen`.
    std::uint64_t load_weights(const std::string& path);
    void save_weights(const std::string& path, std::uint64_t seen, bool packed = false) const;
    std::string weights_bytes(std::uint64_t seen, bool packed = false) const;
    // The arrays Darknet's .weights has no place for (Layer::lenet_only_arrays: [batchnorm] biases),
    // flattened in layer order; kept in the .state sidecar and in packed files. load_weights reads
    // them from there (a .weights file's sidecar when its seen matches).
    std::vector<float> lenet_only_values() const;
    bool set_lenet_only_values(const std::vector<float>& values);  // false if the count differs

    // Darknet-style table: one row per layer and totals.
    std::string summary_table() const;

private:
    Network() = default;

    NetOptions options_;
    std::vector<std::unique_ptr<Layer>> layers_;
    std::vector<std::string> layer_names_;  // "layer 2 (conv, cfg/lenet.cfg:14)" for error messages
    std::vector<std::vector<int>> inputs_;  // per layer: the layers it reads (-1: the network's input)
    std::vector<int> output_layers_;
    // Per layer, in inputs_ order: whether backward zeroes that input's gradient before this layer
    // runs (it is the gradient's first writer and does not overwrite it whole).
    std::vector<std::vector<char>> zero_input_grad_;
    // Per layer: it overwrites its input's gradient (sets_input_grad) but is not that gradient's
    // first writer, so it writes scratch_grads_[i], which backward then adds in.
    std::vector<char> grad_via_scratch_;
    std::vector<Tensor> scratch_grads_;
    // Per layer: its input pointers (slots for the network's input patched by each pass), and
    // their gradients (null for the network's input).
    std::vector<std::vector<const float*>> input_ptrs_;
    std::vector<std::vector<float*>> input_grad_ptrs_;
    // Layer i's output and its gradient (empty when layer i absorbed the next layer, or at inference
    // for gradients); at inference outputs view shared slots in slots_.
    std::vector<Tensor> outputs_, grads_, slots_;
    std::vector<char> absorbs_next_;  // per layer: it runs the next layer's work too (which is skipped)
    std::vector<std::size_t> param_offsets_;  // layer i's arrays are params()[offsets[i], offsets[i + 1])
    Tensor workspace_;
    std::unique_ptr<ThreadPool> pool_;
    Compute compute_;
    Rng rng_;
    int max_batch_ = 1;
    bool ends_in_softmax_ = false;
    bool packed_binary_ = true;
    bool inference_ = false;
    bool summary_only_ = false;

    void plan_fusion(bool fuse, const std::vector<std::vector<int>>& readers);
    // Which outputs stay bit-packed at inference (Layer::sign_pass), told to the layers.
    void plan_sign_planes(const std::vector<std::vector<int>>& readers);
    std::vector<char> sign_planes_;  // per layer: its output is sign planes
    void plan_memory();
};

}  // namespace lenet
