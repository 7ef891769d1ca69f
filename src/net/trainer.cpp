// The training loop, in the order a run goes through it:
//   Trainer()          build the network, open the data, plan the updates
//   resume()           start from -weights / -resume: position, seed and optimizer state
//   prepare_outputs()  the backup folder and the JSON log
//   run()              the epoch loop: step() per batch, end_epoch() after each epoch, stop on a signal
//   step()             one batch: per minibatch forward, loss at the output layers, backward; the
//                      optimizer updates each layer as soon as the last minibatch's gradients are final
//   end_epoch()        evaluate, print, log, checkpoint
#include "net/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>

#include "core/stop_signals.h"
#include "data/detection_source.h"
#include "data/prefetcher.h"
#include "data/source.h"
#include "io/train_state.h"
#include "layers/yolo.h"
#include "net/evaluate.h"
#include "net/network.h"
#include "net/optimizer.h"

namespace lenet {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string format_duration(double seconds) {
    const long s = std::lround(std::max(0.0, seconds));
    char text[32];
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
    return text;
}

// The key under which an epoch's training images are augmented (DataSource::gather_train): like the
// order, a function of the seed and the epoch only.
std::uint64_t augmentation_key(std::uint64_t seed, long long epoch) {
    return Rng(seed * 0xD1B54A32D192ED03ull + std::uint64_t(epoch) + 1).next();
}

// Darknet's detector augmentation from a cfg: [net] hue, saturation, exposure, flip, and the last
// [yolo]'s jitter (Darknet's train_detector reads the last layer's).
Augmentation detector_augmentation(Network& net) {
    const NetOptions& o = net.options();
    Augmentation a;
    a.hue = o.hue;
    a.saturation = o.saturation;
    a.exposure = o.exposure;
    a.flip = o.flip;
    for (int i = 0; i < net.layer_count(); ++i)
        if (const YoloLayer* yolo = as_yolo(net.layer(i))) a.jitter = yolo->jitter();
    return a;
}

// The order of the training images in one epoch: a function of the seed and the epoch only, so a
// run resumed mid-epoch sees the same batches.
std::vector<int> epoch_order(int count, std::uint64_t seed, long long epoch) {
    std::vector<int> order(static_cast<std::size_t>(count));
    std::iota(order.begin(), order.end(), 0);
    Rng rng(seed * 0x9E3779B97F4A7C15ull + std::uint64_t(epoch) + 1);
    rng.shuffle(order.begin(), order.end());
    return order;
}

class Progress {
public:
    explicit Progress(bool terminal) : terminal_(terminal) {}
    void update(long long epoch, long long epochs, long long batch, long long batches, float loss, double rate,
                double eta) {
        const auto now = Clock::now();
        const bool last = batch == batches;
        if (terminal_) {
            if (!last && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
            std::fprintf(stderr, "\repoch %lld/%lld  batch %lld/%lld  loss %.4f  %.0f images/s  ETA %s   ", epoch, epochs,
                         batch, batches, double(loss), rate, format_duration(eta).c_str());
            if (last) std::fprintf(stderr, "\r%100s\r", "");
            std::fflush(stderr);
        } else if (batch % 100 == 0 && !last) {
            std::fprintf(stderr, "epoch %lld/%lld batch %lld/%lld loss %.4f %.0f images/s ETA %s\n", epoch, epochs, batch,
                         batches, double(loss), rate, format_duration(eta).c_str());
        }
        last_draw_ = now;
    }

private:
    bool terminal_;
    Clock::time_point last_draw_{};
};

// How many updates of how many images: batch = minibatch x subdivisions, epochs of whole batches
// (the last one of an epoch may be short).
struct Plan {
    int batch = 0, minibatch = 0, images = 0;
    long long batches_per_epoch = 0, total_updates = 0, total_epochs = 0;

    long long epoch_of(long long update) const { return update / batches_per_epoch; }
    int first_image(long long update) const { return int((update % batches_per_epoch) * batch); }
    int images_in(long long update) const { return std::min(batch, images - first_image(update)); }
};

Plan plan_updates(const TrainConfig& config, const NetOptions& options, int images) {
    Plan plan;
    plan.batch = options.batch;
    plan.minibatch = options.minibatch();
    plan.images = images;
    plan.batches_per_epoch = (images + plan.batch - 1) / plan.batch;
    if (config.epochs > 0) plan.total_updates = config.epochs * plan.batches_per_epoch;
    else if (options.epochs > 0) plan.total_updates = options.epochs * plan.batches_per_epoch;
    else if (options.max_batches > 0) plan.total_updates = options.max_batches;
    else throw Error(cat(config.cfg_path, ": [net] needs epochs= or max_batches= (or pass -epochs)"));
    plan.total_epochs = (plan.total_updates + plan.batches_per_epoch - 1) / plan.batches_per_epoch;
    return plan;
}

// Feeds the prefetcher minibatch after minibatch in the shuffled order of each epoch. The next
// minibatch is gathered on a background thread while this one trains; at an epoch's end that needs
// the next epoch's order early.
class BatchFeed {
public:
    BatchFeed(const DataSource& data, const Plan& plan, std::uint64_t seed, long long epoch)
        : data_(data), plan_(plan), seed_(seed), epoch_(epoch), order_(epoch_order(data.count(), seed, epoch)),
          prefetcher_(data, plan.minibatch) {}

    // Starts the minibatch at `offset` of update `u` (if it exists).
    void prefetch(long long u, int offset) {
        if (u >= plan_.total_updates) return;
        const long long u_epoch = plan_.epoch_of(u);
        const int u_first = plan_.first_image(u);
        const int n = std::min(plan_.minibatch, plan_.images_in(u) - offset);
        if (u_epoch != epoch_ && next_order_.empty()) next_order_ = epoch_order(data_.count(), seed_, u_epoch);
        const std::vector<int>& u_order = u_epoch == epoch_ ? order_ : next_order_;
        prefetcher_.start(u_order.data() + u_first + offset, n, augmentation_key(seed_, u_epoch));
    }
    const Prefetcher::Batch& take() { return prefetcher_.take(); }
    // Moves on to the next epoch's order.
    void next_epoch() {
        ++epoch_;
        if (next_order_.empty()) next_order_ = epoch_order(data_.count(), seed_, epoch_);
        order_ = std::move(next_order_);
        next_order_.clear();
    }

private:
    const DataSource& data_;
    const Plan& plan_;
    std::uint64_t seed_;
    long long epoch_;
    std::vector<int> order_, next_order_;
    Prefetcher prefetcher_;
};

class Trainer {
public:
    explicit Trainer(const TrainConfig& config);
    int run();

private:
    bool resume();
    void restore_best_map(const std::string& start_weights, const std::optional<TrainState>& state);
    void prepare_outputs();
    float step(BatchFeed& feed);
    void end_epoch();
    void end_detector_epoch(Clock::time_point epoch_start, Clock::time_point eval_start, double train_loss);
    void save_checkpoint(const std::string& path);

    const TrainConfig& config_;
    std::unique_ptr<Network> net_;
    std::unique_ptr<DataSource> train_set_, test_set_;
    std::vector<int> loss_layers_;  // the output layers whose losses train the network
    Plan plan_;
    std::unique_ptr<Optimizer> optimizer_;
    Network::LayerDone update_layer_;
    std::ofstream log_;

    std::uint64_t seen_ = 0;  // images trained on, earlier runs included
    long long update_ = 0, epoch_ = 0;
    // This run's figures.
    double train_seconds_ = 0, last_accuracy_ = -1;  // a detector's: mAP@0.5
    double best_map_ = -1;  // the run's best valid mAP@0.5, resumed runs included (-1: none yet)
    std::uint64_t trained_images_ = 0;
    // The current epoch's.
    Clock::time_point epoch_start_;
    double epoch_loss_ = 0;
    long long epoch_images_ = 0;
};

BuildOptions training_build(const TrainConfig& config) {
    BuildOptions build;
    build.threads = config.threads;
    build.backend = config.backend;
    return build;
}

Trainer::Trainer(const TrainConfig& config) : config_(config) {
    net_ = Network::from_cfg_file(config.cfg_path, training_build(config));
    NetOptions& options = net_->options();
    // Every output layer with a loss trains the network (a detector's [yolo] heads).
    for (int index : net_->output_layers())
        if (net_->layer(index).has_loss()) loss_layers_.push_back(index);
    if (loss_layers_.empty())
        throw Error(cat(config.cfg_path, ": training needs an output layer with a loss (a classifier ending in [softmax], a detector's [yolo])"));
    if (config.seed) {
        options.seed = *config.seed;
        net_->init_weights(options.seed);
    }
    if (config.detection) {
        if (options.angle != 0)
            warn_once(cat(config.cfg_path, ": [net] angle applies to classifier training only (Darknet's detector "
                                           "does not rotate either); lenet detector train ignores it"));
        train_set_ = open_detection_data(config.data_path, "train", net_->input_shape(), config.train_limit,
                                         config.skip_bad_labels, detector_augmentation(*net_));
        test_set_ = open_detection_data(config.data_path, "valid", net_->input_shape(), config.test_limit,
                                        config.skip_bad_labels);
    } else {
        if (options.hue != 0 || options.saturation != 1 || options.exposure != 1 || options.flip)
            warn_once(cat(config.cfg_path, ": [net] hue, saturation, exposure and flip apply to detector training only; "
                                           "lenet train ignores them"));
        train_set_ = open_data(config.data_path, "train", net_->input_shape(), config.train_limit, options.angle);
        test_set_ = open_data(config.data_path, "test", net_->input_shape(), config.test_limit);
    }
    check_network_fits(*net_, config.cfg_path, *train_set_);
    check_network_fits(*net_, config.cfg_path, *test_set_);
    plan_ = plan_updates(config, options, train_set_->count());
    optimizer_ = std::make_unique<Optimizer>(options, net_->params(), net_->compute().ops);
    update_layer_ = [this](std::size_t first, std::size_t count) {
        optimizer_->update_arrays(first, count, &net_->pool());
    };
}

// Returns false when the weights already went through every update.
bool Trainer::resume() {
    NetOptions& options = net_->options();
    std::string start_weights = config_.weights_path;
    if (config_.resume && start_weights.empty() && std::filesystem::exists(checkpoint_path(config_, "last")))
        start_weights = checkpoint_path(config_, "last");
    if (!start_weights.empty()) {
        seen_ = net_->load_weights(start_weights);
        std::optional<TrainState> state = load_train_state(state_path_for(start_weights));
        if (config_.clear) {
            seen_ = 0;
        } else if (state && state->seen == seen_ && state->adam == options.adam &&
                   optimizer_->set_state(state->updates, state->moments)) {
            update_ = (long long)state->updates;
            train_seconds_ = state->train_seconds;
            if (!config_.seed) options.seed = state->seed;
            std::cout << "resuming from " << start_weights << ": " << seen_ << " images seen, update " << update_
                      << " (optimizer state restored)\n";
        } else {
            update_ = (long long)(seen_ / std::uint64_t(plan_.batch));
            std::cout << "continuing from " << start_weights << ": " << seen_ << " images seen, update " << update_
                      << (state ? " (its .state does not match: optimizer restarts)" : " (no .state: optimizer restarts)")
                      << "\n";
        }
        if (config_.detection && !config_.clear) restore_best_map(start_weights, state);
    }
    if (update_ >= plan_.total_updates) {
        std::cout << "nothing to do: " << update_ << " of " << plan_.total_updates << " updates already done\n";
        return false;
    }
    epoch_ = plan_.epoch_of(update_);
    return true;
}

// A detector run that continues from its own backup folder keeps its best mAP@0.5, so that
// <cfg>_best.weights is replaced only by a better epoch: from the checkpoint's .state, or, where
// that records none (a .state older than version 3, or one that does not match), by scoring
// <cfg>_best.weights again, on a network built as this one.
void Trainer::restore_best_map(const std::string& start_weights, const std::optional<TrainState>& state) {
    namespace fs = std::filesystem;
    const std::string best = checkpoint_path(config_, "best");
    fs::path folder = fs::path(start_weights).parent_path();
    if (folder.empty()) folder = ".";
    std::error_code ec;
    if (!fs::exists(best) || !fs::equivalent(folder, config_.backup_dir, ec)) return;
    if (state && state->seen == seen_ && std::isfinite(state->best_map) && state->best_map >= 0) {
        best_map_ = state->best_map;
        std::printf("best valid mAP@0.5 so far: %.4f (%s)\n", best_map_, best.c_str());
        return;
    }
    auto scorer = Network::from_cfg_file(config_.cfg_path, training_build(config_));
    scorer->load_weights(best);
    best_map_ = evaluate_detections(*scorer, *test_set_).map50.map;
    std::printf("best valid mAP@0.5 so far: %.4f (%s, scored again: no mAP recorded in %s)\n", best_map_, best.c_str(),
                state_path_for(start_weights).c_str());
}

void Trainer::prepare_outputs() {
    std::filesystem::create_directories(config_.backup_dir);
    // A run killed mid-write leaves its temporary file behind (the checkpoint itself is intact).
    const std::string stem = std::filesystem::path(config_.cfg_path).stem().string() + "_";
    for (const auto& entry : std::filesystem::directory_iterator(config_.backup_dir)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(stem, 0) == 0 && name.find(".tmp.") != std::string::npos) std::filesystem::remove(entry.path());
    }
    if (!config_.log_path.empty()) {
        log_.open(config_.log_path, std::ios::app);
        if (!log_) throw Error(cat(config_.log_path, ": cannot open the log file for writing"));
    }
}

void Trainer::save_checkpoint(const std::string& path) {
    // State first: a crash between the two leaves a state whose seen does not match, which loading
    // detects, never a newer .weights with an older, accepted state.
    const NetOptions& options = net_->options();
    save_train_state(state_path_for(path), {seen_, std::uint64_t(update_), options.seed, options.adam,
                                            optimizer_->state(), net_->lenet_only_values(), best_map_, train_seconds_});
    net_->save_weights(path, seen_);
}

// One update: the batch's minibatches forward, their losses, backward; returns the summed loss.
float Trainer::step(BatchFeed& feed) {
    const int batch_images = plan_.images_in(update_);
    const float inverse_batch = 1.0f / float(batch_images);
    float batch_loss = 0;
    optimizer_->begin_step(learning_rate_at(net_->options(), update_, plan_.total_updates));
    for (int offset = 0; offset < batch_images; offset += plan_.minibatch) {
        const Prefetcher::Batch& minibatch = feed.take();
        const bool last = offset + plan_.minibatch >= batch_images;
        if (!last) feed.prefetch(update_, offset + plan_.minibatch);
        else feed.prefetch(update_ + 1, 0);
        const Truth truth = minibatch.truth();
        net_->forward(minibatch.images.data(), minibatch.n, true);
        for (int index : loss_layers_)
            batch_loss += net_->layer(index).loss(
                {net_->output(index), net_->output_grad(index), minibatch.n, truth, inverse_batch, net_->compute()});
        // The last minibatch's backward updates each layer as soon as its gradients are final.
        net_->backward(minibatch.images.data(), minibatch.n, nullptr, last ? &update_layer_ : nullptr);
    }
    return batch_loss;
}

void Trainer::end_epoch() {
    const NetOptions& options = net_->options();
    const double epoch_elapsed = seconds_since(epoch_start_);  // training only: evaluation starts now
    const auto eval_start = Clock::now();
    const double train_loss = epoch_loss_ / double(std::max<long long>(epoch_images_, 1));
    if (config_.detection) {
        end_detector_epoch(epoch_start_, eval_start, train_loss);
        return;
    }
    const Evaluation eval = evaluate(*net_, *test_set_);
    const double eval_seconds = seconds_since(eval_start);
    last_accuracy_ = eval.accuracy();
    const double rate = double(epoch_images_) / std::max(epoch_elapsed, 1e-9);
    std::printf("epoch %lld/%lld: train loss %.4f, test accuracy %.4f (%d/%d), %.2f s, %.0f images/s\n", epoch_ + 1,
                plan_.total_epochs, train_loss, last_accuracy_, eval.correct, eval.total, epoch_elapsed,
                rate);
    std::fflush(stdout);
    if (log_) {
        char line[512];
        std::snprintf(line, sizeof line,
                      "{\"epoch\":%lld,\"updates\":%lld,\"seen\":%llu,\"learning_rate\":%g,\"train_loss\":%.6f,"
                      "\"test_accuracy\":%.6f,\"test_loss\":%.6f,\"epoch_seconds\":%.4f,\"elapsed_seconds\":%.4f,"
                      "\"eval_seconds\":%.4f,\"images_per_second\":%.1f}\n",
                      epoch_ + 1, update_, (unsigned long long)seen_,
                      double(learning_rate_at(options, update_, plan_.total_updates)), train_loss, last_accuracy_,
                      eval.loss, epoch_elapsed, train_seconds_, eval_seconds, rate);
        log_ << line << std::flush;
    }
    save_checkpoint(checkpoint_path(config_, "last"));
}

// A detector's epoch: mAP@0.5 (and COCO's mAP@0.5:0.95) on the valid= list, the best kept.
void Trainer::end_detector_epoch(Clock::time_point epoch_start, Clock::time_point eval_start, double train_loss) {
    const NetOptions& options = net_->options();
    const double epoch_elapsed = std::chrono::duration<double>(eval_start - epoch_start).count();
    const DetectionEvaluation eval = evaluate_detections(*net_, *test_set_);
    const double eval_seconds = seconds_since(eval_start);
    last_accuracy_ = eval.map50.map;
    const double rate = double(epoch_images_) / std::max(epoch_elapsed, 1e-9);
    const bool best = eval.map50.map > best_map_;
    std::printf("epoch %lld/%lld: train loss %.4f, valid mAP@0.5 %.4f, mAP@0.5:0.95 %.4f (%d images)%s, %.2f s, %.0f images/s\n",
                epoch_ + 1, plan_.total_epochs, train_loss, eval.map50.map, eval.coco.map50_95, eval.images,
                best ? ", best" : "", epoch_elapsed, rate);
    std::fflush(stdout);
    if (log_) {
        char line[512];
        std::snprintf(line, sizeof line,
                      "{\"epoch\":%lld,\"updates\":%lld,\"seen\":%llu,\"learning_rate\":%g,\"train_loss\":%.6f,"
                      "\"valid_map50\":%.6f,\"valid_map50_95\":%.6f,\"epoch_seconds\":%.4f,\"elapsed_seconds\":%.4f,"
                      "\"eval_seconds\":%.4f,\"images_per_second\":%.1f}\n",
                      epoch_ + 1, update_, (unsigned long long)seen_,
                      double(learning_rate_at(options, update_, plan_.total_updates)), train_loss, eval.map50.map,
                      eval.coco.map50_95, epoch_elapsed, train_seconds_, eval_seconds, rate);
        log_ << line << std::flush;
    }
    // The best weights before the checkpoint whose .state records their mAP: a crash between the
    // two leaves the previous checkpoint and its best mAP, so the resumed run redoes this epoch and
    // saves these weights again (the other order could record a best that was never written).
    if (best) {
        best_map_ = eval.map50.map;
        const std::string path = checkpoint_path(config_, "best");
        net_->save_weights(path, seen_);
        save_lenet_only_state(path, seen_, net_->lenet_only_values());  // [batchnorm] biases
    }
    save_checkpoint(checkpoint_path(config_, "last"));
}

int Trainer::run() {
    if (!resume()) return 0;
    prepare_outputs();

    std::cout << net_->summary_table();
    std::cout << "training " << config_.cfg_path << " on " << train_set_->count() << " images (" << test_set_->count()
              << " test) for " << plan_.total_epochs << " epochs, " << plan_.total_updates << " updates of batch "
              << plan_.batch << ", backend " << backend_name(net_->compute().ops) << ", " << net_->pool().size()
              << " threads\n";
    std::cout.flush();

    Progress progress(::isatty(STDERR_FILENO) != 0);
    BatchFeed feed(*train_set_, plan_, net_->options().seed, epoch_);
    feed.prefetch(update_, 0);
    epoch_start_ = Clock::now();
    while (update_ < plan_.total_updates) {
        const auto step_start = Clock::now();
        const long long done_in_epoch = update_ % plan_.batches_per_epoch + 1;
        const int batch_images = plan_.images_in(update_);
        const float batch_loss = step(feed);
        ++update_;
        seen_ += std::uint64_t(batch_images);
        trained_images_ += std::uint64_t(batch_images);
        epoch_loss_ += batch_loss;
        epoch_images_ += batch_images;
        train_seconds_ += seconds_since(step_start);
        if (!std::isfinite(batch_loss))
            throw Error(cat("training diverged at update ", update_, " (loss is ", batch_loss,
                            "): lower learning_rate in ", config_.cfg_path));

        const double rate = double(epoch_images_) / std::max(seconds_since(epoch_start_), 1e-9);
        const double eta = double((plan_.total_updates - update_) * plan_.batch) / std::max(rate, 1e-9);
        progress.update(epoch_ + 1, plan_.total_epochs, done_in_epoch, plan_.batches_per_epoch,
                        batch_loss / float(batch_images), rate, eta);

        if (done_in_epoch == plan_.batches_per_epoch || update_ == plan_.total_updates) {
            end_epoch();
            ++epoch_;
            if (update_ < plan_.total_updates) feed.next_epoch();
            epoch_start_ = Clock::now();
            epoch_loss_ = 0;
            epoch_images_ = 0;
        }
        if (StopOnSignals::received()) {
            const std::string path = checkpoint_path(config_, "last");
            save_checkpoint(path);
            std::fprintf(stderr, "\nlenet: %s received: saved %s after %lld updates (%llu images); rerun with -resume to continue\n",
                         StopOnSignals::received() == SIGINT ? "interrupt" : "terminate signal", path.c_str(), update_,
                         (unsigned long long)seen_);
            return 0;
        }
    }
    const std::string final_path = checkpoint_path(config_, "final");
    save_checkpoint(final_path);
    std::printf("done: %lld updates in %.2f s of training (%.0f images/s), %s %.4f; weights: %s\n", update_,
                train_seconds_, double(trained_images_) / std::max(train_seconds_, 1e-9),
                config_.detection ? "valid mAP@0.5" : "test accuracy", last_accuracy_, final_path.c_str());
    return 0;
}

}  // namespace

std::string checkpoint_path(const TrainConfig& config, const std::string& suffix) {
    const std::string stem = std::filesystem::path(config.cfg_path).stem().string();
    return (std::filesystem::path(config.backup_dir) / (stem + "_" + suffix + ".weights")).string();
}

int train(const TrainConfig& config) {
    // Before the data loads, so that a signal at any point still ends with a checkpoint.
    const StopOnSignals stop_on_signals;
    Trainer trainer(config);
    return trainer.run();
}

}  // namespace lenet
