// Training curves as a picture: train loss and the test score (accuracy or mAP@0.5) per epoch,
// one line per run, for `lenet plot` and `-plot` on `lenet train` / `lenet detector train`.
#pragma once
#include <string>
#include <vector>

#include "commands/training_log.h"

namespace lenet {

struct PlotOptions {
    std::string title = "training curves";
    int width = 1200, height = 500;
};

// Writes the picture to `path` (PNG, or any format OpenCV's imwrite knows by the extension).
void write_training_plot(const std::vector<TrainingLog>& runs, const PlotOptions& options, const std::string& path);

}  // namespace lenet
