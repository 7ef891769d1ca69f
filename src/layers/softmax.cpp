// [softmax]: groups, temperature. It carries the cross-entropy loss, whose gradient with respect to
// the logits is (p - y) / batch; loss() writes that into this layer's output gradient, so backward
// passes it straight through.
#include "cfg/cfg.h"
#include "data/truth.h"
#include "kernels/ops.h"
#include "layers/layer.h"

namespace lenet {

namespace {

class SoftmaxLayer final : public Layer {
public:
    SoftmaxLayer(Shape input, int groups, float temperature) : groups_(groups), temperature_(temperature) {
        input_ = input;
        output_ = Shape{int(input.size()), 1, 1};
    }

    LayerSummary summary() const override { return {"softmax", "", "", 0, 3.0 * double(input_.size())}; }

    void forward(const ForwardPass& pass) override {
        const kernels::Ops& ops = *pass.compute.ops;
        const int n = int(input_.size()), group_size = n / groups_;
        ops.softmax(pass.input, pass.batch * groups_, group_size, temperature_, pass.output);
    }

    bool has_loss() const override { return true; }

    // Cross-entropy against one class label per image (over all the layer's outputs).
    float loss(const LossPass& pass) override {
        LENET_CHECK(pass.truth.labels, "softmax loss needs class labels");
        const int classes = int(output_.size());
        for (int i = 0; i < pass.batch; ++i) {
            const int label = pass.truth.labels[i];
            LENET_CHECK(label >= 0 && label < classes, "label ", label, " outside 0..", classes - 1);
        }
        return pass.compute.ops->softmax_cross_entropy(pass.output, pass.truth.labels, pass.batch, classes,
                                                        pass.grad_scale, pass.output_grad);
    }

    void backward(const BackwardPass& pass) override {
        if (!pass.input_grad) return;
        const std::size_t total = std::size_t(pass.batch) * input_.size();
        pass.compute.ops->softmax_backward_add(pass.output_grad, total, temperature_, pass.input_grad);
    }

private:
    int groups_;
    float temperature_;
};

}  // namespace

std::unique_ptr<Layer> make_softmax(const CfgSection& section, Shape input) {
    const int groups = section.get_int("groups", 1, 1, 1 << 24);
    const float temperature = section.get_float("temperature", 1.0f);
    if (temperature <= 0.0f) section.fail("temperature", "expected a positive number");
    if (input.size() % std::size_t(groups) != 0)
        section.fail("groups", cat("the input's ", input.size(), " values do not split into ", groups, " groups"));
    return std::make_unique<SoftmaxLayer>(input, groups, temperature);
}

}  // namespace lenet
