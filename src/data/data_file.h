// Darknet's .data files (`classes=10`, `train=`, `valid=`, `names=`, `backup=`), the names file
// (one class name per line) and image lists (one path per line). Paths are kept as written:
// Darknet resolves them against the working directory, not the .data file's.
#pragma once
#include <string>
#include <vector>

namespace lenet {

struct DataFile {
    std::string path;
    int classes = 0;
    std::string train, valid, names, backup = "backup/";
    // Keys Darknet reads for other tools (eval, results, map, labels, top...), kept in order.
    std::vector<std::pair<std::string, std::string>> other;
};

// Errors name the file and line: "x.data:2: classes=abc: expected an integer from 1 to 100000".
DataFile parse_data_file(const std::string& text, const std::string& path);
DataFile read_data_file(const std::string& path);
// Non-blank lines, ends trimmed (CRLF files too). An empty list is an error naming the file.
std::vector<std::string> read_image_list(const std::string& path);
// The class names, one per line; their count must equal `classes` when classes > 0.
std::vector<std::string> read_names(const std::string& path, int classes);

}  // namespace lenet
