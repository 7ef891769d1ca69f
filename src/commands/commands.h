// The user-visible commands. Each parses its own arguments and hands off to the library.
#pragma once
#include <string>
#include <vector>

namespace lenet {

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

}  // namespace lenet
