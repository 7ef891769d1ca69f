// The user-visible commands. Each parses its own arguments and hands off to the library.
#pragma once
#include <string>
#include <vector>

namespace lenet {

class Args;
struct TrainConfig;

struct Command {
    const char* name;
    const char* summary;
    const char* usage;  // full help text
    int (*run)(const std::vector<std::string>& args);
};

const std::vector<Command>& commands();

int run_train(const std::vector<std::string>& args);
int run_test(const std::vector<std::string>& args);
int run_predict(const std::vector<std::string>& args);
int run_summary(const std::vector<std::string>& args);
int run_bench(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);
int run_detector(const std::vector<std::string>& args);
int run_detect(const std::vector<std::string>& args);
int run_plot(const std::vector<std::string>& args);

// The options `train` and `detector train` share (train.cpp); `test_limit_flag` names the
// evaluation split's limit (-test-limit, -valid-limit).
TrainConfig train_config_from(const Args& args, const std::string& cfg_path, const std::string& data_path,
                              const char* test_limit_flag);

// Trains, then with -plot <file> draws the run's log (plot.cpp); returns train()'s exit code.
int train_and_plot(const Args& args, TrainConfig config);
void plot_after_training(const std::string& log_path, const std::string& plot_path, const std::string& cfg_path);

}  // namespace lenet
