// Built without OpenCV (-DLENET_OPENCV=OFF): the commands that read images or video are listed
// (so `lenet help` still names them) but say why they cannot run.
#include <cstdio>

#include "commands/commands.h"

namespace lenet {

namespace {
int no_opencv(const char* command) {
    std::fprintf(stderr, "lenet %s: not available: lenet was built without OpenCV (LENET_OPENCV=OFF)\n", command);
    return 1;
}
}  // namespace

int run_detect(const std::vector<std::string>&) { return no_opencv("detect"); }
int run_detector(const std::vector<std::string>&) { return no_opencv("detector"); }

}  // namespace lenet
