// lenet bench: per-layer forward/backward time, GFLOP/s and percent of the machine's measured
// peak, whole-network training and inference images/s; or the SGEMM alone (-gemm n).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "commands/args.h"
#include "commands/commands.h"
#include "cfg/cfg.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/ops.h"
#include "net/network.h"
#include "net/optimizer.h"

namespace lenet {

namespace {

double seconds_of(const std::function<void()>& work) {
    const auto start = std::chrono::steady_clock::now();
    work();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

// One timing in -json output, as scripts read it: its unit, how many runs, their median and spread
// (fastest and slowest). `scale` converts the seconds measured to the unit.
std::string figure_json(const std::vector<double>& seconds, const char* unit, double scale) {
    const auto [low, high] = std::minmax_element(seconds.begin(), seconds.end());
    char text[200];
    std::snprintf(text, sizeof text, "{\"unit\":\"%s\",\"runs\":%zu,\"median\":%.6g,\"min\":%.6g,\"max\":%.6g}", unit,
                  seconds.size(), scale * median(seconds), scale * *low, scale * *high);
    return text;
}

// A rate (images/s) from per-run seconds for `images` images: the slowest run is the lowest rate.
std::string rate_json(const std::vector<double>& seconds, double images) {
    const auto [low, high] = std::minmax_element(seconds.begin(), seconds.end());
    char text[200];
    std::snprintf(text, sizeof text, "{\"unit\":\"images/s\",\"runs\":%zu,\"median\":%.6g,\"min\":%.6g,\"max\":%.6g}",
                  seconds.size(), images / median(seconds), images / *high, images / *low);
    return text;
}

// -backends: the kernel tables built into this binary and whether this machine runs each; "auto"
// is the last available one. Scripts loop over these.
int list_backends(bool json) {
    const auto& rows = kernels::built_backends();
    if (json) std::printf("{\"auto\":\"%s\",\"backends\":[", backend_name(best_backend()));
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const bool available = rows[i].available();
        if (json)
            std::printf("%s{\"name\":\"%s\",\"available\":%s}", i ? "," : "", rows[i].name, available ? "true" : "false");
        else
            std::printf("%-10s %s\n", rows[i].name, available ? "available" : "built, not available on this machine");
    }
    if (json) std::printf("]}\n");
    return 0;
}

int bench_gemm(int size, int iterations, int threads, Backend backend, bool json) {
    ThreadPool pool(threads);
    const std::size_t n = std::size_t(size) * std::size_t(size);
    std::vector<float> a(n), b(n), c(n);
    Rng rng(1);
    for (auto& x : a) x = rng.uniform(-1, 1);
    for (auto& x : b) x = rng.uniform(-1, 1);
    const kernels::GemmArgs args{false, false, size, size, size, 1.0f, a.data(), size, b.data(), size, 0.0f, c.data(), size};
    const double flops = 2.0 * double(size) * size * size;
    const double peak = backend->core_peak_gflops();
    auto measure = [&](const Compute& compute) {
        compute.ops->gemm(compute, args);  // warm-up: packing buffers, caches
        std::vector<double> times;
        for (int i = 0; i < iterations; ++i) times.push_back(seconds_of([&] { compute.ops->gemm(compute, args); }));
        return flops / median(times) / 1e9;
    };
    ThreadPool single(1);
    const double one = measure({&single, backend});
    const double all = measure({&pool, backend});
    if (json) {
        std::printf("{\"gemm\":%d,\"backend\":\"%s\",\"core_peak_gflops\":%.1f,\"gflops_1_thread\":%.1f,"
                    "\"percent_of_core_peak\":%.1f,\"threads\":%d,\"gflops_threads\":%.1f}\n",
                    size, backend_name(backend), peak, one, 100 * one / peak, pool.size(), all);
    } else {
        std::printf("sgemm %d x %d x %d (%s), median of %d:\n", size, size, size, backend_name(backend), iterations);
        std::printf("  1 thread:  %7.1f GFLOP/s  (%.1f%% of one core's measured peak, %.1f GFLOP/s)\n", one,
                    100 * one / peak, peak);
        std::printf("  %d threads: %7.1f GFLOP/s  (%.1f%% of %d cores' peak)\n", pool.size(), all,
                    100 * all / (peak * pool.size()), pool.size());
    }
    return 0;
}

// -xnor c,h,w,filters,size,stride,pad: one image through the float convolution (im2col + SGEMM,
// as the convolutional layer runs it) and through the bit-packed XNOR convolution, which includes
// binarizing and packing the float input. GOP/s count 2 * filters * c*size^2 * out_h*out_w for both.
struct XnorBenchRow {
    int threads;
    double float_ms, xnor_ms;          // medians
    double float_min_ms, xnor_min_ms;  // fastest runs: the least disturbed by other work
    std::vector<double> float_seconds, xnor_seconds;  // every run
};

int bench_xnor(const std::string& shape, int iterations, int threads, Backend backend, bool json) {
    std::vector<long> v;
    std::size_t at = 0;
    while (at <= shape.size()) {
        const std::size_t comma = std::min(shape.find(',', at), shape.size());
        try {
            std::size_t used = 0;
            const std::string part = shape.substr(at, comma - at);
            v.push_back(std::stol(part, &used));
            if (used != part.size()) v.back() = -1;
        } catch (const std::exception&) {
            v.push_back(-1);
        }
        at = comma + 1;
    }
    const bool valid = v.size() == 7 && v[0] >= 1 && v[1] >= 1 && v[2] >= 1 && v[3] >= 1 && v[4] >= 1 && v[5] >= 1 &&
                       v[6] >= 0 && v[0] <= 65536 && v[1] <= 8192 && v[2] <= 8192 && v[3] <= 65536 && v[4] <= 64 &&
                       v[5] <= 64 && v[6] <= 64 && v[1] + 2 * v[6] >= v[4] && v[2] + 2 * v[6] >= v[4];
    if (!valid)
        throw Error(cat("lenet bench: -xnor ", shape, ": expected c,h,w,filters,size,stride,pad (positive, pad >= 0, ",
                        "the window inside the padded image)"));
    const kernels::ConvGeometry g{int(v[0]), int(v[1]), int(v[2]), int(v[4]), int(v[5]), int(v[6])};
    const int filters = int(v[3]);
    const int patch = g.channels * g.size * g.size, spatial = g.out_h() * g.out_w();
    Rng rng(3);
    std::vector<float> image(std::size_t(g.channels) * std::size_t(g.height) * std::size_t(g.width));
    std::vector<float> weights(std::size_t(filters) * std::size_t(patch));
    for (auto& x : image) x = rng.uniform(-1, 1);
    for (auto& x : weights) x = rng.uniform(-1, 1);
    std::vector<float> columns(std::size_t(patch) * std::size_t(spatial)), out(std::size_t(filters) * std::size_t(spatial));
    const kernels::PackedFilters packed = kernels::pack_filters(weights.data(), filters, g.channels, g.size,
                                                                    kernels::ZeroSign::positive);
    ThreadPool single(1), pool(threads);
    std::vector<unsigned char> workspace(kernels::xnor_conv_pool_workspace_bytes(g, packed, pool.size()));
    const kernels::GemmArgs gemm{false, false, filters, spatial, patch, 1.0f, weights.data(), patch,
                                 columns.data(), spatial, 0.0f, out.data(), spatial};
    // The two alternate, so that both see the same share of a busy machine.
    auto measure = [&](const Compute& compute, const std::function<void()>& first, const std::function<void()>& second) {
        first();  // warm-up
        second();
        std::vector<double> a, b;
        for (int i = 0; i < iterations; ++i) {
            a.push_back(seconds_of(first));
            b.push_back(seconds_of(second));
        }
        return XnorBenchRow{compute.pool->size(), 1e3 * median(a), 1e3 * median(b),
                            1e3 * *std::min_element(a.begin(), a.end()), 1e3 * *std::min_element(b.begin(), b.end()), a, b};
    };
    auto measure_both = [&](const Compute& compute) {
        return measure(
            compute,
            [&] {
                compute.ops->im2col(g, image.data(), columns.data());
                compute.ops->gemm(compute, gemm);
            },
            [&] { compute.ops->xnor_conv(compute, g, packed, image.data(), out.data(), workspace.data()); });
    };
    const double ops = 2.0 * filters * double(patch) * spatial;
    std::vector<XnorBenchRow> rows{measure_both({&single, backend})};
    if (pool.size() > 1) rows.push_back(measure_both({&pool, backend}));
    if (json) {
        std::printf("{\"xnor\":\"%s\",\"backend\":\"%s\",\"gop\":%.4f,\"runs\":[", shape.c_str(), backend_name(backend), ops / 1e9);
        for (std::size_t i = 0; i < rows.size(); ++i)
            std::printf("%s{\"threads\":%d,\"float_ms\":%.4f,\"xnor_ms\":%.4f,\"float_gops\":%.1f,\"xnor_gops\":%.1f,"
                        "\"speedup\":%.2f,\"float_min_ms\":%.4f,\"xnor_min_ms\":%.4f,\"float\":%s,\"xnor\":%s}",
                        i ? "," : "", rows[i].threads, rows[i].float_ms, rows[i].xnor_ms, ops / rows[i].float_ms / 1e6,
                        ops / rows[i].xnor_ms / 1e6, rows[i].float_ms / rows[i].xnor_ms, rows[i].float_min_ms,
                        rows[i].xnor_min_ms, figure_json(rows[i].float_seconds, "ms", 1e3).c_str(),
                        figure_json(rows[i].xnor_seconds, "ms", 1e3).c_str());
        std::printf("]}\n");
        return 0;
    }
    std::printf("conv %dx%dx%d -> %d filters %dx%d stride %d pad %d -> %dx%d (%s), %.3f GOP, median (min) of %d:\n",
                g.channels, g.height, g.width, filters, g.size, g.size, g.stride, g.pad, g.out_h(), g.out_w(),
                backend_name(backend), ops / 1e9, iterations);
    for (const XnorBenchRow& r : rows)
        std::printf("  %d thread%s: float (im2col+sgemm) %8.3f ms (%.3f) %6.1f GOP/s | xnor (incl. packing) %7.3f ms (%.3f)"
                    " %6.1f GOP/s | %.2fx (%.2fx)\n",
                    r.threads, r.threads == 1 ? " " : "s", r.float_ms, r.float_min_ms, ops / r.float_ms / 1e6, r.xnor_ms,
                    r.xnor_min_ms, ops / r.xnor_ms / 1e6, r.float_ms / r.xnor_ms, r.float_min_ms / r.xnor_min_ms);
    return 0;
}

// XNOR layers at inference: the bit-packed kernels (net, as built) against the float simulation of
// the same layers (a second net with packed_binary off: the same shapes through the float SGEMM),
// run alternately; per-layer medians. BWN layers use the float kernels either way.
void bench_binary_layers(const std::string& cfg, BuildOptions build, Network& net, const std::vector<float>& input,
                         int iterations, bool json) {
    std::vector<int> xnor_layers;
    for (int i = 0; i < net.layer_count(); ++i)
        if (net.layer(i).binary_weights().binary_inputs) xnor_layers.push_back(i);
    if (xnor_layers.empty()) {
        if (json) std::printf(",\"binary_layers\":[]");
        return;
    }
    build.packed_binary = false;
    auto simulated = Network::from_cfg_file(cfg, build);
    const int batch = net.max_batch();
    std::vector<std::vector<double>> packed_ms(xnor_layers.size()), float_ms(xnor_layers.size());
    for (int i = 0; i <= iterations; ++i) {
        std::vector<double> packed_times, float_times;
        net.forward(input.data(), batch, false, &packed_times);
        simulated->forward(input.data(), batch, false, &float_times);
        if (i == 0) continue;  // warm-up: packing the weights, caches
        for (std::size_t k = 0; k < xnor_layers.size(); ++k) {
            packed_ms[k].push_back(1e3 * packed_times[std::size_t(xnor_layers[k])]);
            float_ms[k].push_back(1e3 * float_times[std::size_t(xnor_layers[k])]);
        }
    }
    if (json)
        std::printf(",\"binary_layers\":[");
    else
        std::printf("XNOR layers at inference, batch %d, median of %d: bit-packed vs float simulation (same shapes)\n"
                    "%5s %-10s %12s %12s %8s\n",
                    batch, iterations, "layer", "type", "packed ms", "float ms", "speedup");
    for (std::size_t k = 0; k < xnor_layers.size(); ++k) {
        const double packed = median(packed_ms[k]), floating = median(float_ms[k]);
        const std::string kind = net.layer(xnor_layers[k]).summary().kind;
        if (json)
            std::printf("%s{\"index\":%d,\"type\":\"%s\",\"packed_ms\":%.4f,\"float_ms\":%.4f,\"speedup\":%.2f}",
                        k ? "," : "", xnor_layers[k], kind.c_str(), packed, floating, floating / packed);
        else
            std::printf("%5d %-10s %12.4f %12.4f %7.2fx\n", xnor_layers[k], kind.c_str(), packed, floating,
                        floating / packed);
    }
    if (json) std::printf("]");
}

// Inference only (-infer, and detector cfgs, whose training step at full size would dominate the
// run): per-layer forward medians of the net as built (XNOR layers bit-packed) and, when it has
// XNOR layers (unless -packed-only), of the float simulation of the same net, run alternately;
// whole-pass medians too.
int bench_inference(const std::string& cfg, BuildOptions build, int iterations, bool json, bool with_simulation) {
    build.inference = true;
    auto net = Network::from_cfg_file(cfg, build);
    bool has_xnor = false;
    for (int i = 0; i < net->layer_count(); ++i) has_xnor |= net->layer(i).binary_weights().binary_inputs;
    std::unique_ptr<Network> simulated;
    if (has_xnor && with_simulation) {
        BuildOptions float_build = build;
        float_build.packed_binary = false;
        simulated = Network::from_cfg_file(cfg, float_build);
    }
    const int batch = net->max_batch();
    Rng rng(7);
    std::vector<float> input(std::size_t(batch) * net->input_shape().size());
    for (auto& x : input) x = rng.uniform();
    const std::size_t layers = std::size_t(net->layer_count());
    std::vector<std::vector<double>> packed_ms(layers), float_ms(layers);
    std::vector<double> packed_total, float_total, packed_seconds, float_seconds;
    for (int i = 0; i <= iterations; ++i) {
        std::vector<double> times(layers, 0.0), float_times(layers, 0.0);
        const double total = seconds_of([&] { net->forward(input.data(), batch, false, &times); });
        double float_pass = 0;
        if (simulated) float_pass = seconds_of([&] { simulated->forward(input.data(), batch, false, &float_times); });
        if (i == 0) continue;  // warm-up: packing the weights, caches
        packed_total.push_back(1e3 * total);
        float_total.push_back(1e3 * float_pass);
        packed_seconds.push_back(total);
        float_seconds.push_back(float_pass);
        for (std::size_t k = 0; k < layers; ++k) {
            packed_ms[k].push_back(1e3 * times[k]);
            float_ms[k].push_back(1e3 * float_times[k]);
        }
    }
    if (json)
        std::printf("{\"cfg\":\"%s\",\"batch\":%d,\"threads\":%d,\"backend\":\"%s\",\"inference_layers\":[", cfg.c_str(),
                    batch, net->pool().size(), backend_name(net->compute().ops));
    else
        std::printf("%s: inference, batch %d, %d threads, backend %s; per-layer medians of %d passes%s\n"
                    "%5s %-10s %10s %10s %10s%s\n",
                    cfg.c_str(), batch, net->pool().size(), backend_name(net->compute().ops), iterations,
                    simulated ? " (XNOR layers bit-packed, and the float simulation run alternately)" : "", "layer",
                    "type", "GFLOP", "ms", "GF/s", simulated ? "   simulated ms  speedup" : "");
    for (std::size_t k = 0; k < layers; ++k) {
        const int i = int(k);
        const LayerSummary s = net->layer(i).summary();
        if (net->absorbed(i)) {
            if (!json) std::printf("%5d %-10s %10s (fused into layer %d)\n", i, s.kind.c_str(), "-", i - 1);
            continue;
        }
        const double ms = median(packed_ms[k]), sim = median(float_ms[k]);
        // Layers whose output stays bit-packed for the binary layers reading it (sign planes).
        const bool signs = net->sign_planes(i);
        if (json)
            std::printf("%s{\"index\":%d,\"type\":\"%s\",\"ms\":%.4f,\"simulated_ms\":%.4f,\"sign_planes\":%s}",
                        k ? "," : "", i, s.kind.c_str(), ms, simulated ? sim : ms, signs ? "true" : "false");
        else if (simulated)
            std::printf("%5d %-10s %10.3f %10.3f %10.1f %14.3f %7.2fx%s\n", i, s.kind.c_str(), s.flops * batch / 1e9, ms,
                        s.flops * batch / (ms * 1e6), sim, sim / ms, signs ? "  signs out" : "");
        else
            std::printf("%5d %-10s %10.3f %10.3f %10.1f%s\n", i, s.kind.c_str(), s.flops * batch / 1e9, ms,
                        s.flops * batch / (ms * 1e6), signs ? "  signs out" : "");
    }
    const double total = median(packed_total), float_pass = median(float_total);
    if (json) {
        std::printf("],\"ms_per_batch\":%.4f,\"pass_ms\":%s,\"images_per_second\":%s", total,
                    figure_json(packed_seconds, "ms", 1e3).c_str(), rate_json(packed_seconds, batch).c_str());
        if (simulated)
            std::printf(",\"simulated_ms_per_batch\":%.4f,\"simulated_pass_ms\":%s", float_pass,
                        figure_json(float_seconds, "ms", 1e3).c_str());
        std::printf("}\n");
    } else {
        std::printf("whole pass: %.3f ms per batch (min %.3f)", total,
                    *std::min_element(packed_total.begin(), packed_total.end()));
        if (simulated) std::printf(", float simulation %.3f ms: %.2fx", float_pass, float_pass / total);
        std::printf("\n");
    }
    return 0;
}

bool has_yolo(const std::string& cfg) {
    for (const CfgSection& section : read_cfg_file(cfg))
        if (section.name == "yolo" || section.name == "region") return true;
    return false;
}

}  // namespace

int run_bench(const std::vector<std::string>& argv) {
    const Args args("bench", argv,
                    {{"-batch", true}, {"-iters", true}, {"-threads", true}, {"-backend", true}, {"-gpu", true}, {"-json", false},
                     {"-gemm", true}, {"-xnor", true}, {"-infer", false}, {"-packed-only", false}, {"-backends", false}});
    if (args.flag("-backends")) {
        args.expect_positionals(0, 0, "no cfg with -backends");
        return list_backends(args.flag("-json"));
    }
    const int threads = int(args.integer("-threads", 0, 1, 1024));
    const Backend backend = backend_option(args);
    const int iterations = int(args.integer("-iters", 20, 1, 1 << 20));
    const bool json = args.flag("-json");
    if (args.value("-gemm")) {
        args.expect_positionals(0, 0, "no cfg with -gemm");
        return bench_gemm(int(args.integer("-gemm", 1024, 1, 8192)), iterations, threads, backend, json);
    }
    if (const auto shape = args.value("-xnor")) {
        args.expect_positionals(0, 0, "no cfg with -xnor");
        return bench_xnor(*shape, iterations, threads, backend, json);
    }
    args.expect_positionals(1, 1, "a cfg file (or -gemm n)");
    BuildOptions build;
    build.threads = threads;
    build.backend = backend;
    build.max_batch = int(args.integer("-batch", 0, 1, 1 << 16));
    if (args.flag("-infer") || has_yolo(args.positionals()[0]))
        return bench_inference(args.positionals()[0], build, iterations, json, !args.flag("-packed-only"));
    auto net = Network::from_cfg_file(args.positionals()[0], build);
    const int batch = net->max_batch();
    const std::size_t outputs = net->output_shape().size();

    Rng rng(7);
    std::vector<float> input(std::size_t(batch) * net->input_shape().size());
    for (auto& x : input) x = rng.uniform();
    Optimizer optimizer(net->options(), net->params(), net->compute().ops);
    const Network::LayerDone update_layer = [&](std::size_t first, std::size_t count) {
        optimizer.update_arrays(first, count, &net->pool());
    };
    auto train_step = [&](std::vector<double>* forward_times, std::vector<double>* backward_times) {
        const float* out = net->forward(input.data(), batch, true, forward_times);
        float* grad = net->output_grad();
        for (std::size_t i = 0; i < std::size_t(batch) * outputs; ++i) grad[i] = (out[i] - (i % outputs == 0)) / float(batch);
        // As the trainer does: each layer updated right after its backward. A zero rate keeps the
        // weights and costs a real update.
        optimizer.begin_step(0.0f);
        net->backward(input.data(), batch, backward_times, &update_layer);
    };
    train_step(nullptr, nullptr);  // warm-up
    std::vector<double> forward_times, backward_times, step_times, inference_times;
    for (int i = 0; i < iterations; ++i)
        step_times.push_back(seconds_of([&] { train_step(&forward_times, &backward_times); }));
    net->forward(input.data(), batch, false);
    for (int i = 0; i < iterations; ++i)
        inference_times.push_back(seconds_of([&] { net->forward(input.data(), batch, false); }));

    const double peak = net->compute().ops->core_peak_gflops() * net->pool().size();
    const double train_rate = batch / median(step_times), infer_rate = batch / median(inference_times);
    if (json) std::printf("{\"cfg\":\"%s\",\"batch\":%d,\"threads\":%d,\"backend\":\"%s\",\"peak_gflops\":%.1f,\"layers\":[",
                          args.positionals()[0].c_str(), batch, net->pool().size(), backend_name(net->compute().ops), peak);
    else
        std::printf("%s: batch %d, %d threads, backend %s, measured peak %.1f GFLOP/s; mean of %d iterations\n"
                    "%5s %-10s %10s %10s %10s %10s %8s\n",
                    args.positionals()[0].c_str(), batch, net->pool().size(), backend_name(net->compute().ops), peak,
                    iterations, "layer", "type", "fwd ms", "fwd GF/s", "bwd ms", "bwd GF/s", "% peak");
    for (int i = 0; i < net->layer_count(); ++i) {
        const LayerSummary s = net->layer(i).summary();
        if (net->absorbed(i)) {  // its time is in the layer before it
            if (json)
                std::printf("%s{\"index\":%d,\"type\":\"%s\",\"fused_into\":%d}", i ? "," : "", i, s.kind.c_str(), i - 1);
            else
                std::printf("%5d %-10s %10s (fused into layer %d)\n", i, s.kind.c_str(), "-", i - 1);
            continue;
        }
        const double forward_ms = 1e3 * forward_times[std::size_t(i)] / iterations;
        const double backward_ms = 1e3 * backward_times[std::size_t(i)] / iterations;
        const double forward_gflops = s.flops * batch / (forward_ms * 1e6);
        // Backward of a linear layer costs about twice its forward (data and weight gradients).
        const double backward_gflops = 2 * s.flops * batch / (backward_ms * 1e6);
        const double percent = 100 * 3 * s.flops * batch / ((forward_ms + backward_ms) * 1e6) / peak;
        if (json)
            std::printf("%s{\"index\":%d,\"type\":\"%s\",\"forward_ms\":%.4f,\"forward_gflops\":%.2f,\"backward_ms\":%.4f,"
                        "\"backward_gflops\":%.2f,\"percent_of_peak\":%.2f}",
                        i ? "," : "", i, s.kind.c_str(), forward_ms, forward_gflops, backward_ms, backward_gflops, percent);
        else
            std::printf("%5d %-10s %10.3f %10.1f %10.3f %10.1f %7.1f%%\n", i, s.kind.c_str(), forward_ms, forward_gflops,
                        backward_ms, backward_gflops, percent);
    }
    if (json)
        std::printf("],\"train_images_per_second\":%.1f,\"inference_images_per_second\":%.1f,\"train_step_ms\":%s,"
                    "\"inference_ms\":%s,\"train_rate\":%s,\"inference_rate\":%s",
                    train_rate, infer_rate, figure_json(step_times, "ms", 1e3).c_str(),
                    figure_json(inference_times, "ms", 1e3).c_str(), rate_json(step_times, batch).c_str(),
                    rate_json(inference_times, batch).c_str());
    else
        std::printf("training: %.0f images/s (median step %.3f ms incl. optimizer)\ninference: %.0f images/s (median %.3f ms per batch)\n",
                    train_rate, 1e3 * median(step_times), infer_rate, 1e3 * median(inference_times));
    bench_binary_layers(args.positionals()[0], build, *net, input, iterations, json);
    // Which ops this backend runs on the reference's kernels (an op it has no kernel for).
    std::string fallbacks;
    for (const kernels::OpOrigin& op : kernels::op_origins(*net->compute().ops))
        if (std::string_view(op.origin) == "reference" && net->compute().ops != &kernels::reference_ops())
            fallbacks += cat(fallbacks.empty() ? "" : json ? "\",\"" : ", ", op.op);
    if (json)
        std::printf(",\"reference_ops\":[%s]", fallbacks.empty() ? "" : cat("\"", fallbacks, "\"").c_str());
    else if (!fallbacks.empty())
        std::printf("ops on the reference kernels (backend %s has none of its own): %s\n",
                    backend_name(net->compute().ops), fallbacks.c_str());
    if (json) std::printf("}\n");
    return 0;
}

}  // namespace lenet
