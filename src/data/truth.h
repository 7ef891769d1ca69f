// What a batch's images should produce, for the output layers' losses: a class label per image
// (classifiers) and, for detection, boxes per image.
#pragma once
#include <vector>

namespace lenet {

// One object: class and centre/size relative to the image (YOLO label files' convention).
struct Box {
    int cls = 0;
    float x = 0, y = 0, w = 0, h = 0;
};

// A view of one minibatch's truth; arrays hold n entries (or are null when a source has none).
struct Truth {
    int n = 0;
    const int* labels = nullptr;
    const std::vector<Box>* boxes = nullptr;
};

}  // namespace lenet
