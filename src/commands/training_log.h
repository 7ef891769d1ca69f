// Training logs as `lenet train -log` (and the PyTorch peer, scripts/bench_torch.py) write them:
// one JSON object per line, one per epoch, read back for `lenet plot`.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lenet {

struct EpochPoint {
    long long epoch = 0;
    double train_loss = 0;
    std::optional<double> score;  // test_accuracy (classifier) or valid_map50 (detector)
};

struct TrainingLog {
    std::string name;       // the file's stem: the run's name in a legend
    std::string score_key;  // "test_accuracy", "valid_map50", or empty when no line has a score
    std::vector<EpochPoint> points;  // by increasing epoch
};

// Lines with an "epoch" need a positive integer epoch and a finite train_loss; a score, when
// present, is a finite number. Objects without "epoch" (a run's summary line) and blank lines are
// skipped. A log appended to by several runs keeps the latest: an epoch not above the previous
// line's drops the points from that epoch on (a resumed run redoing an epoch, a fresh run).
// Errors name `source`:line and the key.
TrainingLog parse_training_log(std::string_view text, const std::string& source);
TrainingLog read_training_log(const std::string& path);

}  // namespace lenet
