#include "data/image.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>
#include <initializer_list>

#include "core/error.h"

namespace lenet {

namespace {

// OpenCV sniffs many formats, and some of its decoders (DICOM through GDCM, GDAL rasters) abort
// the process on malformed files. lenet hands it only the common image formats, named by their
// leading bytes.
bool has_supported_image_signature(const std::string& path) {
    unsigned char head[12] = {};
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char*>(head), sizeof head);
    const auto n = in.gcount();
    auto starts = [&](std::initializer_list<int> bytes) {
        if (n < std::streamsize(bytes.size())) return false;
        int i = 0;
        for (int b : bytes)
            if (head[i++] != b) return false;
        return true;
    };
    return starts({0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}) || starts({0xFF, 0xD8, 0xFF}) || starts({'B', 'M'}) ||
           (n >= 2 && head[0] == 'P' && head[1] >= '1' && head[1] <= '6') || starts({'I', 'I', 0x2A, 0x00}) ||
           starts({'M', 'M', 0x00, 0x2A}) ||
           (n >= 12 && starts({'R', 'I', 'F', 'F'}) && head[8] == 'W' && head[9] == 'E' && head[10] == 'B' && head[11] == 'P');
}

}  // namespace

cv::Mat read_image_file(const std::string& path, int imread_flags) {
    if (!std::filesystem::exists(path)) throw Error(cat(path, ": no such file"));
    if (!has_supported_image_signature(path))
        throw Error(cat(path, ": byte offset 0: not a PNG, JPEG, BMP, PNM (PBM/PGM/PPM), TIFF or WebP image"));
    cv::Mat image;
    try {
        image = cv::imread(path, imread_flags);
    } catch (const cv::Exception& e) {
        throw Error(cat(path, ": cannot decode image: ", e.what()));
    }
    if (image.empty() || image.cols <= 0 || image.rows <= 0)
        throw Error(cat(path, ": cannot read as an image (unsupported format or damaged file)"));
    return image;
}

std::vector<float> load_image_for_network(const std::string& path, Shape shape, bool invert, float background) {
    if (shape.c != 1 && shape.c != 3)
        throw Error(cat(path, ": the network takes ", shape.c, "-channel input; images give 1 or 3 channels"));
    cv::Mat image = read_image_file(path, shape.c == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
    if (shape.c == 3) cv::cvtColor(image, image, cv::COLOR_BGR2RGB);

    // Letterbox: scale to fit, centre, fill the rest.
    const double scale = std::min(double(shape.w) / image.cols, double(shape.h) / image.rows);
    const int w = std::max(1, int(image.cols * scale + 0.5)), h = std::max(1, int(image.rows * scale + 0.5));
    cv::Mat resized;
    cv::resize(image, resized, cv::Size(w, h), 0, 0, scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
    cv::Mat floats;
    resized.convertTo(floats, shape.c == 1 ? CV_32FC1 : CV_32FC3, 1.0 / 255.0);
    if (invert) floats = 1.0 - floats;

    std::vector<float> out(shape.size(), background);
    const int x0 = (shape.w - w) / 2, y0 = (shape.h - h) / 2;
    for (int y = 0; y < h; ++y) {
        const float* row = floats.ptr<float>(y);
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < shape.c; ++c)
                out[(std::size_t(c) * shape.h + std::size_t(y0 + y)) * shape.w + std::size_t(x0 + x)] = row[x * shape.c + c];
    }
    return out;
}

}  // namespace lenet
