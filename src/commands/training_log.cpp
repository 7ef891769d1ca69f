#include "commands/training_log.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace lenet {

namespace {

const char* const kScoreKeys[] = {"test_accuracy", "valid_map50"};

double finite_number(const nlohmann::json& line, const char* key, const std::string& where) {
    const auto it = line.find(key);
    if (it == line.end()) throw Error(cat(where, ": no \"", key, "\""));
    if (!it->is_number()) throw Error(cat(where, ": \"", key, "\" is ", it->dump(), ": expected a number"));
    const double value = it->get<double>();
    if (!std::isfinite(value)) throw Error(cat(where, ": \"", key, "\" is not finite"));
    return value;
}

}  // namespace

TrainingLog parse_training_log(std::string_view text, const std::string& source) {
    TrainingLog log;
    log.name = std::filesystem::path(source).stem().string();
    std::size_t line_number = 0;
    while (!text.empty()) {
        const std::size_t end = std::min(text.find('\n'), text.size());
        const std::string_view line = text.substr(0, end);
        text.remove_prefix(std::min(end + 1, text.size()));
        ++line_number;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        const std::string where = cat(source, ":", line_number);
        nlohmann::json object;
        try {
            object = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {
            throw Error(cat(where, ": not JSON (", e.what(), ")"));
        }
        if (!object.is_object()) throw Error(cat(where, ": expected a JSON object, one per line"));
        const auto epoch_it = object.find("epoch");
        if (epoch_it == object.end()) continue;  // a summary line
        if (!epoch_it->is_number_integer() || epoch_it->get<long long>() < 1)
            throw Error(cat(where, ": \"epoch\" is ", epoch_it->dump(), ": expected a positive integer"));
        EpochPoint point;
        point.epoch = epoch_it->get<long long>();
        point.train_loss = finite_number(object, "train_loss", where);
        for (const char* key : kScoreKeys) {
            if (!object.contains(key)) continue;
            if (!log.score_key.empty() && log.score_key != key)
                throw Error(cat(where, ": \"", key, "\" in a log whose earlier lines have \"", log.score_key, "\""));
            log.score_key = key;
            point.score = finite_number(object, key, where);
        }
        while (!log.points.empty() && log.points.back().epoch >= point.epoch) log.points.pop_back();
        log.points.push_back(point);
    }
    return log;
}

TrainingLog read_training_log(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(cat(path, ": cannot open the training log"));
    std::ostringstream text;
    text << in.rdbuf();
    TrainingLog log = parse_training_log(text.str(), path);
    if (log.points.empty()) throw Error(cat(path, ": no epoch lines (JSON objects with \"epoch\" and \"train_loss\")"));
    return log;
}

}  // namespace lenet
