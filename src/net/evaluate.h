// Classification accuracy of a network over a data source, in batches of the network's max batch.
#pragma once
#include <vector>

#include "data/source.h"
#include "net/network.h"

namespace lenet {

struct Evaluation {
    int correct = 0;
    int total = 0;
    double loss = 0;  // mean cross-entropy
    std::vector<std::vector<int>> confusion;  // [truth][predicted]
    double accuracy() const { return total ? double(correct) / total : 0.0; }
};

Evaluation evaluate(Network& net, const DataSource& data);

// Checks that a network's input and output fit a data source; throws Error naming both otherwise.
void check_network_fits(const Network& net, const std::string& cfg_path, const DataSource& data);

}  // namespace lenet
