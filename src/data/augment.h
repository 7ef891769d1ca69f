// Darknet's detector data augmentation (data.c load_data_detection, image.c random_distort_image),
// one training image at a time:
//   jitter    crop each side by a random whole number of pixels in [-jitter*w, jitter*w] (a
//             negative crop pads; the pad is grey 0.5, as the letterbox's), which also changes
//             the aspect; the crop is then letterboxed into the network input
//   hue, saturation, exposure
//             in HSV: hue shifted by a uniform draw in [-hue, hue] (a fraction of the colour
//             circle, wrapping), saturation and value scaled by rand_scale(s), i.e. by 1..s or its
//             inverse with equal odds; clipped to [0, 1]. One-channel images have no hue or
//             saturation: only exposure applies to them. The letterbox's padding is distorted too
//             (Darknet distorts the whole input)
//   flip      a horizontal mirror with probability 1/2
// Boxes follow exactly: mapped into the crop, clipped to it, dropped when narrower or lower than
// 0.001 of it (Darknet's fill_truth_detection), then letterboxed and mirrored with the image.
// Every image draws the same eight numbers in the same order whatever is switched on, so turning
// colour changes on or off leaves the geometry of a seed's images as it was.
// Classifiers: [net] angle, a random rotation (rotate_batch).
#pragma once
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "core/shape.h"
#include "detect/box.h"
#include "detect/letterbox.h"

namespace lenet {

struct Augmentation {
    float jitter = 0;  // [yolo] jitter
    float hue = 0, saturation = 1, exposure = 1;  // [net]
    bool flip = false;                             // [net] flip
    bool active() const { return jitter > 0 || hue > 0 || saturation != 1 || exposure != 1 || flip; }
};

// Darknet's rand_scale: a draw from [1, s] (or [s, 1]), inverted with probability 1/2.
float rand_scale(Rng& rng, float s);

// Darknet's distort_image on a planar image in [0, 1] (3 channels: RGB through HSV; 1 channel:
// the value only, hue and saturation unused).
void distort_image(detect::PlanarImage& image, float hue, float saturation, float exposure);
// A left-right mirror.
void flip_image(detect::PlanarImage& image);

// `image` (any size) -> one augmented network input of net_w x net_h; `truths` are relative to
// `image`, the result's `boxes` relative to the network input (as DetectionSource's).
detect::PlanarImage augment_detection(const detect::PlanarImage& image, const std::vector<detect::Truth>& truths,
                                      int net_w, int net_h, const Augmentation& augmentation, Rng& rng,
                                      std::vector<detect::Truth>& boxes);

// Darknet's classifier rotation (rotate_crop_image at scale 1, no shift): each output pixel samples
// `in` bilinearly at the point turned by `degrees` about the image's centre, 0 outside the image.
// The centre is ((w - 1) / 2, (h - 1) / 2), where Darknet's w / 2 turns about a point half a pixel off.
void rotate_image(const float* in, float* out, int w, int h, int c, float degrees);
// [net] angle for classifier training: image i of a batch (CHW, `shape`) turned by a uniform draw
// in [-angle, angle] degrees from image_rng(key, indices[i]).
void rotate_batch(float* images, int n, Shape shape, const int* indices, std::uint64_t key, float angle);

// The generator for image `index` of a training batch drawn under `key` (a function of the seed
// and the epoch): independent of the batch the image is in, so prefetching and resume change nothing.
Rng image_rng(std::uint64_t key, int index);

}  // namespace lenet
