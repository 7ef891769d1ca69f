// Built without OpenCV (-DLENET_OPENCV=OFF): no PNG writer, so `lenet plot` and `-plot` say so;
// the logs themselves are still written and read.
#include "commands/training_plot.h"
#include "core/error.h"

namespace lenet {

void write_training_plot(const std::vector<TrainingLog>&, const PlotOptions&, const std::string& path) {
    throw Error(cat(path, ": cannot draw training curves: lenet was built without OpenCV (LENET_OPENCV=OFF)"));
}

}  // namespace lenet
