// The layer interface. Every cfg section kind is one Layer subclass in its own file
// (convolutional.cpp for [convolutional], ...). A layer declares its output shape from its input
// shape(s) when it is built; the Network then plans all memory once. Passes run over a whole
// (mini)batch in NCHW layout; there is one virtual call per layer per pass, never per element.
// A layer reads the previous layer's output unless it names others (input_layers(): [route],
// [shortcut]); several layers may read one output.
#pragma once
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "core/shape.h"
#include "kernels/backend.h"
#include "kernels/ops/pool.h"

namespace lenet {

class WeightsReader;
class WeightsWriter;
struct Truth;

struct ForwardPass {
    const float* input;
    float* output;
    int batch;
    bool train;
    float* workspace;  // at least workspace_floats() floats, shared by all layers
    const Compute& compute;
    Rng& rng;
    // Inference only: XNOR layers run the bit-packed kernels (true) or their float simulation.
    bool packed_binary = true;
    // Every input in input_layers() order (inputs[0] == input); single-input layers need only input.
    std::span<const float* const> inputs = {};
};

// Gradients accumulate: a layer adds dL/dinput into input_grad (null for the first layer), zeroed
// by the network first, or writes every float of it when sets_input_grad(); it adds its parameter
// gradients into its own gradient buffers. output_grad may be modified. A multi-input layer adds
// into each of input_grads (null entries: no gradient needed there); several layers may add into
// one gradient, which is how gradients sum where an output has several readers.
struct BackwardPass {
    const float* input;
    const float* output;
    float* output_grad;
    float* input_grad;
    int batch;
    float* workspace;
    const Compute& compute;
    // As in ForwardPass: every input and its gradient, in input_layers() order ([0] == input, input_grad).
    std::span<const float* const> inputs = {};
    std::span<float* const> input_grads = {};
};

// An output layer's loss over one minibatch: from the layer's output and the truth, writes
// output_grad (dL/doutput times grad_scale: 1 / images in the whole batch, so minibatches add up)
// and returns the loss summed over the minibatch's images, through compute's ops.
struct LossPass {
    const float* output;
    float* output_grad;
    int batch;
    const Truth& truth;
    float grad_scale;
    const Compute& compute;
};

// A trainable array and its gradient. `decay` says whether weight decay applies (weights yes;
// biases and batch-norm scales no, as in Darknet).
struct Param {
    float* value;
    float* grad;
    std::size_t size;
    bool decay;
    // Set by a layer whose backward can overwrite this gradient instead of adding to it: the
    // optimizer then leaves the used gradient in place and sets *grad_stale, and the next backward
    // writes the array (no zeroing pass, no read of zeros: for large arrays, memory traffic saved).
    bool* grad_stale = nullptr;
};

// An array a layer trains that Darknet's .weights has no place for ([batchnorm]'s biases): lenet
// keeps it in the checkpoint's .state sidecar and in the packed format (io/weights.h).
struct FloatArray {
    float* data;
    std::size_t size;
};

// One row of the summary table.
struct LayerSummary {
    std::string kind;     // "conv", "max", "connected", ...
    std::string filters;  // filter count or empty
    std::string window;   // "3 x 3 / 1" or empty
    std::size_t parameters = 0;
    double flops = 0;  // multiply-adds x 2 for one image's forward pass
};

class Layer {
public:
    virtual ~Layer() = default;

    Shape input_shape() const { return input_; }  // the first input's, for multi-input layers
    Shape output_shape() const { return output_; }
    // The layers this one reads, as network layer indices in order; empty: the previous layer (or
    // the network's input for layer 0). Set by the factories of layers that name others.
    const std::vector<int>& input_layers() const { return input_layers_; }

    virtual LayerSummary summary() const = 0;
    virtual void forward(const ForwardPass& pass) = 0;
    virtual void backward(const BackwardPass& pass) = 0;
    // Whether backward writes input_grad whole (so the network need not zero it first when this
    // layer is its first writer). Single-input layers only.
    virtual bool sets_input_grad() const { return false; }

    // Allocates per-batch state (saved statistics, masks, indices) for batches up to max_batch.
    virtual void reserve(int /*max_batch*/) {}
    // Scratch floats needed by one pass at this batch size and thread count.
    virtual std::size_t workspace_floats(int /*batch*/, int /*threads*/) const { return 0; }

    // Fusion, decided once when the network is built: absorb_next returns true when this layer takes
    // over the work of `next` (a convolution the max pool after it, pooled image by image while the
    // convolution's output is still in cache). The network then runs this layer with next's output
    // and output_grad buffers and never runs `next`; this layer's own output buffers go unused.
    // Called before reserve().
    virtual bool absorb_next(const Layer& /*next*/) { return false; }
    // The same for a network built for inference only, where training's buffers need not be kept
    // (asked when absorb_next declines), with the bound kernel table.
    virtual bool absorb_next_at_inference(const Layer& /*next*/, const kernels::Ops& /*ops*/) { return false; }
    // What absorb_next needs to know of a max pool layer (null for every other kind).
    virtual const kernels::PoolGeometry* maxpool_geometry() const { return nullptr; }

    // Inference with bit-packed activations between binary layers (kernels/ops/sign_planes.h),
    // planned by the network when it is built for inference (Network::plan_sign_planes): where
    // every reader of a layer's output needs only its signs, the output is kept as sign planes in
    // the layer's output buffer (far smaller than the floats it replaces).
    enum class SignPass {
        none,
        reads_and_writes,  // a K-free XNOR convolution: reads sign planes, writes them by thresholds
        structural,        // max pool, upsample, route: moves signs around (ForwardPass::inputs sign planes)
        per_channel,       // [batchnorm]: a monotone function per channel, folded into the writers' thresholds
    };
    virtual SignPass sign_pass() const { return SignPass::none; }
    // A per-channel layer between a writer and a binary reader, with where the writer's channel
    // c lands in it (c + shift).
    struct SignStage {
        const Layer* layer;
        int shift;
        bool operator==(const SignStage&) const = default;
    };
    struct SignPlan {
        bool input = false;   // the inputs arrive as sign planes
        bool output = false;  // the output is written as sign planes
        // output only: the per-channel layers the output passes through before each binary reader
        // (the same on every path), nearest first.
        std::vector<SignStage> stages;
    };
    virtual void plan_signs(const SignPlan& /*plan*/) {}
    // Called once when the network is built for inference only: the weights then change only
    // through read_weights and init_weights, so the layer may keep forms of them made once
    // (a float convolution's GEMM-packed weights).
    virtual void plan_inference_only() {}
    // per_channel layers: applies the layer's inference arithmetic to n values of channel c in
    // place, and says whether it is decreasing there (a max pool before it then takes the min).
    virtual void sign_stage_apply(const kernels::Ops& /*ops*/, int /*channel*/, float* /*values*/, std::size_t /*n*/) const {}
    virtual bool sign_stage_decreasing(int /*channel*/) const { return false; }

    // Binary (BWN/XNOR) layers: their weights are `rows` rows of `per_row` values, stored as
    // alpha per row and 1 bit per weight in packed files. Zero rows for float layers.
    struct BinaryWeights {
        std::size_t rows = 0, per_row = 0;
        bool binary_inputs = false;  // XNOR: inputs binarized too (bit-packed kernels at inference)
    };
    virtual BinaryWeights binary_weights() const { return {}; }

    // Output layers that train the network carry its loss ([softmax]: cross-entropy; [yolo]).
    virtual bool has_loss() const { return false; }
    virtual float loss(const LossPass& /*pass*/) { LENET_CHECK(false, "loss() on a layer without one"); return 0.0f; }

    virtual std::vector<Param> params() { return {}; }
    virtual void init_weights(Rng& /*rng*/) {}
    virtual void read_weights(WeightsReader& /*reader*/) {}
    virtual void write_weights(WeightsWriter& /*writer*/) const {}
    virtual std::vector<FloatArray> lenet_only_arrays() { return {}; }

protected:
    Shape input_, output_;
    std::vector<int> input_layers_;
};

}  // namespace lenet
