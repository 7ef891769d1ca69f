#!/usr/bin/env python3
"""Serves an MJPEG stream of moving digits on loopback, for `lenet detect` benchmarks and soak runs.

  scripts/serve_mjpeg.py [--video clip.avi] [--port 8090] [--fps 90] [--size 640x480] [--loop-frames 120]

The frames are a loop: the video's (e.g. from `lenet detector scenes data/mnist tmp -split valid
-video tmp/moving.avi`), or digits drawn here moving over a textured background. They are resized
and JPEG-encoded once, at start, so the server's own cost per frame is a socket write and it keeps
its rate at 90+ frames/s. Every client sees the same frame at the same time (frame k is due at
start + k/fps); a client too slow to take a frame misses it, as from a camera.

/stream.mjpg (any path) is multipart/x-mixed-replace. Prints `serving http://127.0.0.1:PORT/stream.mjpg`
on stdout once listening (--port 0: a free port). Needs OpenCV's Python module (Debian:
python3-opencv; run it with /usr/bin/python3 where another python3 comes first on PATH).
"""
import argparse
import http.server
import socketserver
import sys
import time

try:
    import cv2
    import numpy as np
except ImportError as e:
    sys.exit(f"serve_mjpeg.py: {e}: install python3-opencv (and run this with /usr/bin/python3)")


def synthetic_frames(count, width, height):
    """Digits 0-9 drifting and bouncing over a fixed noisy gradient."""
    rng = np.random.default_rng(1)
    base = np.tile(np.linspace(40, 160, width, dtype=np.float32), (height, 1))
    base = (base + rng.normal(0, 12, (height, width))).clip(0, 255).astype(np.uint8)
    base = cv2.cvtColor(base, cv2.COLOR_GRAY2BGR)
    movers = [dict(digit=int(d), x=float(rng.uniform(0, width - 80)), y=float(rng.uniform(60, height - 20)),
                   vx=float(rng.uniform(-5, 5)), vy=float(rng.uniform(-4, 4)), scale=float(rng.uniform(1.5, 3.5)))
              for d in rng.choice(10, 4, replace=False)]
    frames = []
    for _ in range(count):
        frame = base.copy()
        for m in movers:
            cv2.putText(frame, str(m["digit"]), (int(m["x"]), int(m["y"])), cv2.FONT_HERSHEY_SIMPLEX, m["scale"],
                        (255, 255, 255), int(2 * m["scale"]), cv2.LINE_AA)
            m["x"] += m["vx"]
            m["y"] += m["vy"]
            if not 0 <= m["x"] <= width - 30 * m["scale"]:
                m["vx"] = -m["vx"]
            if not 30 * m["scale"] <= m["y"] <= height:
                m["vy"] = -m["vy"]
        frames.append(frame)
    return frames


def video_frames(path, count, width, height):
    capture = cv2.VideoCapture(path)
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR))
    if not frames:
        sys.exit(f"serve_mjpeg.py: {path}: no frames could be read")
    return frames


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", help="loop this video's frames (default: digits drawn here)")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--fps", type=float, default=90.0)
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--loop-frames", type=int, default=120, help="frames in the loop")
    parser.add_argument("--quality", type=int, default=85)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    raw = video_frames(args.video, args.loop_frames, width, height) if args.video else \
        synthetic_frames(args.loop_frames, width, height)
    jpegs = [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, args.quality])[1].tobytes() for f in raw]
    start = time.monotonic()
    period = 1.0 / args.fps

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *_):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            k = int((time.monotonic() - start) / period)
            try:
                while True:
                    due = start + k * period
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    elif delay < -period:  # this client fell behind: skip to the current frame
                        k = int((time.monotonic() - start) / period)
                    jpeg = jpegs[k % len(jpegs)]
                    self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpeg))
                    self.wfile.write(jpeg)
                    self.wfile.write(b"\r\n")
                    k += 1
            except (BrokenPipeError, ConnectionResetError):
                pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server((args.bind, args.port), Handler)
    print(f"serving http://{args.bind}:{server.server_address[1]}/stream.mjpg "
          f"({len(jpegs)} frames {width}x{height} looped at {args.fps:g} fps)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
