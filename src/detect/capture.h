// Frames for `lenet detect`, read on their own thread from a camera, a V4L2 device, a video file,
// images, a stream URL or a GStreamer pipeline (OpenCV's VideoCapture, FFmpeg backend for files
// and URLs). A live source keeps only the newest frame: one the consumer has not taken when the
// next arrives is dropped and counted, so detection never lags behind a queue. A file (or images)
// is delivered in order, every frame, as fast as the consumer takes them.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>

namespace lenet::detect {

enum class SourceKind { Camera, Device, File, Images, Url, Pipeline };

struct CaptureOptions {
    int width = 0, height = 0;  // camera controls; 0 leaves the camera's own
    double fps = 0;
    std::string fourcc = "MJPG";  // cameras only: USB cameras reach full rate at high sizes only in MJPG; "" leaves it
    bool reconnect = false;       // a live source that drops is reopened, backing off 1 s, 2 s, ... 30 s
    bool realtime = false;        // a file is read at its own fps and handled as a live source
};

struct Frame {
    cv::Mat image;  // 8-bit BGR
    long long index = 0;  // in read order, from 0
    double unix_time = 0;  // when it was read, seconds since the epoch
    std::chrono::steady_clock::time_point read_at;
};

struct CaptureStats {
    long long read = 0;     // frames taken from the source and delivered or dropped
    long long dropped = 0;  // live sources: replaced by a newer frame before they were taken
    int reconnects = 0;
};

// What a source string names: digits a camera index, /dev/video* a device, "scheme://" a URL,
// "a ! b" a GStreamer pipeline, an image extension or a .txt list images, else a video file.
SourceKind classify_source(const std::string& source);

class Capture {
public:
    // One source, or several images. Opens it (and reads an image list) now: a source that cannot
    // be opened is an Error naming it. Reading starts at once on the capture thread.
    Capture(const std::vector<std::string>& sources, const CaptureOptions& options);
    ~Capture();
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;

    enum class Next { Frame, End, Timeout };
    // Waits up to `wait` for a frame. End: the source is exhausted (or dropped for good); an error
    // the capture thread met is thrown here, once the frames before it have been taken.
    Next next(Frame& frame, std::chrono::milliseconds wait);
    void stop();  // ends reading and joins the thread; next() then returns End

    bool live() const { return live_; }
    SourceKind kind() const { return kind_; }
    const std::string& name() const { return name_; }
    double fps() const { return fps_; }  // the source's frame rate, 0 when it does not say
    CaptureStats stats() const;

    struct Reader;

private:
    void loop();
    void deliver(Frame frame);
    bool reopen(long long frames_before);  // -reconnect: back off and reopen until it works or stop()
    bool wait_stop(std::chrono::steady_clock::duration d);  // true when stop() came first

    std::string name_;
    SourceKind kind_;
    CaptureOptions options_;
    bool live_ = false;
    double fps_ = 0;
    std::unique_ptr<Reader> reader_;

    mutable std::mutex mutex_;
    std::condition_variable ready_, space_;
    std::deque<Frame> queue_;  // live: at most one (the newest), else a short read-ahead
    bool ended_ = false, stopping_ = false;
    std::exception_ptr error_;
    long long read_ = 0, delivered_ = 0, dropped_ = 0;
    int reconnects_ = 0;
    std::thread thread_;
};

}  // namespace lenet::detect
