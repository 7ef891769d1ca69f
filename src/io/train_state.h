// The training state kept beside a checkpoint's .weights (same name + ".state"): where training
// stood and the optimizer's moments, so a resumed run continues exactly. Written atomically, with a
// CRC-32 over the contents; a state whose `seen` differs from its .weights is not used.
//   "LNTS", u32 version (3), u64 seen, u64 updates, u64 seed, u32 adam, u64 n, n x f32 moments,
//   u64 m, m x f32 lenet-only layer arrays ([batchnorm] biases, which .weights cannot hold),
//   f64 best mAP@0.5 of the run so far (a detector's; -1: none), f64 training seconds so far
//   (the log's elapsed_seconds, so a resumed run's clock continues), u32 crc
// Versions 1 (ends after the moments), 2 (ends after the lenet-only arrays) and 3 (ends after the
// best mAP) are still read, with no best mAP or no training seconds.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lenet {

struct TrainState {
    std::uint64_t seen = 0;
    std::uint64_t updates = 0;  // optimizer steps taken (= batches trained)
    std::uint64_t seed = 0;
    bool adam = false;
    std::vector<float> moments;
    std::vector<float> lenet_only;  // Network::lenet_only_values()
    // A detector run's best validation mAP@0.5 so far, the one its <cfg>_best.weights scored; -1
    // when there is none (a classifier, no epoch evaluated yet, or a file older than version 3).
    double best_map = -1;
    // Seconds spent training (evaluation excluded) up to this checkpoint; 0 in files older than
    // version 4.
    double train_seconds = 0;
};

std::string state_path_for(const std::string& weights_path);
void save_train_state(const std::string& path, const TrainState& state);
// Beside `weights_path`, a state holding only the lenet-only layer values (no optimizer state: a
// training run from it restarts the optimizer); nothing when there are none.
void save_lenet_only_state(const std::string& weights_path, std::uint64_t seen, const std::vector<float>& values);
// Empty if the file does not exist; throws Error (file and offset) if it exists but is damaged.
std::optional<TrainState> load_train_state(const std::string& path);

}  // namespace lenet
