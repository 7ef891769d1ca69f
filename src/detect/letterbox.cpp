#include "detect/letterbox.h"

#ifndef LENET_NO_OPENCV
#include <opencv2/imgproc.hpp>
#endif

#include "core/error.h"

namespace lenet::detect {

#ifndef LENET_NO_OPENCV
PlanarImage planar_from_mat(const cv::Mat& image, int channels) {
    if (image.depth() != CV_8U || (image.channels() != 1 && image.channels() != 3))
        throw Error(cat("detector input: expected an 8-bit image of 1 or 3 channels, got ", image.channels(), " channels"));
    if (channels != 1 && channels != 3) throw Error(cat("detector input: ", channels, " channels: expected 1 or 3"));
    cv::Mat converted;
    if (channels == 1 && image.channels() == 1)
        converted = image;
    else if (channels == 1)
        cv::cvtColor(image, converted, cv::COLOR_BGR2GRAY);
    else
        cv::cvtColor(image, converted, image.channels() == 1 ? cv::COLOR_GRAY2RGB : cv::COLOR_BGR2RGB);
    PlanarImage out{converted.cols, converted.rows, channels, {}};
    out.data.resize(std::size_t(out.w) * std::size_t(out.h) * std::size_t(channels));
    for (int y = 0; y < out.h; ++y) {
        const unsigned char* row = converted.ptr<unsigned char>(y);
        for (int x = 0; x < out.w; ++x)
            for (int k = 0; k < channels; ++k) out.at(x, y, k) = float(row[x * channels + k]) / 255.0f;
    }
    return out;
}
#endif

PlanarImage resize_darknet(const PlanarImage& im, int w, int h) {
    LENET_CHECK(w > 0 && h > 0 && im.w > 0 && im.h > 0);
    // Columns first into an intermediate of w x im.h, then rows, as Darknet does.
    PlanarImage part{w, im.h, im.c, std::vector<float>(std::size_t(w) * std::size_t(im.h) * std::size_t(im.c))};
    const float w_scale = w > 1 ? float(im.w - 1) / float(w - 1) : 0.0f;
    const float h_scale = h > 1 ? float(im.h - 1) / float(h - 1) : 0.0f;
    for (int k = 0; k < im.c; ++k)
        for (int r = 0; r < im.h; ++r)
            for (int c = 0; c < w; ++c) {
                if (c == w - 1 || im.w == 1) {
                    part.at(c, r, k) = im.at(im.w - 1, r, k);
                    continue;
                }
                const float sx = float(c) * w_scale;
                const int ix = int(sx);
                const float dx = sx - float(ix);
                part.at(c, r, k) = (1 - dx) * im.at(ix, r, k) + dx * im.at(ix + 1, r, k);
            }
    PlanarImage out{w, h, im.c, std::vector<float>(std::size_t(w) * std::size_t(h) * std::size_t(im.c))};
    for (int k = 0; k < im.c; ++k)
        for (int r = 0; r < h; ++r) {
            const float sy = float(r) * h_scale;
            const int iy = int(sy);
            const float dy = sy - float(iy);
            for (int c = 0; c < w; ++c) out.at(c, r, k) = (1 - dy) * part.at(c, iy, k);
            if (r == h - 1 || im.h == 1) continue;
            for (int c = 0; c < w; ++c) out.at(c, r, k) += dy * part.at(c, iy + 1, k);
        }
    return out;
}

PlanarImage letterbox_darknet(const PlanarImage& image, int net_w, int net_h, Letterbox* geometry, float fill) {
    const Letterbox g = letterbox_geometry(image.w, image.h, net_w, net_h);
    if (geometry) *geometry = g;
    const PlanarImage resized = resize_darknet(image, g.new_w, g.new_h);
    PlanarImage out{net_w, net_h, image.c, std::vector<float>(std::size_t(net_w) * std::size_t(net_h) * std::size_t(image.c), fill)};
    for (int k = 0; k < image.c; ++k)
        for (int y = 0; y < g.new_h; ++y)
            for (int x = 0; x < g.new_w; ++x) {
                const int tx = x + g.dx, ty = y + g.dy;
                if (tx >= 0 && tx < net_w && ty >= 0 && ty < net_h) out.at(tx, ty, k) = resized.at(x, y, k);
            }
    return out;
}

}  // namespace lenet::detect
