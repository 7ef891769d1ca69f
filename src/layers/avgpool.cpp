// [avgpool]: Darknet's global average pool, one value per channel.
#include "cfg/cfg.h"
#include "kernels/ops/pool.h"
#include "kernels/ops.h"
#include "layers/layer.h"

namespace lenet {

namespace {

class AvgpoolLayer final : public Layer {
public:
    explicit AvgpoolLayer(Shape input) {
        input_ = input;
        output_ = Shape{input.c, 1, 1};
    }

    LayerSummary summary() const override { return {"avg", "", "", 0, double(input_.size())}; }

    void forward(const ForwardPass& pass) override {
        const kernels::Ops& ops = *pass.compute.ops;
        ops.global_avgpool_forward(pass.batch, input_.c, input_.h * input_.w, pass.input, pass.output);
    }

    void backward(const BackwardPass& pass) override {
        const kernels::Ops& ops = *pass.compute.ops;
        if (pass.input_grad)
            ops.global_avgpool_backward_add(pass.batch, input_.c, input_.h * input_.w, pass.output_grad,
                                            pass.input_grad);
    }
};

}  // namespace

std::unique_ptr<Layer> make_avgpool(const CfgSection&, Shape input) { return std::make_unique<AvgpoolLayer>(input); }

}  // namespace lenet
