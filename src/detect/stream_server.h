// The HTTP side of `lenet detect` (cpp-httplib, its own threads). A viewer server serves
//   /              a small page showing the stream and the live JSON
//   /stream.mjpg   the annotated frames as MJPEG (multipart/x-mixed-replace)
//   /json          the latest frame's JSON line
//   /json.stream   the JSON lines as they come (newline-delimited JSON)
// A Darknet JSON server (AlexeyAB's -json_port) streams its JSON lines on any path.
// Streams send only what is newer than what a client last got: a slow client skips frames, it
// never holds detection back.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace lenet::detect {

class StreamServer {
public:
    enum class Kind { Viewer, DarknetJson };
    // Listens on bind:port (port 0: a free port) at once; a port that cannot be had is an Error
    // naming the address.
    StreamServer(Kind kind, const std::string& bind, int port);
    ~StreamServer();  // close()
    StreamServer(const StreamServer&) = delete;
    StreamServer& operator=(const StreamServer&) = delete;

    int port() const;
    const std::string& bind() const;
    // True while a client reads /stream.mjpg: encoding JPEGs for nobody is wasted time.
    bool wants_frames() const;
    void publish_frame(std::string jpeg);
    void publish_json(std::string line);  // one JSON object, no newline
    // What clients were sent so far: MJPEG frames (/stream.mjpg) and JSON records (/json answers with
    // a frame's record, lines of /json.stream and of a Darknet JSON server).
    struct Sent {
        std::uint64_t frames = 0, json_records = 0;
    };
    Sent sent() const;
    // Ends the streams (clients see the end of the response) and stops listening.
    void close();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace lenet::detect
