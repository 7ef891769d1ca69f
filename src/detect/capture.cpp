#include "detect/capture.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <opencv2/videoio/registry.hpp>

#include "core/error.h"
#include "data/image.h"
#include "data/image_list.h"

namespace lenet::detect {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kReadAhead = 2;  // frames a file is decoded ahead of detection: overlap, not a backlog
constexpr int kStreamTimeoutMs = 10000;  // FFmpeg open/read timeout for URLs: a stalled stream reads as dropped

std::string lower_extension(const std::string& path) {
    std::string ext = fs::path(path).extension().string();
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

bool is_image_path(const std::string& path) {
    static const char* const kImageExtensions[] = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".pbm",
                                                   ".pnm", ".tif", ".tiff", ".webp"};
    const std::string ext = lower_extension(path);
    return std::any_of(std::begin(kImageExtensions), std::end(kImageExtensions), [&](const char* e) { return ext == e; });
}

bool all_digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string describe(const std::string& source, SourceKind kind) {
    return kind == SourceKind::Camera ? cat("camera ", source) : cat("source '", source, "'");
}

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

SourceKind classify_source(const std::string& source) {
    if (all_digits(source)) return SourceKind::Camera;
    if (source.starts_with("/dev/video")) return SourceKind::Device;
    if (source.find("://") != std::string::npos) return SourceKind::Url;
    if (source.find(" ! ") != std::string::npos) return SourceKind::Pipeline;
    if (is_image_path(source) || lower_extension(source) == ".txt") return SourceKind::Images;
    return SourceKind::File;
}

// Where frames come from: a VideoCapture or a list of image files.
struct Capture::Reader {
    virtual ~Reader() = default;
    virtual bool read(cv::Mat& image) = 0;
    virtual double fps() const { return 0; }
};

namespace {

class VideoReader final : public Capture::Reader {
public:
    VideoReader(const std::string& source, SourceKind kind, const CaptureOptions& options) { open(source, kind, options); }

    bool read(cv::Mat& image) override {
        try {
            return capture_.read(image) && !image.empty();
        } catch (const cv::Exception&) {
            return false;  // a damaged frame or a dead stream reads as its end
        }
    }
    double fps() const override {
        const double fps = capture_.get(cv::CAP_PROP_FPS);
        return fps > 0 && fps < 1000 ? fps : 0;
    }

private:
    void open(const std::string& source, SourceKind kind, const CaptureOptions& options) {
        const std::string what = describe(source, kind);
        switch (kind) {
        case SourceKind::Camera: {
            // V4L2 itself: with no such device OpenCV would otherwise try every backend and say little.
            const std::string device = "/dev/video" + source;
            if (!fs::exists(device)) throw Error(cat(what, ": no camera (", device, " does not exist)"));
            capture_.open(std::stoi(source), cv::CAP_V4L2);
            if (!capture_.isOpened()) throw Error(cat(what, ": cannot open ", device, " (V4L2)"));
            set_camera_controls(options);
            return;
        }
        case SourceKind::Device:
            if (!fs::exists(source)) throw Error(cat(what, ": no such device"));
            capture_.open(source, cv::CAP_V4L2);
            if (!capture_.isOpened()) throw Error(cat(what, ": cannot open the device (V4L2)"));
            set_camera_controls(options);
            return;
        case SourceKind::Pipeline:
            if (!cv::videoio_registry::hasBackend(cv::CAP_GSTREAMER))
                throw Error(cat(what, ": looks like a GStreamer pipeline, but this OpenCV was built without GStreamer"));
            capture_.open(source, cv::CAP_GSTREAMER);
            if (!capture_.isOpened()) throw Error(cat(what, ": GStreamer cannot open the pipeline"));
            return;
        case SourceKind::Url:
            // RTSP over UDP loses packets on busy links and shows as smeared frames; TCP unless the user chose.
            if (source.starts_with("rtsp://") && !std::getenv("OPENCV_FFMPEG_CAPTURE_OPTIONS"))
                ::setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp", 0);
            capture_.open(source, cv::CAP_FFMPEG,
                          {cv::CAP_PROP_OPEN_TIMEOUT_MSEC, kStreamTimeoutMs, cv::CAP_PROP_READ_TIMEOUT_MSEC, kStreamTimeoutMs});
            if (!capture_.isOpened()) throw Error(cat(what, ": cannot open the stream (FFmpeg)"));
            return;
        case SourceKind::File:
        case SourceKind::Images:
            if (!fs::exists(source)) throw Error(cat(what, ": no such file"));
            // FFmpeg first; OpenCV's own MJPEG reader still reads MJPG AVI where FFmpeg is missing.
            if (!capture_.open(source, cv::CAP_FFMPEG)) capture_.open(source, cv::CAP_ANY);
            if (!capture_.isOpened()) throw Error(cat(what, ": cannot open as a video"));
            return;
        }
    }

    void set_camera_controls(const CaptureOptions& options) {
        // FOURCC first: V4L2 offers the larger sizes only once the pixel format allows them.
        if (options.fourcc.size() == 4) {
            const std::string& f = options.fourcc;
            capture_.set(cv::CAP_PROP_FOURCC, cv::VideoWriter::fourcc(f[0], f[1], f[2], f[3]));
        }
        if (options.width > 0) capture_.set(cv::CAP_PROP_FRAME_WIDTH, options.width);
        if (options.height > 0) capture_.set(cv::CAP_PROP_FRAME_HEIGHT, options.height);
        if (options.fps > 0) capture_.set(cv::CAP_PROP_FPS, options.fps);
    }

    cv::VideoCapture capture_;
};

class ImageReader final : public Capture::Reader {
public:
    explicit ImageReader(const std::vector<std::string>& sources) {
        for (const std::string& s : sources) {
            if (lower_extension(s) == ".txt") {
                for (const ListEntry& e : read_image_list(s)) paths_.push_back(e.path);
            } else {
                paths_.push_back(s);
            }
        }
        for (const std::string& p : paths_)
            if (!fs::is_regular_file(p)) throw Error(cat("source '", p, "': no such image file"));
    }
    bool read(cv::Mat& image) override {
        if (next_ >= paths_.size()) return false;
        image = read_image_file(paths_[next_++], cv::IMREAD_COLOR);  // an Error ends the run, naming the file
        return true;
    }

private:
    std::vector<std::string> paths_;
    std::size_t next_ = 0;
};

std::unique_ptr<Capture::Reader> open_reader(const std::vector<std::string>& sources, SourceKind kind,
                                             const CaptureOptions& options) {
    if (kind == SourceKind::Images) return std::make_unique<ImageReader>(sources);
    return std::make_unique<VideoReader>(sources[0], kind, options);
}

}  // namespace

Capture::Capture(const std::vector<std::string>& sources, const CaptureOptions& options) : options_(options) {
    if (sources.empty()) throw Error("lenet detect: no source");
    kind_ = sources.size() > 1 ? SourceKind::Images : classify_source(sources[0]);
    if (sources.size() > 1)
        for (const std::string& s : sources)
            if (classify_source(s) != SourceKind::Images)
                throw Error(cat("source '", s, "': several sources must all be images"));
    name_ = sources.size() > 1 ? cat(sources.size(), " images") : sources[0];
    reader_ = open_reader(sources, kind_, options_);
    fps_ = reader_->fps();
    live_ = kind_ == SourceKind::Camera || kind_ == SourceKind::Device || kind_ == SourceKind::Url ||
            kind_ == SourceKind::Pipeline || (kind_ == SourceKind::File && options_.realtime);
    thread_ = std::thread([this] { loop(); });
}

Capture::~Capture() { stop(); }

void Capture::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    space_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mutex_);
    if (live_) dropped_ += static_cast<long long>(queue_.size());  // read, never taken
    queue_.clear();
    ended_ = true;
}

bool Capture::wait_stop(Clock::duration d) {
    std::unique_lock lock(mutex_);
    return space_.wait_for(lock, d, [&] { return stopping_; });
}

void Capture::deliver(Frame frame) {
    std::unique_lock lock(mutex_);
    if (live_) {
        if (!queue_.empty()) {
            queue_.clear();
            ++dropped_;
        }
    } else {
        space_.wait(lock, [&] { return stopping_ || queue_.size() < kReadAhead; });
        if (stopping_) return;
    }
    ++read_;
    queue_.push_back(std::move(frame));
    ready_.notify_one();
}

bool Capture::reopen(long long frames_before) {
    // Stderr, not an exception: the run goes on, and whoever watches it should know why frames stopped.
    std::fprintf(stderr, "lenet detect: %s: stream dropped after %lld frames%s\n", describe(name_, kind_).c_str(),
                 frames_before, options_.reconnect ? "" : " (-reconnect retries)");
    if (!options_.reconnect) return false;
    for (int delay = 1;; delay = std::min(delay * 2, 30)) {
        std::fprintf(stderr, "lenet detect: %s: reconnecting in %d s\n", describe(name_, kind_).c_str(), delay);
        if (wait_stop(std::chrono::seconds(delay))) return false;
        try {
            auto reader = open_reader({name_}, kind_, options_);
            reader_ = std::move(reader);
            std::lock_guard lock(mutex_);
            ++reconnects_;
            std::fprintf(stderr, "lenet detect: %s: reconnected\n", describe(name_, kind_).c_str());
            return true;
        } catch (const Error& e) {
            std::fprintf(stderr, "lenet detect: %s\n", e.what());
        }
    }
}

void Capture::loop() {
    try {
        const bool paced = kind_ == SourceKind::File && options_.realtime && fps_ > 0;
        const Clock::time_point start = Clock::now();
        long long index = 0;
        for (long long n = 0;; ++n) {
            if (paced && wait_stop(start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(double(n) / fps_)) -
                                   Clock::now()))
                break;
            {
                std::lock_guard lock(mutex_);
                if (stopping_) break;
            }
            Frame frame;
            if (!reader_->read(frame.image)) {
                const bool reconnectable = live_ && kind_ != SourceKind::File;
                if (reconnectable && reopen(index)) continue;
                break;
            }
            frame.read_at = Clock::now();
            frame.unix_time = unix_now();
            frame.index = index++;
            if (frame.image.channels() == 1) cv::cvtColor(frame.image, frame.image, cv::COLOR_GRAY2BGR);
            deliver(std::move(frame));
        }
    } catch (...) {
        std::lock_guard lock(mutex_);
        error_ = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    ended_ = true;
    ready_.notify_all();
}

Capture::Next Capture::next(Frame& frame, std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, wait, [&] { return !queue_.empty() || ended_; });
    if (!queue_.empty()) {
        frame = std::move(queue_.front());
        queue_.pop_front();
        ++delivered_;
        space_.notify_one();
        return Next::Frame;
    }
    if (ended_) {
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
        return Next::End;
    }
    return Next::Timeout;
}

CaptureStats Capture::stats() const {
    std::lock_guard lock(mutex_);
    // A file's read-ahead that was never taken (-frames, Ctrl-C) does not count as read.
    return {live_ ? read_ : delivered_, dropped_, reconnects_};
}

}  // namespace lenet::detect
