// The public Model handle, a thin wrapper around Network.
#include "lenet/lenet.h"

#include "data/image.h"
#include "io/train_state.h"
#include "net/network.h"

namespace lenet {

const char* version() { return "0.1.0"; }

struct Model::Impl {
    std::unique_ptr<Network> net;
    std::uint64_t seen = 0;
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string& cfg_path, const std::string& weights_path, int threads) {
    auto impl = std::make_unique<Impl>();
    BuildOptions build;
    build.threads = threads;
    build.max_batch = 1;
    build.inference = true;  // forward passes only: dead activations' memory is reused
    impl->net = Network::from_cfg_file(cfg_path, build);
    if (!weights_path.empty()) impl->seen = impl->net->load_weights(weights_path);
    return std::unique_ptr<Model>(new Model(std::move(impl)));
}

int Model::input_width() const { return impl_->net->input_shape().w; }
int Model::input_height() const { return impl_->net->input_shape().h; }
int Model::input_channels() const { return impl_->net->input_shape().c; }
int Model::outputs() const { return int(impl_->net->output_shape().size()); }

std::vector<float> Model::predict(const std::vector<float>& image) {
    if (image.size() != impl_->net->input_shape().size())
        throw Error(cat("Model::predict: the image has ", image.size(), " values, the network takes ",
                        impl_->net->input_shape().size(), " (", to_string(impl_->net->input_shape()), ")"));
    const float* out = impl_->net->forward(image.data(), 1, false);
    return std::vector<float>(out, out + outputs());
}

std::vector<float> Model::predict_file(const std::string& image_path, bool invert) {
    return predict(load_image_for_network(image_path, impl_->net->input_shape(), invert));
}

void Model::save_weights(const std::string& path) const {
    impl_->net->save_weights(path, impl_->seen);
    // [batchnorm] biases, which Darknet's layout does not hold, go to the .state beside it.
    save_lenet_only_state(path, impl_->seen, impl_->net->lenet_only_values());
}

}  // namespace lenet
