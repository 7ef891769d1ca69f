// [softmax]: groups, temperature. It carries the cross-entropy loss, whose gradient with respect to
// the logits is (p - y) / batch; loss() writes that into this layer's output gradient, so backward
// passes it straight through.
#include <algorithm>
#include <cmath>

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
        float total = 0.0f;
        for (int i = 0; i < pass.batch; ++i) {
            const float* p = pass.output + std::size_t(i) * classes;
            float* d = pass.output_grad + std::size_t(i) * classes;
            const int label = pass.truth.labels[i];
            LENET_CHECK(label >= 0 && label < classes, "label ", label, " outside 0..", classes - 1);
            for (int k = 0; k < classes; ++k) d[k] = (p[k] - (k == label ? 1.0f : 0.0f)) * pass.grad_scale;
            total -= std::log(std::max(p[label], 1e-12f));
        }
        return total;
    }

    void backward(const BackwardPass& pass) override {
        if (!pass.input_grad) return;
        const std::size_t total = std::size_t(pass.batch) * input_.size();
        for (std::size_t i = 0; i < total; ++i) pass.input_grad[i] += pass.output_grad[i] / temperature_;
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
