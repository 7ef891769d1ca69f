// Running the lenet binary from CLI tests: its exit code and what it printed.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace lenet_test {

struct Run {
    int exit_code;
    std::string out, err;
};

inline std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs `lenet <arguments>` through the shell with stdout and stderr captured in files under dir;
// a run killed by a signal reads as exit code 128.
inline Run run_lenet(const std::filesystem::path& dir, const std::string& arguments) {
    const std::string command = "'" LENET_BINARY "' " + arguments + " >'" + (dir / "out.txt").string() + "' 2>'" +
                                (dir / "err.txt").string() + "'";
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, slurp(dir / "out.txt"), slurp(dir / "err.txt")};
}

}  // namespace lenet_test
