#include <cstdio>
#include <string>

#include "commands/args.h"
#include "commands/commands.h"
#include "commands/training_plot.h"
#include "core/error.h"

namespace lenet {

int run_plot(const std::vector<std::string>& argv) {
    const Args args("plot", argv, {{"-o", true}, {"-title", true}, {"-width", true}, {"-height", true}});
    args.expect_positionals(1, 64, "one or more training logs (.jsonl)");
    const auto out = args.value("-o");
    if (!out) throw Error("lenet plot: -o <file.png> is required (see: lenet help plot)");
    PlotOptions options;
    options.title = args.value_or("-title", options.title);
    options.width = int(args.integer("-width", options.width, 400, 8000));
    options.height = int(args.integer("-height", options.height, 300, 8000));
    std::vector<TrainingLog> runs;
    for (const std::string& path : args.positionals()) runs.push_back(read_training_log(path));
    write_training_plot(runs, options, *out);
    std::printf("wrote %s (%dx%d, %zu run%s)\n", out->c_str(), options.width, options.height, runs.size(),
                runs.size() == 1 ? "" : "s");
    return 0;
}

// `-plot <file>` on the training commands: the curves of this run's log, drawn at the end.
void plot_after_training(const std::string& log_path, const std::string& plot_path, const std::string& cfg_path) {
    PlotOptions options;
    options.title = cat("training curves: ", cfg_path);
    write_training_plot({read_training_log(log_path)}, options, plot_path);
    std::printf("wrote %s\n", plot_path.c_str());
}

}  // namespace lenet
