#include "commands/training_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace lenet {

namespace {

const cv::Scalar kBlack(0, 0, 0), kGrey(110, 110, 110), kGrid(225, 225, 225), kWhite(255, 255, 255);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr int kLeftMargin = 78, kRightMargin = 24;  // room for the y tick labels
constexpr double kTickScale = 0.45, kLabelScale = 0.55, kTitleScale = 0.75;

// Matplotlib's "tab10" colours (as BGR): distinct, and readable on white.
cv::Scalar run_colour(std::size_t index) {
    static const cv::Scalar colours[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44},  {40, 39, 214},
                                         {189, 103, 148}, {75, 86, 140},  {194, 119, 227}, {127, 127, 127},
                                         {34, 189, 188},  {207, 190, 23}};
    return colours[index % std::size(colours)];
}

cv::Size text_size(const std::string& text, double scale) {
    int baseline = 0;
    return cv::getTextSize(text, kFont, scale, 1, &baseline);
}

void put_text(cv::Mat& image, const std::string& text, cv::Point at, double scale, const cv::Scalar& colour,
              int thickness = 1) {
    cv::putText(image, text, at, kFont, scale, colour, thickness, cv::LINE_AA);
}

struct Tick {
    double value;
    std::string label;
};

// About `wanted` ticks at 1, 2 or 5 times a power of ten, inside [low, high].
std::vector<Tick> linear_ticks(double low, double high, int wanted, bool integers) {
    const double raw = (high - low) / wanted;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    double step = power;
    for (double m : {2.0, 5.0, 10.0})
        if (step < raw) step = m * power;
    if (integers) step = std::max(1.0, std::round(step));
    const int decimals = integers ? 0 : std::max(0, int(-std::floor(std::log10(step) + 1e-9)));
    std::vector<Tick> ticks;
    for (double v = std::ceil(low / step - 1e-9) * step; v <= high + 1e-9 * step; v += step) {
        char label[32];
        std::snprintf(label, sizeof label, "%.*f", decimals, std::abs(v) < 1e-12 * step ? 0.0 : v);
        ticks.push_back({v, label});
    }
    return ticks;
}

// Ticks at 1, 2 and 5 per decade (1 alone over many decades), as values, not logarithms.
std::vector<Tick> log_ticks(double low, double high) {
    std::vector<Tick> ticks;
    for (const auto& mantissas : {std::vector<double>{1, 2, 5}, std::vector<double>{1}}) {
        ticks.clear();
        for (int e = int(std::floor(std::log10(low))); e <= int(std::ceil(std::log10(high))); ++e)
            for (double m : mantissas) {
                const double v = m * std::pow(10.0, e);
                if (v < low * (1 - 1e-9) || v > high * (1 + 1e-9)) continue;
                char label[32];
                std::snprintf(label, sizeof label, "%g", v);
                ticks.push_back({v, label});
            }
        if (ticks.size() <= 9) break;
    }
    return ticks;
}

struct Axis {
    double low = 0, high = 1;
    bool log = false;
    std::vector<Tick> ticks;
    double fraction(double v) const {  // 0 at low, 1 at high
        return log ? (std::log10(v) - std::log10(low)) / (std::log10(high) - std::log10(low)) : (v - low) / (high - low);
    }
};

Axis epoch_axis(long long last_epoch) {
    // A little room either side, so the first and last points stay off the frame.
    Axis axis;
    const double pad = last_epoch <= 1 ? 0.5 : 0.04 * double(last_epoch - 1);
    axis.low = 1 - pad;
    axis.high = double(last_epoch) + pad;
    axis.ticks = linear_ticks(1, double(last_epoch), 8, true);
    return axis;
}

// Losses spanning more than a decade read better on a log scale: the first epoch's would
// otherwise flatten the rest.
Axis value_axis(double low, double high, bool allow_log) {
    Axis axis;
    if (allow_log && low > 0 && high / low > 10) {
        axis.log = true;
        const double pad = std::pow(high / low, 0.05);
        axis.low = low / pad;
        axis.high = high * pad;
        axis.ticks = log_ticks(axis.low, axis.high);
        if (axis.ticks.size() >= 2) return axis;
        axis.log = false;
    }
    double span = high - low;
    if (span <= 0) span = std::max(std::abs(high) * 0.1, 1e-3);
    axis.low = low - 0.08 * span;
    axis.high = high + 0.08 * span;
    if (low >= 0 && axis.low < 0) axis.low = 0;
    axis.ticks = linear_ticks(axis.low, axis.high, 6, false);
    return axis;
}

struct Panel {
    cv::Rect area;  // the plotting area inside the axes
    std::string heading;
};

void draw_panel(cv::Mat& image, const Panel& panel, const Axis& x, const Axis& y, const std::vector<TrainingLog>& runs,
                bool score) {
    const cv::Rect& r = panel.area;
    auto to_pixel = [&](double ex, double ey) {
        return cv::Point(int(std::lround(r.x + x.fraction(ex) * r.width)),
                         int(std::lround(r.y + r.height - y.fraction(ey) * r.height)));
    };
    for (const Tick& t : y.ticks) {
        const int py = to_pixel(x.low, t.value).y;
        cv::line(image, {r.x, py}, {r.x + r.width, py}, kGrid, 1);
        cv::line(image, {r.x - 5, py}, {r.x, py}, kBlack, 1);
        const cv::Size size = text_size(t.label, kTickScale);
        put_text(image, t.label, {r.x - 9 - size.width, py + size.height / 2}, kTickScale, kBlack);
    }
    for (const Tick& t : x.ticks) {
        const int px = to_pixel(t.value, y.low).x;
        cv::line(image, {px, r.y}, {px, r.y + r.height}, kGrid, 1);
        cv::line(image, {px, r.y + r.height}, {px, r.y + r.height + 5}, kBlack, 1);
        const cv::Size size = text_size(t.label, kTickScale);
        put_text(image, t.label, {px - size.width / 2, r.y + r.height + 10 + size.height}, kTickScale, kBlack);
    }
    cv::rectangle(image, r, kBlack, 1);
    const cv::Size heading = text_size(panel.heading, kLabelScale);
    put_text(image, panel.heading, {r.x, r.y - 10}, kLabelScale, kBlack, 1);
    const std::string x_label = "epoch";
    const cv::Size x_size = text_size(x_label, kLabelScale);
    put_text(image, x_label, {r.x + (r.width - x_size.width) / 2, r.y + r.height + 22 + x_size.height + heading.height / 2},
             kLabelScale, kGrey);

    cv::Mat inside = image(r);
    for (std::size_t i = 0; i < runs.size(); ++i) {
        std::vector<cv::Point> points;
        for (const EpochPoint& p : runs[i].points) {
            if (score && !p.score) continue;
            points.push_back(to_pixel(double(p.epoch), score ? *p.score : p.train_loss) - r.tl());
        }
        if (points.size() > 1) cv::polylines(inside, points, false, run_colour(i), 2, cv::LINE_AA);
        for (const cv::Point& p : points) cv::circle(inside, p, 3, run_colour(i), cv::FILLED, cv::LINE_AA);
    }
}

std::string score_heading(const std::vector<TrainingLog>& runs) {
    bool accuracy = false, map = false;
    for (const TrainingLog& run : runs) {
        accuracy |= run.score_key == "test_accuracy";
        map |= run.score_key == "valid_map50";
    }
    if (accuracy && map) return "test accuracy / valid mAP@0.5";
    return accuracy ? "test accuracy" : "valid mAP@0.5";
}

}  // namespace

void write_training_plot(const std::vector<TrainingLog>& runs, const PlotOptions& options, const std::string& path) {
    LENET_CHECK(!runs.empty());
    if (options.width < 400 || options.height < 300 || options.width > 8000 || options.height > 8000)
        throw Error(cat("plot size ", options.width, "x", options.height, ": expected 400x300 to 8000x8000"));
    cv::Mat image(options.height, options.width, CV_8UC3, kWhite);

    // Title, then the legend (one entry per run: its colour and name), wrapped into rows.
    const cv::Size title = text_size(options.title, kTitleScale);
    put_text(image, options.title, {(options.width - title.width) / 2, 14 + title.height}, kTitleScale, kBlack, 2);
    int legend_x = kLeftMargin, legend_y = 14 + title.height + 28;
    const int row_height = text_size("Ag", kLabelScale).height + 12;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const int entry = 34 + text_size(runs[i].name, kLabelScale).width + 24;
        if (legend_x + entry > options.width - 20 && legend_x > kLeftMargin) {
            legend_x = kLeftMargin;
            legend_y += row_height;
        }
        const int mid = legend_y - text_size("A", kLabelScale).height / 2;
        cv::line(image, {legend_x, mid}, {legend_x + 26, mid}, run_colour(i), 3, cv::LINE_AA);
        cv::circle(image, {legend_x + 13, mid}, 3, run_colour(i), cv::FILLED, cv::LINE_AA);
        put_text(image, runs[i].name, {legend_x + 34, legend_y}, kLabelScale, kBlack);
        legend_x += entry;
    }

    long long last_epoch = 1;
    double loss_low = INFINITY, loss_high = -INFINITY, score_low = INFINITY, score_high = -INFINITY;
    for (const TrainingLog& run : runs)
        for (const EpochPoint& p : run.points) {
            last_epoch = std::max(last_epoch, p.epoch);
            loss_low = std::min(loss_low, p.train_loss);
            loss_high = std::max(loss_high, p.train_loss);
            if (p.score) {
                score_low = std::min(score_low, *p.score);
                score_high = std::max(score_high, *p.score);
            }
        }
    const bool has_score = score_low <= score_high;
    const Axis x = epoch_axis(last_epoch);
    const Axis loss = value_axis(loss_low, loss_high, true);

    const int top = legend_y + 40, bottom = options.height - 52;
    const int panels = has_score ? 2 : 1;
    const int panel_width = options.width / panels;
    if (bottom - top < 60)
        throw Error(cat("plot: ", runs.size(), " runs' legend leaves no room for the axes at ", options.width, "x",
                        options.height, ": make it larger"));
    auto area = [&](int index) {
        return cv::Rect(index * panel_width + kLeftMargin, top, panel_width - kLeftMargin - kRightMargin, bottom - top);
    };
    draw_panel(image, {area(0), cat("train loss", loss.log ? " (log scale)" : "")}, x, loss, runs, false);
    if (has_score) {
        const Axis score = value_axis(score_low, score_high, false);
        draw_panel(image, {area(1), score_heading(runs)}, x, score, runs, true);
    }
    bool written = false;
    try {
        written = cv::imwrite(path, image);
    } catch (const cv::Exception& e) {
        throw Error(cat(path, ": cannot write the plot (", e.what(), ")"));
    }
    if (!written) throw Error(cat(path, ": cannot write the plot (unknown image extension or unwritable folder)"));
}

}  // namespace lenet
