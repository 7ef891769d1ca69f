// `lenet detect`: a detector on a camera, a video, images or a stream, Darknet's `demo` in one
// command. Frames come from the capture thread (detect/capture.h); this thread runs the detector on
// each frame it is given and feeds the outputs: a window, JSON lines, a video file, HTTP.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include <opencv2/highgui.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "commands/args.h"
#include "commands/commands.h"
#include "core/error.h"
#include "core/stop_signals.h"
#include "data/image_list.h"
#include "detect/capture.h"
#include "detect/detector.h"
#include "detect/frame_report.h"
#include "detect/run_stats.h"
#include "detect/stream_server.h"

namespace lenet {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kWindow = "lenet detect";

// Whether a window can be shown. Qt's highgui aborts the process when DISPLAY names no reachable
// server, so the first window is opened in a child, before any thread exists.
bool display_works() {
    if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY")) return false;
    std::fflush(nullptr);
    const pid_t child = ::fork();
    if (child < 0) return false;
    if (child == 0) {
        // Qt's complaints about the display would only repeat what the parent says in one line.
        const int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0) ::dup2(null, STDERR_FILENO);
        int code = 1;
        try {
            cv::namedWindow("lenet probe", cv::WINDOW_AUTOSIZE);
            cv::destroyAllWindows();
            code = 0;
        } catch (...) {
        }
        ::_exit(code);
    }
    int status = 0;
    const bool works = ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!works)
        std::fprintf(stderr, "lenet detect: no window can be opened on this display: running without one (-nodisplay skips the try)\n");
    return works;
}

float number(const Args& args, const std::string& name, float fallback, float low, float high) {
    const auto text = args.value(name);
    if (!text) return fallback;
    float v = 0;
    const auto r = std::from_chars(text->data(), text->data() + text->size(), v);
    if (r.ec != std::errc() || r.ptr != text->data() + text->size() || !(v >= low && v <= high))
        throw Error(cat("lenet detect: ", name, " ", *text, ": expected a number from ", low, " to ", high));
    return v;
}

// The first of several spellings that is given (lenet's, then AlexeyAB's).
std::optional<std::string> either(const Args& args, const char* a, const char* b) {
    if (auto v = args.value(a)) return v;
    return args.value(b);
}

int port_of(const char* name, const std::string& text) {
    int port = -1;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), port);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() || port < 0 || port > 65535)
        throw Error(cat("lenet detect: ", name, " ", text, ": expected a port from 0 (any free one) to 65535"));
    return port;
}

std::unique_ptr<detect::StreamServer> open_server(detect::StreamServer::Kind kind, const std::string& bind, int port,
                                                  const char* option) {
    try {
        auto server = std::make_unique<detect::StreamServer>(kind, bind, port);
        if (kind == detect::StreamServer::Kind::Viewer)
            std::fprintf(stderr, "lenet detect: serving http://%s:%d/ (MJPEG /stream.mjpg, JSON /json and /json.stream)\n",
                         bind.c_str(), server->port());
        else
            std::fprintf(stderr, "lenet detect: serving JSON lines (AlexeyAB's fields) on http://%s:%d/\n", bind.c_str(),
                         server->port());
        return server;
    } catch (const Error& e) {
        throw Error(cat("lenet detect: ", option, ": ", e.what()));
    }
}

// Letterbox, forward, decode, NMS, boxes in the frame's pixels; latency from the frame's read.
detect::FrameResult detect_frame(detect::Detector& detector, const detect::Frame& frame, float thresh, float nms) {
    detect::Letterbox geometry;
    const detect::PlanarImage input = detector.letterbox(frame.image, &geometry);
    detect::FrameResult result;
    result.boxes = detect::Detector::to_pixels(detector.run(input, thresh, nms), geometry, thresh);
    // A box wholly in the letterbox's padding clips to nothing: not worth a line or a rectangle.
    std::erase_if(result.boxes, [](const FoundBox& b) { return b.right <= b.left || b.bottom <= b.top; });
    result.index = frame.index;
    result.unix_time = frame.unix_time;
    result.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - frame.read_at).count();
    result.width = frame.image.cols;
    result.height = frame.image.rows;
    return result;
}

// Everything a processed frame goes to: stdout, the servers, the -out video, the window.
struct Outputs {
    std::vector<std::string> names;
    bool json = false, ext_output = false, display = false;
    std::optional<std::string> out;
    double out_fps = 25;
    std::unique_ptr<detect::StreamServer> viewer, darknet_json;

    // False when the user closed the window (Esc, q or the window's close button).
    bool emit(const detect::FrameResult& result, cv::Mat& image, double fps) {
        std::string line;
        if (json || viewer) line = detect::json_line(result, names);
        if (json) std::printf("%s\n", line.c_str());
        if (ext_output) std::printf("%s", detect::ext_output_text(result, names).c_str());
        if (json || ext_output) std::fflush(stdout);  // a reader downstream sees each frame as it is done
        if (viewer) viewer->publish_json(std::move(line));
        if (darknet_json) darknet_json->publish_json(detect::darknet_json_line(result, names));

        const bool stream_frame = viewer && viewer->wants_frames();
        if (!display && !out && !stream_frame) return true;
        detect::draw_boxes(image, result.boxes, names, fps);
        if (out) write_video(image);
        if (stream_frame) {
            std::vector<unsigned char> jpeg;
            cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, 80});
            viewer->publish_frame(std::string(jpeg.begin(), jpeg.end()));
        }
        if (!display) return true;
        cv::imshow(kWindow, image);
        const int key = cv::waitKey(1);
        return key != 27 && key != 'q' && cv::getWindowProperty(kWindow, cv::WND_PROP_VISIBLE) >= 1;
    }

    void write_video(const cv::Mat& image) {
        if (!writer_.isOpened()) {
            size_ = image.size();
            // OpenCV's own MJPG-in-AVI writer: needs neither FFmpeg nor GStreamer.
            if (!writer_.open(*out, cv::CAP_OPENCV_MJPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), out_fps, size_))
                throw Error(cat("lenet detect: -out ", *out, ": cannot open for writing as MJPG video"));
        }
        if (image.size() == size_) {
            writer_.write(image);
        } else {
            cv::Mat resized;  // a source that changed size (a reconnect): the video keeps its first
            cv::resize(image, resized, size_);
            writer_.write(resized);
        }
    }

    // Finishes the video (its index is written here) and ends the servers' streams.
    void close() {
        if (writer_.isOpened()) writer_.release();
        if (display) cv::destroyAllWindows();
        if (viewer) viewer->close();
        if (darknet_json) darknet_json->close();
    }

private:
    cv::VideoWriter writer_;
    cv::Size size_;
};

struct Summary {
    long long processed = 0;
    detect::MedianTracker fps, latency_ms, detect_ms;
};

void print_summary(const detect::Capture& capture, const Summary& s, const std::string& why) {
    const detect::CaptureStats stats = capture.stats();
    const std::string reconnects = stats.reconnects ? cat(", ", stats.reconnects, " reconnects") : "";
    std::fprintf(stderr,
                 "lenet detect: %s: %s: %lld frames read, %lld processed, %lld dropped, median %.1f FPS, "
                 "median latency %.1f ms (detector %.1f ms)%s\n",
                 capture.name().c_str(), why.c_str(), stats.read, s.processed, stats.dropped, s.fps.median(),
                 s.latency_ms.median(), s.detect_ms.median(), reconnects.c_str());
}

}  // namespace

int run_detect(const std::vector<std::string>& argv) {
    const Args args("detect", argv,
                    {{"-names", true},      {"-thresh", true},    {"-nms", true},        {"-json", false},
                     {"-out", true},        {"-http-port", true}, {"-http-bind", true},  {"-nodisplay", false},
                     {"-reconnect", false}, {"-realtime", false}, {"-frames", true},     {"-threads", true},
                     {"-backend", true}, {"-gpu", true},    {"-float-binary", false}, {"-width", true},  {"-height", true},
                     {"-fps", true},        {"-fourcc", true},
                     // AlexeyAB's demo spellings
                     {"-c", true},          {"-dont_show", false}, {"-ext_output", false}, {"-out_filename", true},
                     {"-mjpeg_port", true}, {"-json_port", true}});
    std::vector<std::string> sources;
    if (const auto camera = args.value("-c")) {
        args.expect_positionals(2, 2, "a cfg and weights (or none); -c gives the camera");
        sources = {*camera};
    } else {
        args.expect_positionals(3, 1 << 20, "a cfg, weights (or none) and a source");
        sources.assign(args.positionals().begin() + 2, args.positionals().end());
    }
    const std::string& cfg = args.positionals()[0];
    const std::string& weights = args.positionals()[1];
    const float thresh = number(args, "-thresh", 0.25f, 0.0f, 1.0f);
    const float nms = number(args, "-nms", 0.45f, 0.0f, 1.0f);
    const long long max_frames = args.integer("-frames", 0, 1, 1ll << 62);
    const bool json = args.flag("-json"), ext_output = args.flag("-ext_output");
    std::vector<std::string> names;
    if (const auto file = args.value("-names")) names = read_names(*file);

    detect::CaptureOptions capture_options;
    capture_options.width = int(args.integer("-width", 0, 1, 16384));
    capture_options.height = int(args.integer("-height", 0, 1, 16384));
    capture_options.fps = number(args, "-fps", 0, 0, 1000);
    capture_options.fourcc = args.value_or("-fourcc", "MJPG");
    if (capture_options.fourcc == "none") capture_options.fourcc.clear();
    if (!capture_options.fourcc.empty() && capture_options.fourcc.size() != 4)
        throw Error(cat("lenet detect: -fourcc ", capture_options.fourcc, ": expected four characters (MJPG, YUYV) or none"));
    capture_options.reconnect = args.flag("-reconnect");
    capture_options.realtime = args.flag("-realtime");

    std::optional<int> http_port, json_port;
    if (const auto port = either(args, "-http-port", "-mjpeg_port")) http_port = port_of("-http-port", *port);
    if (const auto port = args.value("-json_port")) json_port = port_of("-json_port", *port);

    // Before any thread: the display probe forks.
    const bool display = !args.flag("-nodisplay") && !args.flag("-dont_show") && display_works();

    DetectorOptions detector_options;
    detector_options.threads = int(args.integer("-threads", 0, 1, 1024));
    detector_options.backend = backend_option(args);
    detector_options.float_binary = args.flag("-float-binary");
    detect::Detector detector(cfg, weights, detector_options);

    std::unique_ptr<detect::Capture> capture;
    try {
        capture = std::make_unique<detect::Capture>(sources, capture_options);
    } catch (const Error& e) {
        throw Error(cat("lenet detect: ", e.what()));
    }

    Outputs outputs;
    outputs.names = std::move(names);
    outputs.json = json;
    outputs.ext_output = ext_output;
    outputs.display = display;
    outputs.out = either(args, "-out", "-out_filename");
    outputs.out_fps = capture->fps() > 0 ? capture->fps() : capture_options.fps > 0 ? capture_options.fps : 25;
    const std::string bind = args.value_or("-http-bind", "127.0.0.1");
    if (http_port || json_port) std::signal(SIGPIPE, SIG_IGN);  // a client that went away must not end the run
    if (http_port) outputs.viewer = open_server(detect::StreamServer::Kind::Viewer, bind, *http_port, "-http-port");
    if (json_port)
        outputs.darknet_json = open_server(detect::StreamServer::Kind::DarknetJson, bind, *json_port, "-json_port");

    const StopOnSignals signals(true);  // a second Ctrl-C ends a run stuck on a stream
    Summary summary;
    std::string why = "end of stream";
    Clock::time_point last_done = Clock::now();
    if (display) cv::namedWindow(kWindow, cv::WINDOW_AUTOSIZE);
    for (;;) {
        // Before taking a frame: one taken is processed, so read = processed + dropped holds.
        if (StopOnSignals::received()) {
            why = StopOnSignals::received() == SIGINT ? "interrupted (SIGINT)" : "stopped (SIGTERM)";
            break;
        }
        detect::Frame frame;
        const detect::Capture::Next next = capture->next(frame, std::chrono::milliseconds(100));
        if (next == detect::Capture::Next::End) break;
        if (next == detect::Capture::Next::Timeout) {
            if (display) cv::waitKey(1);  // keeps the window responsive while a stream stalls
            continue;
        }
        const Clock::time_point start = Clock::now();
        detect::FrameResult result = detect_frame(detector, frame, thresh, nms);
        const Clock::time_point done = Clock::now();
        const double fps = 1.0 / std::max(1e-9, std::chrono::duration<double>(done - last_done).count());
        last_done = done;
        ++summary.processed;
        summary.fps.add(fps);
        summary.latency_ms.add(result.latency_ms);
        summary.detect_ms.add(std::chrono::duration<double, std::milli>(done - start).count());
        if (!outputs.emit(result, frame.image, fps)) {
            why = "window closed";
            break;
        }
        if (max_frames > 0 && summary.processed >= max_frames) {
            why = cat("stopped after -frames ", max_frames);
            break;
        }
    }
    capture->stop();
    outputs.close();
    print_summary(*capture, summary, why);
    if (outputs.viewer) {
        const detect::StreamServer::Sent sent = outputs.viewer->sent();
        std::fprintf(stderr, "lenet detect: -http-port: sent %llu frames and %llu JSON records\n",
                     static_cast<unsigned long long>(sent.frames), static_cast<unsigned long long>(sent.json_records));
    }
    return 0;
}

}  // namespace lenet
