// What a batch's images should produce, for the output layers' losses: a class label per image
// (classifiers) and, for detection, boxes per image.
#pragma once
#include <vector>

#include "detect/box.h"

namespace lenet {

// A view of one minibatch's truth; arrays hold n entries (or are null when a source has none).
struct Truth {
    int n = 0;
    const int* labels = nullptr;
    // Per image: its objects, boxes relative to the network input (detect::Truth, as evaluation takes them).
    const std::vector<detect::Truth>* boxes = nullptr;
};

}  // namespace lenet
