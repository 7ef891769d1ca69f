#include "detect/stream_server.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include <httplib.h>

#include "core/error.h"

namespace lenet::detect {

namespace {

using Item = std::shared_ptr<const std::string>;

// The newest item of one kind and its sequence number; stream handlers wait here for a newer one.
class Channel {
public:
    void publish(std::string item) {
        {
            std::lock_guard lock(mutex_);
            latest_ = std::make_shared<const std::string>(std::move(item));
            ++sequence_;
        }
        changed_.notify_all();
    }
    // The latest item newer than `seen` (and `seen` moves to it), or null after `wait` or close().
    Item wait_newer(std::uint64_t& seen, std::chrono::milliseconds wait) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, wait, [&] { return closed_ || sequence_ > seen; });
        if (closed_ || sequence_ <= seen) return nullptr;
        seen = sequence_;
        return latest_;
    }
    Item latest() const {
        std::lock_guard lock(mutex_);
        return latest_;
    }
    bool closed() const {
        std::lock_guard lock(mutex_);
        return closed_;
    }
    void close() {
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
        }
        changed_.notify_all();
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    Item latest_;
    std::uint64_t sequence_ = 0;
    bool closed_ = false;
};

constexpr auto kPoll = std::chrono::milliseconds(250);  // how often a waiting stream looks for close()

const char* const kPage = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>lenet detect</title>
<style>body{font-family:sans-serif;margin:1em;background:#222;color:#ddd}img{max-width:100%;border:1px solid #555}
pre{background:#111;padding:.5em;white-space:pre-wrap;max-height:30em;overflow:auto}</style></head>
<body><h3>lenet detect</h3><img src="/stream.mjpg" alt="stream"><p id="records">0 JSON records</p>
<pre id="json">waiting for a frame...</pre>
<script>
// Follows the JSON lines as they come (/json.stream), showing the latest; reconnects after a second.
let records = 0;
async function follow() {
  try {
    const reader = (await fetch('/json.stream', {cache: 'no-store'})).body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      text += decoder.decode(value, {stream: true});
      const lines = text.split('\n').filter((line, i, all) => i === all.length - 1 || line);
      text = lines.pop();
      if (!lines.length) continue;
      records += lines.length;
      document.getElementById('records').textContent = records + ' JSON records';
      document.getElementById('json').textContent = JSON.stringify(JSON.parse(lines[lines.length - 1]), null, 1);
    }
  } catch (e) {}
  setTimeout(follow, 1000);
}
follow();
</script></body></html>
)";

// A response that writes what the channel publishes until the client goes or the server closes.
// `frame` wraps one item for the wire (a multipart part, a line).
template <class Wrap>
void stream(httplib::Response& res, Channel& channel, const char* content_type, Wrap frame,
            std::atomic<std::uint64_t>& sent, std::atomic<int>* clients = nullptr) {
    res.set_header("Cache-Control", "no-cache, no-store");
    if (clients) ++*clients;
    auto seen = std::make_shared<std::uint64_t>(0);
    res.set_content_provider(
        content_type,
        [&channel, &sent, seen, frame](std::size_t, httplib::DataSink& sink) {
            if (channel.closed()) return false;
            const Item item = channel.wait_newer(*seen, kPoll);
            if (!item) return !channel.closed();  // nothing new yet: called again
            const std::string bytes = frame(*item);
            if (!sink.write(bytes.data(), bytes.size())) return false;
            ++sent;
            return true;
        },
        [clients](bool) {
            if (clients) --*clients;
        });
}

}  // namespace

struct StreamServer::Impl {
    httplib::Server server;
    std::string bind;
    int port = 0;
    Channel frames, json;
    std::atomic<int> frame_clients{0};
    std::atomic<std::uint64_t> frames_sent{0}, json_sent{0};
    std::thread thread;
    bool closed = false;
};

StreamServer::StreamServer(Kind kind, const std::string& bind, int port) : impl_(std::make_unique<Impl>()) {
    Impl& d = *impl_;
    d.bind = bind;
    auto line = [](const std::string& s) { return s + "\n"; };
    if (kind == Kind::Viewer) {
        d.server.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content(kPage, "text/html"); });
        d.server.Get("/stream.mjpg", [&d](const httplib::Request&, httplib::Response& res) {
            stream(res, d.frames, "multipart/x-mixed-replace; boundary=frame",
                   [](const std::string& jpeg) {
                       return "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + std::to_string(jpeg.size()) +
                              "\r\n\r\n" + jpeg + "\r\n";
                   },
                   d.frames_sent, &d.frame_clients);
        });
        d.server.Get("/json", [&d](const httplib::Request&, httplib::Response& res) {
            res.set_header("Cache-Control", "no-cache, no-store");
            if (const Item item = d.json.latest()) {
                res.set_content(*item + "\n", "application/json");
                ++d.json_sent;
            } else {
                res.status = 503;  // no frame processed yet
                res.set_header("Retry-After", "1");
                res.set_content("{\"error\":\"no frame yet\"}\n", "application/json");
            }
        });
        d.server.Get("/json.stream", [&d, line](const httplib::Request&, httplib::Response& res) {
            stream(res, d.json, "application/x-ndjson", line, d.json_sent);
        });
    } else {
        d.server.Get(R"(/.*)", [&d, line](const httplib::Request&, httplib::Response& res) {
            stream(res, d.json, "application/json", line, d.json_sent);
        });
    }
    if (port == 0) {
        d.port = d.server.bind_to_any_port(bind);
    } else {
        d.port = d.server.bind_to_port(bind, port) ? port : -1;
    }
    if (d.port < 0)
        throw Error(cat("cannot listen on ", bind, ":", port, " (the port is taken, or not an address of this machine)"));
    d.thread = std::thread([&d] { d.server.listen_after_bind(); });
    // httplib's stop() does nothing until the server runs: a close() that came first would leave
    // the thread listening and the join waiting for ever (a run over one image is that quick).
    for (int i = 0; i < 5000 && !d.server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

StreamServer::~StreamServer() { close(); }

int StreamServer::port() const { return impl_->port; }
const std::string& StreamServer::bind() const { return impl_->bind; }
bool StreamServer::wants_frames() const { return impl_->frame_clients.load() > 0; }
void StreamServer::publish_frame(std::string jpeg) { impl_->frames.publish(std::move(jpeg)); }
void StreamServer::publish_json(std::string line) { impl_->json.publish(std::move(line)); }
StreamServer::Sent StreamServer::sent() const { return {impl_->frames_sent.load(), impl_->json_sent.load()}; }

void StreamServer::close() {
    Impl& d = *impl_;
    if (d.closed) return;
    d.closed = true;
    // Streams first: stop() waits for the handler threads, and they end only when their stream does.
    d.frames.close();
    d.json.close();
    d.server.stop();
    if (d.thread.joinable()) d.thread.join();
}

}  // namespace lenet::detect
