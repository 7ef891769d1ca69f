// Training: epochs of shuffled batches, the loss of the network's output layer(s) (a classifier's
// [softmax] cross-entropy), the cfg's optimizer and learning-rate policy, a checkpoint after every
// epoch, on Ctrl-C/SIGTERM, and at the end.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "kernels/backend.h"

namespace lenet {

struct TrainConfig {
    std::string cfg_path;
    std::string data_path;  // an MNIST IDX directory or a Darknet .data file (data/source.h)
    std::string weights_path;  // start from these weights (and their .state, if present)
    std::string backup_dir = "backup";
    std::string log_path;  // one JSON line per epoch
    int epochs = 0;        // 0: the cfg's epochs= or max_batches=
    int threads = 0;
    Backend backend = best_backend();
    std::optional<std::uint64_t> seed;
    int train_limit = 0, test_limit = 0;  // 0: whole split
    bool clear = false;                   // ignore the weights' seen count and state
    bool resume = false;                  // continue from backup/<name>_last.weights if present
    // A detector (`lenet detector train`): data_path is a Darknet detection .data file (train= and
    // valid= lists with YOLO label files); each epoch is scored by mAP@0.5 on valid=, and the best
    // so far in this run (resumes from the same backup folder included: the .state keeps the best
    // mAP) is saved as <cfg stem>_best.weights.
    bool detection = false;
    bool skip_bad_labels = false;
};

// Returns the process exit code (0 also when stopped by a signal after saving).
int train(const TrainConfig& config);

// Name of the per-epoch and final checkpoints for a cfg: backup/<cfg stem>_last.weights, ...
std::string checkpoint_path(const TrainConfig& config, const std::string& suffix);

}  // namespace lenet
