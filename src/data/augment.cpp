#include "data/augment.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace lenet {

namespace {

std::uint64_t splitmix(std::uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Darknet's rgb_to_hsv / hsv_to_rgb, h in [0, 1). Grey pixels (no chroma) get h = 0 where
// Darknet computes 0/0; s = 0 makes h unused either way.
void rgb_to_hsv(float r, float g, float b, float& h, float& s, float& v) {
    const float max = std::max({r, g, b}), min = std::min({r, g, b}), delta = max - min;
    v = max;
    if (max == 0 || delta == 0) {
        s = max == 0 ? 0 : delta / max;
        h = 0;
        return;
    }
    s = delta / max;
    if (r == max) h = (g - b) / delta;
    else if (g == max) h = 2 + (b - r) / delta;
    else h = 4 + (r - g) / delta;
    if (h < 0) h += 6;
    h /= 6;
}

void hsv_to_rgb(float h, float s, float v, float& r, float& g, float& b) {
    if (s == 0) {
        r = g = b = v;
        return;
    }
    h *= 6;
    const int index = int(std::floor(h));
    const float f = h - float(index);
    const float p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    switch (index) {
        case 0: r = v, g = t, b = p; break;
        case 1: r = q, g = v, b = p; break;
        case 2: r = p, g = v, b = t; break;
        case 3: r = p, g = q, b = v; break;
        case 4: r = t, g = p, b = v; break;
        default: r = v, g = p, b = q; break;
    }
}

}  // namespace

float rand_scale(Rng& rng, float s) {
    const float scale = rng.uniform(1, s);
    return rng.below(2) ? scale : 1 / scale;
}

void distort_image(detect::PlanarImage& im, float hue, float saturation, float exposure) {
    const std::size_t plane = std::size_t(im.w) * std::size_t(im.h);
    if (im.c == 1) {
        for (float& v : im.data) v = std::clamp(v * exposure, 0.0f, 1.0f);
        return;
    }
    LENET_CHECK(im.c == 3, "distort_image: ", im.c, " channels");
    float* r = im.data.data();
    float* g = r + plane;
    float* b = g + plane;
    for (std::size_t i = 0; i < plane; ++i) {
        float h, s, v;
        rgb_to_hsv(r[i], g[i], b[i], h, s, v);
        s *= saturation;
        v *= exposure;
        h += hue;
        if (h >= 1) h -= 1;  // Darknet: h > 1, which leaves h = 1 to hsv_to_rgb's last sector (magenta)
        if (h < 0) h += 1;
        hsv_to_rgb(h, s, v, r[i], g[i], b[i]);
        r[i] = std::clamp(r[i], 0.0f, 1.0f);
        g[i] = std::clamp(g[i], 0.0f, 1.0f);
        b[i] = std::clamp(b[i], 0.0f, 1.0f);
    }
}

void flip_image(detect::PlanarImage& im) {
    for (int k = 0; k < im.c; ++k)
        for (int y = 0; y < im.h; ++y) {
            float* row = &im.at(0, y, k);
            std::reverse(row, row + im.w);
        }
}

detect::PlanarImage augment_detection(const detect::PlanarImage& image, const std::vector<detect::Truth>& truths,
                                      int net_w, int net_h, const Augmentation& a, Rng& rng,
                                      std::vector<detect::Truth>& boxes) {
    const int ow = image.w, oh = image.h;
    LENET_CHECK(ow > 0 && oh > 0 && a.jitter >= 0 && a.jitter < 0.5f, "augment_detection: ", ow, "x", oh,
                ", jitter ", a.jitter);
    // The draws, always all of them and in this order (Darknet's order).
    const int dw = int(a.jitter * float(ow)), dh = int(a.jitter * float(oh));
    const int pleft = int(rng.uniform(float(-dw), float(dw)));
    const int pright = int(rng.uniform(float(-dw), float(dw)));
    const int ptop = int(rng.uniform(float(-dh), float(dh)));
    const int pbot = int(rng.uniform(float(-dh), float(dh)));
    const float dhue = rng.uniform(-a.hue, a.hue);
    const float dsat = rand_scale(rng, a.saturation);
    const float dexp = rand_scale(rng, a.exposure);
    const bool flip = rng.below(2) != 0 && a.flip;

    // |p| < jitter * side < side / 2, so the crop keeps at least one pixel.
    const int sw = std::max(1, ow - pleft - pright), sh = std::max(1, oh - ptop - pbot);
    detect::PlanarImage crop{sw, sh, image.c,
                             std::vector<float>(std::size_t(sw) * std::size_t(sh) * std::size_t(image.c), 0.5f)};
    const int x0 = std::max(0, -pleft), x1 = std::min(sw, ow - pleft);
    for (int k = 0; k < image.c; ++k)
        for (int y = 0; y < sh; ++y) {
            const int sy = y + ptop;
            if (sy < 0 || sy >= oh || x0 >= x1) continue;
            const float* from = image.data.data() + (std::size_t(k) * std::size_t(oh) + std::size_t(sy)) * std::size_t(ow);
            std::copy(from + x0 + pleft, from + x1 + pleft, &crop.at(x0, y, k));
        }

    detect::Letterbox geometry;
    detect::PlanarImage out = detect::letterbox_darknet(crop, net_w, net_h, &geometry);
    if (a.hue > 0 || a.saturation != 1 || a.exposure != 1) distort_image(out, dhue, dsat, dexp);
    if (flip) flip_image(out);

    // Darknet's correct_boxes, in pixels of the original: into the crop, clipped, then letterboxed.
    boxes.clear();
    for (const detect::Truth& t : truths) {
        const float left = (t.box.left() * float(ow) - float(pleft)) / float(sw);
        const float right = (t.box.right() * float(ow) - float(pleft)) / float(sw);
        const float top = (t.box.top() * float(oh) - float(ptop)) / float(sh);
        const float bottom = (t.box.bottom() * float(oh) - float(ptop)) / float(sh);
        const detect::Box clipped = detect::box_from_corners(std::clamp(left, 0.0f, 1.0f), std::clamp(top, 0.0f, 1.0f),
                                                             std::clamp(right, 0.0f, 1.0f), std::clamp(bottom, 0.0f, 1.0f));
        if (clipped.w < 0.001f || clipped.h < 0.001f) continue;
        detect::Box b = detect::image_to_network(clipped, geometry, true);
        if (flip) b.x = 1 - b.x;
        boxes.push_back({b, t.cls});
    }
    return out;
}

void rotate_image(const float* in, float* out, int w, int h, int c, float degrees) {
    const double radians = double(degrees) * 3.14159265358979323846 / 180.0;
    const float cos_a = float(std::cos(radians)), sin_a = float(std::sin(radians));
    const float cx = float(w - 1) / 2, cy = float(h - 1) / 2;
    const auto pixel = [&](const float* plane, int x, int y) {
        return x >= 0 && x < w && y >= 0 && y < h ? plane[std::size_t(y) * std::size_t(w) + std::size_t(x)] : 0.0f;
    };
    const std::size_t size = std::size_t(w) * std::size_t(h);
    for (int k = 0; k < c; ++k) {
        const float* plane = in + std::size_t(k) * size;
        float* to = out + std::size_t(k) * size;
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                const float u = float(x) - cx, v = float(y) - cy;
                const float rx = cos_a * u - sin_a * v + cx, ry = sin_a * u + cos_a * v + cy;
                const int ix = int(std::floor(rx)), iy = int(std::floor(ry));
                const float dx = rx - float(ix), dy = ry - float(iy);
                to[std::size_t(y) * std::size_t(w) + std::size_t(x)] =
                    (1 - dy) * (1 - dx) * pixel(plane, ix, iy) + dy * (1 - dx) * pixel(plane, ix, iy + 1) +
                    (1 - dy) * dx * pixel(plane, ix + 1, iy) + dy * dx * pixel(plane, ix + 1, iy + 1);
            }
    }
}

void rotate_batch(float* images, int n, Shape shape, const int* indices, std::uint64_t key, float angle) {
    if (angle <= 0) return;
    const std::size_t size = shape.size();
    std::vector<float> turned(size);
    for (int i = 0; i < n; ++i) {
        Rng rng = image_rng(key, indices[i]);
        float* image = images + std::size_t(i) * size;
        rotate_image(image, turned.data(), shape.w, shape.h, shape.c, rng.uniform(-angle, angle));
        std::copy(turned.begin(), turned.end(), image);
    }
}

Rng image_rng(std::uint64_t key, int index) { return Rng(splitmix(key ^ splitmix(std::uint64_t(index) + 1))); }

}  // namespace lenet
