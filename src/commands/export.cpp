// lenet export: re-save weights packed (-binary) or as Darknet .weights, and report the sizes.
#include <cstdio>

#include "commands/args.h"
#include "commands/commands.h"
#include "io/train_state.h"
#include "net/network.h"

namespace lenet {

int run_export(const std::vector<std::string>& argv) {
    const Args args("export", argv, {{"-binary", false}});
    args.expect_positionals(3, 3, "a cfg file, a weights file and an output file");
    const std::string& cfg = args.positionals()[0];
    const std::string& in = args.positionals()[1];
    const std::string& out = args.positionals()[2];
    const bool packed = args.flag("-binary");
    BuildOptions build;
    build.threads = 1;
    build.max_batch = 1;
    auto net = Network::from_cfg_file(cfg, build);
    // `none`: the cfg's random initialization (seed from [net]), as the detector commands take it.
    const std::uint64_t seen = in == "none" ? 0 : net->load_weights(in);
    const std::size_t float_bytes = net->weights_bytes(seen, false).size();
    const std::string bytes = net->weights_bytes(seen, packed);
    net->save_weights(out, seen, packed);
    // Darknet's .weights has no place for [batchnorm] biases: they go to the .state sidecar, which
    // lenet reads beside the weights (no optimizer state in it: training from it restarts that).
    const std::vector<float> lenet_only = net->lenet_only_values();
    if (!packed && !lenet_only.empty()) {
        save_lenet_only_state(out, seen, lenet_only);
        std::printf("wrote %s: the [batchnorm] biases, which Darknet's format does not hold\n",
                    state_path_for(out).c_str());
    }

    std::size_t binary_float = 0, binary_packed = 0, binary_layers = 0;
    for (int i = 0; i < net->layer_count(); ++i) {
        const Layer::BinaryWeights b = net->layer(i).binary_weights();
        if (b.rows == 0) continue;
        ++binary_layers;
        binary_float += 4 * b.rows * b.per_row;
        binary_packed += 4 * b.rows + 8 * b.rows * ((b.per_row + 63) / 64);  // alpha + sign words
    }
    std::printf("wrote %s (%s): %zu bytes; as float .weights: %zu bytes (%.1fx smaller)\n", out.c_str(),
                packed ? "packed" : "Darknet .weights", bytes.size(), float_bytes,
                double(float_bytes) / double(bytes.size()));
    if (binary_layers > 0 && packed)
        std::printf("%zu binary layer(s): %zu bytes of float weights -> %zu bytes of alpha and sign bits (%.1fx)\n",
                    binary_layers, binary_float, binary_packed, double(binary_float) / double(binary_packed));
    else if (packed)
        std::printf("the cfg has no binary or XNOR layers: every layer is stored as float\n");
    return 0;
}

}  // namespace lenet
