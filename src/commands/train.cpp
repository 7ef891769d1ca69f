#include <filesystem>

#include "commands/args.h"
#include "commands/commands.h"
#include "data/image_list.h"
#include "net/trainer.h"

namespace lenet {

TrainConfig train_config_from(const Args& args, const std::string& cfg_path, const std::string& data_path,
                              const char* test_limit_flag) {
    TrainConfig config;
    config.cfg_path = cfg_path;
    config.data_path = data_path;
    config.weights_path = args.value_or("-weights", "");
    // Darknet's .data names its backup folder; -backup overrides it.
    std::string data_backup;
    if (is_data_file(config.data_path)) data_backup = read_data_file(config.data_path).backup;
    config.backup_dir = args.value_or("-backup", data_backup.empty() ? "backup" : data_backup);
    config.log_path = args.value_or("-log", "");
    config.epochs = int(args.integer("-epochs", 0, 1, 1 << 20));
    config.threads = int(args.integer("-threads", 0, 1, 1024));
    config.backend = backend_option(args);
    if (args.value("-seed")) config.seed = std::uint64_t(args.integer("-seed", 1, 0, 2147483647));
    config.train_limit = int(args.integer("-train-limit", 0, 1, 1 << 30));
    config.test_limit = int(args.integer(test_limit_flag, 0, 1, 1 << 30));
    config.clear = args.flag("-clear");
    config.resume = args.flag("-resume");
    return config;
}

int train_and_plot(const Args& args, TrainConfig config) {
    const auto plot = args.value("-plot");
    // The picture is drawn from the log: without -log, the log goes beside it (curves.png: curves.jsonl).
    if (plot && config.log_path.empty())
        config.log_path = std::filesystem::path(*plot).replace_extension(".jsonl").string();
    const int code = train(config);
    if (plot && code == 0) plot_after_training(config.log_path, *plot, config.cfg_path);
    return code;
}

int run_train(const std::vector<std::string>& argv) {
    const Args args("train", argv,
                    {{"-weights", true}, {"-epochs", true}, {"-threads", true}, {"-seed", true}, {"-log", true},
                     {"-backup", true}, {"-backend", true}, {"-gpu", true}, {"-train-limit", true}, {"-test-limit", true},
                     {"-clear", false}, {"-resume", false}, {"-plot", true}});
    args.expect_positionals(2, 2, "a cfg file and data (an MNIST directory or a .data file)");
    const TrainConfig config = train_config_from(args, args.positionals()[0], args.positionals()[1], "-test-limit");
    return train_and_plot(args, config);
}

}  // namespace lenet
