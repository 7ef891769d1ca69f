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

#include "data/dataset.h"
#include "data/prefetcher.h"
#include "io/train_state.h"
#include "net/evaluate.h"
#include "net/network.h"
#include "net/optimizer.h"

namespace lenet {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void request_stop(int signal) { g_stop_signal = signal; }

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string format_duration(double seconds) {
    const long s = std::lround(std::max(0.0, seconds));
    char text[32];
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
    return text;
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

}  // namespace

std::string checkpoint_path(const TrainConfig& config, const std::string& suffix) {
    const std::string stem = std::filesystem::path(config.cfg_path).stem().string();
    return (std::filesystem::path(config.backup_dir) / (stem + "_" + suffix + ".weights")).string();
}

int train(const TrainConfig& config) {
    BuildOptions build;
    build.threads = config.threads;
    build.backend = config.backend;
    auto net = Network::from_cfg_file(config.cfg_path, build);
    NetOptions& options = net->options();
    if (!net->ends_in_softmax())
        throw Error(cat(config.cfg_path, ": training needs a classifier whose last layer is [softmax]"));
    if (config.seed) {
        options.seed = *config.seed;
        net->init_weights(options.seed);
    }

    const Dataset train_set = load_mnist(config.data_dir, "train", config.train_limit);
    const Dataset test_set = load_mnist(config.data_dir, "test", config.test_limit);
    check_network_fits(*net, config.cfg_path, train_set);

    const int batch = options.batch, minibatch = options.minibatch();
    const long long batches_per_epoch = (train_set.count() + batch - 1) / batch;
    long long total_updates = 0;
    if (config.epochs > 0) total_updates = config.epochs * batches_per_epoch;
    else if (options.epochs > 0) total_updates = options.epochs * batches_per_epoch;
    else if (options.max_batches > 0) total_updates = options.max_batches;
    else throw Error(cat(config.cfg_path, ": [net] needs epochs= or max_batches= (or pass -epochs)"));
    const long long total_epochs = (total_updates + batches_per_epoch - 1) / batches_per_epoch;

    Optimizer optimizer(options, net->params(), net->compute().ops);
    std::uint64_t seen = 0;
    long long update = 0;
    std::string start_weights = config.weights_path;
    if (config.resume && start_weights.empty() && std::filesystem::exists(checkpoint_path(config, "last")))
        start_weights = checkpoint_path(config, "last");
    if (!start_weights.empty()) {
        seen = net->load_weights(start_weights);
        std::optional<TrainState> state = load_train_state(state_path_for(start_weights));
        if (config.clear) {
            seen = 0;
        } else if (state && state->seen == seen && state->adam == options.adam &&
                   optimizer.set_state(state->updates, state->moments)) {
            update = (long long)state->updates;
            if (!config.seed) options.seed = state->seed;
            std::cout << "resuming from " << start_weights << ": " << seen << " images seen, update " << update
                      << " (optimizer state restored)\n";
        } else {
            update = (long long)(seen / std::uint64_t(batch));
            std::cout << "continuing from " << start_weights << ": " << seen << " images seen, update " << update
                      << (state ? " (its .state does not match: optimizer restarts)" : " (no .state: optimizer restarts)")
                      << "\n";
        }
    }
    if (update >= total_updates) {
        std::cout << "nothing to do: " << update << " of " << total_updates << " updates already done\n";
        return 0;
    }

    std::filesystem::create_directories(config.backup_dir);
    // A run killed mid-write leaves its temporary file behind (the checkpoint itself is intact).
    const std::string stem = std::filesystem::path(config.cfg_path).stem().string() + "_";
    for (const auto& entry : std::filesystem::directory_iterator(config.backup_dir)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(stem, 0) == 0 && name.find(".tmp.") != std::string::npos) std::filesystem::remove(entry.path());
    }
    std::ofstream log;
    if (!config.log_path.empty()) {
        log.open(config.log_path, std::ios::app);
        if (!log) throw Error(cat(config.log_path, ": cannot open the log file for writing"));
    }
    auto save_checkpoint = [&](const std::string& path) {
        // State first: a crash between the two leaves a state whose seen does not match, which
        // loading detects, never a newer .weights with an older, accepted state.
        save_train_state(state_path_for(path), {seen, std::uint64_t(update), options.seed, options.adam, optimizer.state()});
        net->save_weights(path, seen);
    };

    g_stop_signal = 0;
    struct sigaction action {};
    action.sa_handler = request_stop;
    sigemptyset(&action.sa_mask);
    struct sigaction old_int {}, old_term {};
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGTERM, &action, &old_term);
    struct RestoreSignals {
        struct sigaction interrupt, terminate;
        ~RestoreSignals() {
            sigaction(SIGINT, &interrupt, nullptr);
            sigaction(SIGTERM, &terminate, nullptr);
        }
    } restore{old_int, old_term};

    std::cout << net->summary_table();
    std::cout << "training " << config.cfg_path << " on " << train_set.count() << " images (" << test_set.count()
              << " test) for " << total_epochs << " epochs, " << total_updates << " updates of batch " << batch
              << ", backend " << backend_name(net->compute().ops) << ", " << net->pool().size() << " threads\n";
    std::cout.flush();

    const int classes = train_set.classes;
    Progress progress(::isatty(STDERR_FILENO) != 0);
    double train_seconds = 0;
    std::uint64_t trained_images = 0;  // in this run (seen also counts earlier runs)
    double last_accuracy = -1;
    long long epoch = update / batches_per_epoch;
    std::vector<int> order = epoch_order(train_set.count(), options.seed, epoch);
    // The next minibatch is gathered on a background thread while this one trains; at an epoch's
    // end that needs the next epoch's order early.
    std::vector<int> next_order;
    Prefetcher prefetcher(train_set, minibatch);
    // Starts the minibatch at `offset` of update `u` (if it exists).
    auto prefetch = [&](long long u, int offset) {
        if (u >= total_updates) return;
        const long long u_epoch = u / batches_per_epoch;
        const int u_first = int((u % batches_per_epoch) * batch);
        const int n = std::min(minibatch, std::min(batch, train_set.count() - u_first) - offset);
        if (u_epoch != epoch && next_order.empty()) next_order = epoch_order(train_set.count(), options.seed, u_epoch);
        const std::vector<int>& u_order = u_epoch == epoch ? order : next_order;
        prefetcher.start(u_order.data() + u_first + offset, n);
    };
    prefetch(update, 0);
    auto epoch_start = Clock::now();
    double epoch_loss = 0;
    long long epoch_images = 0;

    const Network::LayerDone update_layer = [&](std::size_t first, std::size_t count) {
        optimizer.update_arrays(first, count, &net->pool());
    };
    while (update < total_updates) {
        const auto step_start = Clock::now();
        const long long in_epoch = update % batches_per_epoch;
        const int first = int(in_epoch * batch);
        const int batch_images = std::min(batch, train_set.count() - first);
        float batch_loss = 0;
        // The last minibatch's backward updates each layer as soon as its gradients are final.
        optimizer.begin_step(learning_rate_at(options, update, total_updates));
        for (int offset = 0; offset < batch_images; offset += minibatch) {
            const Prefetcher::Batch& minibatch_data = prefetcher.take();
            const int n = minibatch_data.n;
            const std::vector<int>& labels = minibatch_data.labels;
            if (offset + minibatch < batch_images) prefetch(update, offset + minibatch);
            else prefetch(update + 1, 0);
            const float* probabilities = net->forward(minibatch_data.images.data(), n, true);
            float* delta = net->output_grad();
            const float inverse_batch = 1.0f / float(batch_images);
            for (int i = 0; i < n; ++i) {
                const float* p = probabilities + std::size_t(i) * classes;
                float* d = delta + std::size_t(i) * classes;
                const int label = labels[std::size_t(i)];
                for (int k = 0; k < classes; ++k) d[k] = (p[k] - (k == label ? 1.0f : 0.0f)) * inverse_batch;
                batch_loss -= std::log(std::max(p[label], 1e-12f));
            }
            const bool last = offset + minibatch >= batch_images;
            net->backward(minibatch_data.images.data(), n, nullptr, last ? &update_layer : nullptr);
        }
        ++update;
        seen += std::uint64_t(batch_images);
        trained_images += std::uint64_t(batch_images);
        epoch_loss += batch_loss;
        epoch_images += batch_images;
        train_seconds += seconds_since(step_start);
        if (!std::isfinite(batch_loss))
            throw Error(cat("training diverged at update ", update, " (loss is ", batch_loss,
                            "): lower learning_rate in ", config.cfg_path));

        const long long done_in_epoch = in_epoch + 1;
        const bool epoch_done = done_in_epoch == batches_per_epoch || update == total_updates;
        const double epoch_elapsed = seconds_since(epoch_start);
        const double rate = double(epoch_images) / std::max(epoch_elapsed, 1e-9);
        const double eta = double((total_updates - update) * batch) / std::max(rate, 1e-9);
        progress.update(epoch + 1, total_epochs, done_in_epoch, batches_per_epoch, batch_loss / float(batch_images),
                        rate, eta);

        if (epoch_done) {
            const auto eval_start = Clock::now();
            const Evaluation eval = evaluate(*net, test_set);
            const double eval_seconds = seconds_since(eval_start);
            last_accuracy = eval.accuracy();
            const double train_loss = epoch_loss / double(std::max<long long>(epoch_images, 1));
            std::printf("epoch %lld/%lld: train loss %.4f, test accuracy %.4f (%d/%d), %.2f s, %.0f images/s\n", epoch + 1,
                        total_epochs, train_loss, last_accuracy, eval.correct, eval.total, epoch_elapsed - eval_seconds,
                        double(epoch_images) / std::max(epoch_elapsed - eval_seconds, 1e-9));
            std::fflush(stdout);
            if (log) {
                char line[512];
                std::snprintf(line, sizeof line,
                              "{\"epoch\":%lld,\"updates\":%lld,\"seen\":%llu,\"learning_rate\":%g,\"train_loss\":%.6f,"
                              "\"test_accuracy\":%.6f,\"test_loss\":%.6f,\"epoch_seconds\":%.4f,\"elapsed_seconds\":%.4f,"
                              "\"eval_seconds\":%.4f,\"images_per_second\":%.1f}\n",
                              epoch + 1, update, (unsigned long long)seen,
                              double(learning_rate_at(options, update, total_updates)), train_loss, last_accuracy,
                              eval.loss, epoch_elapsed - eval_seconds, train_seconds, eval_seconds,
                              double(epoch_images) / std::max(epoch_elapsed - eval_seconds, 1e-9));
                log << line << std::flush;
            }
            save_checkpoint(checkpoint_path(config, "last"));
            ++epoch;
            if (update < total_updates) {
                if (next_order.empty()) next_order = epoch_order(train_set.count(), options.seed, epoch);
                order = std::move(next_order);
                next_order.clear();
            }
            epoch_start = Clock::now();
            epoch_loss = 0;
            epoch_images = 0;
        }
        if (g_stop_signal) {
            const std::string path = checkpoint_path(config, "last");
            save_checkpoint(path);
            std::fprintf(stderr, "\nlenet: %s received: saved %s after %lld updates (%llu images); rerun with -resume to continue\n",
                         g_stop_signal == SIGINT ? "interrupt" : "terminate signal", path.c_str(), update,
                         (unsigned long long)seen);
            return 0;
        }
    }
    const std::string final_path = checkpoint_path(config, "final");
    save_checkpoint(final_path);
    std::printf("done: %lld updates in %.2f s of training (%.0f images/s), test accuracy %.4f; weights: %s\n", update,
                train_seconds, double(trained_images) / std::max(train_seconds, 1e-9), last_accuracy, final_path.c_str());
    return 0;
}

}  // namespace lenet
