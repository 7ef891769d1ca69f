// Files that are either wholly old or wholly new: the bytes go to a temporary file beside the
// target, are flushed to disk, and the temporary is renamed over the target. A crash at any moment
// leaves the previous file intact.
#pragma once
#include <string>
#include <string_view>

namespace lenet {

void write_file_atomically(const std::string& path, std::string_view bytes);
std::string read_file(const std::string& path);

}  // namespace lenet
