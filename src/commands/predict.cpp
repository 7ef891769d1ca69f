#include <algorithm>
#include <cstdio>
#include <numeric>

#include "commands/args.h"
#include "commands/commands.h"
#include "data/image.h"
#include "net/network.h"

namespace lenet {

int run_predict(const std::vector<std::string>& argv) {
    const Args args("predict", argv, {{"-threads", true}, {"-backend", true}, {"-gpu", true}, {"-float-binary", false}, {"-top", true}, {"-invert", false}});
    args.expect_positionals(3, 1 << 20, "a cfg file, a weights file and one or more images");
    BuildOptions build;
    build.threads = int(args.integer("-threads", 1, 1, 1024));
    build.backend = backend_option(args);
    build.packed_binary = !args.flag("-float-binary");
    build.inference = true;  // forward passes only: dead activations' memory is reused
    build.max_batch = 1;
    auto net = Network::from_cfg_file(args.positionals()[0], build);
    net->load_weights(args.positionals()[1]);
    const int classes = int(net->output_shape().size());
    const int top = std::min(classes, int(args.integer("-top", 3, 1, 1 << 20)));
    for (std::size_t i = 2; i < args.positionals().size(); ++i) {
        const std::string& path = args.positionals()[i];
        const std::vector<float> input = load_image_for_network(path, net->input_shape(), args.flag("-invert"));
        const float* scores = net->forward(input.data(), 1, false);
        std::vector<int> order(static_cast<std::size_t>(classes));
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + top, order.end(),
                          [&](int a, int b) { return scores[a] > scores[b]; });
        std::printf("%s:", path.c_str());
        for (int k = 0; k < top; ++k) std::printf(" %d (%.4f)", order[std::size_t(k)], double(scores[order[std::size_t(k)]]));
        std::printf("\n");
    }
    return 0;
}

}  // namespace lenet
