// Box arithmetic for detection, with Darknet's conventions: boxes are centre form (x, y, w, h),
// either relative to the image (0..1) or in pixels; IoU, per-class NMS as Darknet's do_nms_sort,
// and the letterbox geometry with the mapping of boxes from network input back to the image.
#pragma once
#include <vector>

namespace lenet::detect {

struct Box {
    float x = 0, y = 0, w = 0, h = 0;  // centre and size
    float left() const { return x - w / 2; }
    float right() const { return x + w / 2; }
    float top() const { return y - h / 2; }
    float bottom() const { return y + h / 2; }
};

// One object of an image: its box and class. Label files, data sources ([yolo]'s loss reads these
// through lenet::Truth) and the evaluation (detect/map.h) share it.
struct Truth {
    Box box;
    int cls = 0;
};

Box box_from_corners(float left, float top, float right, float bottom);

// Overlap area (0 when the boxes do not meet), and intersection over union (0 when either box is
// empty: Darknet returns 0 rather than 0/0).
float intersection(const Box& a, const Box& b);
float iou(const Box& a, const Box& b);

// One candidate from a detector head: its box, objectness, and one score per class (Darknet's
// prob[k] = objectness * class probability, already zeroed where below the threshold).
struct Detection {
    Box box;
    float objectness = 0;
    std::vector<float> prob;
};

// Darknet's do_nms_sort: candidates with objectness 0 take no part; for each class, candidates are
// ordered by that class's score (descending; equal scores keep their input order in class 0, and
// in class k are ordered by the scores of classes k-1, k-2, ..., then input order: one list
// stable-sorted in place class after class, as Darknet sorts, whose qsort leaves ties in no defined
// order), and every lower-scored candidate whose box overlaps a kept one by IoU > thresh gets that
// class's score set to 0. Unlike Darknet the vector is not reordered. Cost: per class, a sort of the
// candidates with that class's score and a test of the pairs among them whose boxes meet.
void nms_sort(std::vector<Detection>& detections, float thresh);
// Darknet's do_nms_obj: the same over objectness, class-agnostic; a suppressed candidate loses its
// objectness and every class score.
void nms_objectness(std::vector<Detection>& detections, float thresh);

// Darknet's letterbox: the image is scaled to fit the network input with its aspect ratio kept
// (the scaled side computed in integers, as Darknet does), and embedded at integer offset (dx, dy);
// the rest is padding (grey 0.5 in Darknet).
struct Letterbox {
    int image_w = 0, image_h = 0;  // original image
    int net_w = 0, net_h = 0;      // network input
    int new_w = 0, new_h = 0;      // the scaled image inside the input
    int dx = 0, dy = 0;            // where it is embedded
};
Letterbox letterbox_geometry(int image_w, int image_h, int net_w, int net_h);
// A plain resize to the input (Darknet without letterbox): new_w = net_w, new_h = net_h.
Letterbox stretch_geometry(int image_w, int image_h, int net_w, int net_h);

// Darknet's correct_yolo_boxes: a box relative to the network input -> relative to the original
// image (relative = true) or in its pixels. Darknet subtracts the padding as (net - new) / 2 in
// floating point, while the image sits at the integer offset floor((net - new) / 2): with an odd
// padding the two differ by half an input pixel. lenet keeps Darknet's formula, so that its boxes
// equal Darknet's.
Box network_to_image(const Box& box, const Letterbox& geometry, bool relative);
// The exact inverse of network_to_image: a box relative to the image (relative = true) or in its
// pixels -> relative to the network input. For training labels on letterboxed images.
Box image_to_network(const Box& box, const Letterbox& geometry, bool relative);

}  // namespace lenet::detect
