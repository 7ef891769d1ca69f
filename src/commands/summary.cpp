#include <cstdio>

#include "commands/args.h"
#include "commands/commands.h"
#include "net/network.h"

namespace lenet {

int run_summary(const std::vector<std::string>& argv) {
    const Args args("summary", argv, {});
    args.expect_positionals(1, 1, "a cfg file");
    BuildOptions build;
    build.threads = 1;
    build.max_batch = 1;
    build.summary_only = true;  // shapes only; sections not implemented yet show as such
    auto net = Network::from_cfg_file(args.positionals()[0], build);
    const NetOptions& o = net->options();
    std::printf("%s: input %s, batch %d (subdivisions %d), %s lr %g\n", args.positionals()[0].c_str(),
                to_string(o.input).c_str(), o.batch, o.subdivisions, o.adam ? "adam" : "sgd", double(o.learning_rate));
    std::fputs(net->summary_table().c_str(), stdout);
    return 0;
}

}  // namespace lenet
