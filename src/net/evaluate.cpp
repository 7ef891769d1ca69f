#include "net/evaluate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lenet {

void check_network_fits(const Network& net, const std::string& cfg_path, const DataSource& data) {
    if (!(net.input_shape() == data.shape()))
        throw Error(cat(cfg_path, ": the network takes ", to_string(net.input_shape()), " input but ", data.name(),
                        " holds ", to_string(data.shape()), " images"));
    if (int(net.output_shape().size()) != data.classes())
        throw Error(cat(cfg_path, ": the network has ", net.output_shape().size(), " outputs but ", data.name(), " has ",
                        data.classes(), " classes"));
}

Evaluation evaluate(Network& net, const DataSource& data) {
    Evaluation result;
    result.confusion.assign(std::size_t(data.classes()), std::vector<int>(std::size_t(data.classes()), 0));
    const int batch = net.max_batch();
    const int classes = data.classes();
    std::vector<float> images(std::size_t(batch) * data.shape().size());
    std::vector<int> labels(static_cast<std::size_t>(batch)), indices(static_cast<std::size_t>(batch));
    for (int start = 0; start < data.count(); start += batch) {
        const int n = std::min(batch, data.count() - start);
        std::iota(indices.begin(), indices.begin() + n, start);
        data.gather(indices.data(), n, images.data(), labels.data());
        const float* out = net.forward(images.data(), n, false);
        for (int i = 0; i < n; ++i) {
            const float* p = out + std::size_t(i) * classes;
            const int predicted = int(std::max_element(p, p + classes) - p);
            result.correct += predicted == labels[std::size_t(i)];
            result.confusion[std::size_t(labels[std::size_t(i)])][std::size_t(predicted)] += 1;
            result.loss -= std::log(std::max(p[labels[std::size_t(i)]], 1e-12f));
        }
        result.total += n;
    }
    if (result.total) result.loss /= result.total;
    return result;
}

}  // namespace lenet
