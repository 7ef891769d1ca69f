#include <cstdio>

#include "commands/args.h"
#include "commands/commands.h"
#include "data/source.h"
#include "net/evaluate.h"
#include "net/network.h"

#include <chrono>

namespace lenet {

int run_test(const std::vector<std::string>& argv) {
    const Args args("test", argv, {{"-threads", true}, {"-backend", true}, {"-gpu", true}, {"-float-binary", false}, {"-batch", true}, {"-limit", true}});
    args.expect_positionals(3, 3, "a cfg file, a weights file and data (an MNIST directory or a .data file)");
    const std::string& cfg = args.positionals()[0];
    BuildOptions build;
    build.threads = int(args.integer("-threads", 0, 1, 1024));
    build.backend = backend_option(args);
    build.packed_binary = !args.flag("-float-binary");
    build.inference = true;  // forward passes only: dead activations' memory is reused
    build.max_batch = int(args.integer("-batch", 0, 1, 1 << 16));
    auto net = Network::from_cfg_file(cfg, build);
    net->load_weights(args.positionals()[1]);
    const auto source = open_data(args.positionals()[2], "test", net->input_shape(), int(args.integer("-limit", 0, 1, 1 << 30)));
    const DataSource& data = *source;
    check_network_fits(*net, cfg, data);

    const auto start = std::chrono::steady_clock::now();
    const Evaluation eval = evaluate(*net, data);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::printf("accuracy: %.4f (%d/%d)\nloss: %.4f\nimages/s: %.0f (batch %d, %d threads, %s)\n", eval.accuracy(),
                eval.correct, eval.total, eval.loss, eval.total / seconds, net->max_batch(), net->pool().size(),
                backend_name(net->compute().ops));
    std::printf("\nper-class accuracy:\n");
    for (std::size_t k = 0; k < eval.confusion.size(); ++k) {
        int count = 0;
        for (int n : eval.confusion[k]) count += n;
        std::printf("  %2zu: %.4f (%d/%d)%s%s\n", k, count ? double(eval.confusion[k][k]) / count : 0.0, eval.confusion[k][k],
                    count, data.class_names().empty() ? "" : " ", data.class_names().empty() ? "" : data.class_names()[k].c_str());
    }
    std::printf("\nconfusion matrix (rows: truth, columns: predicted):\n     ");
    for (std::size_t k = 0; k < eval.confusion.size(); ++k) std::printf("%6zu", k);
    std::printf("\n");
    for (std::size_t k = 0; k < eval.confusion.size(); ++k) {
        std::printf("  %2zu:", k);
        for (int n : eval.confusion[k]) std::printf("%6d", n);
        std::printf("\n");
    }
    return 0;
}

}  // namespace lenet
