// lenet: one binary, one command per first argument.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "commands/commands.h"
#include "core/error.h"

namespace {

void print_usage() {
    std::printf("lenet: train and run small convolutional networks from Darknet-style cfg files\n\n"
                "usage: lenet <command> [arguments]\n\ncommands:\n");
    for (const auto& command : lenet::commands()) std::printf("  %-10s %s\n", command.name, command.summary);
    std::printf("  %-10s %s\n\nRun 'lenet help <command>' for a command's arguments and an example.\n", "help",
                "print this, or one command's usage");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        print_usage();
        return 1;
    }
    const std::string name = argv[1];
    if (name == "help" || name == "-h" || name == "--help") {
        if (argc < 3) {
            print_usage();
            return 0;
        }
        for (const auto& command : lenet::commands())
            if (command.name == std::string(argv[2])) {
                std::fputs(command.usage, stdout);
                return 0;
            }
        std::fprintf(stderr, "lenet: unknown command '%s'\n", argv[2]);
        return 1;
    }
    for (const auto& command : lenet::commands()) {
        if (command.name != name) continue;
        try {
            return command.run(std::vector<std::string>(argv + 2, argv + argc));
        } catch (const lenet::Error& e) {
            std::fprintf(stderr, "lenet: error: %s\n", e.what());
        } catch (const std::bad_alloc&) {
            std::fprintf(stderr, "lenet: error: out of memory\n");
        } catch (const std::exception& e) {
            std::fprintf(stderr, "lenet: error: %s\n", e.what());
        }
        return 1;
    }
    std::fprintf(stderr, "lenet: unknown command '%s'\n\n", name.c_str());
    print_usage();
    return 1;
}
