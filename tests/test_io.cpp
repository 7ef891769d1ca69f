// File formats: .weights and .state round trips and damaged files, IDX (raw and gzip) and its
// errors, atomic writes.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cfg/cfg.h"
#include "core/error.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "data/image.h"
#include "io/atomic_file.h"
#include "io/train_state.h"
#include "net/network.h"

using namespace lenet;
using Catch::Matchers::Contains;

namespace {

std::string scratch_dir() {
    const auto dir = std::filesystem::temp_directory_path() / ("lenet_test_io_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir.string();
}

std::unique_ptr<Network> small_net(std::uint64_t seed) {
    const std::string text = "[net]\nbatch=2\nwidth=6\nheight=6\nchannels=2\nseed=" + std::to_string(seed) +
                             "\n[convolutional]\nfilters=3\nsize=3\nbatch_normalize=1\nactivation=leaky\n"
                             "[maxpool]\nsize=2\n[connected]\noutput=5\nbatch_normalize=1\n[batchnorm]\n"
                             "[connected]\noutput=4\nactivation=linear\n[softmax]\n";
    BuildOptions build;
    build.threads = 1;
    return Network::from_sections(parse_cfg(text, "small.cfg"), build);
}

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace

TEST_CASE("weights: write then read restores every array and seen", "[io]") {
    const std::string dir = scratch_dir();
    auto a = small_net(7);
    // Make the batch-norm rolling statistics non-trivial.
    std::vector<float> input(2 * 72);
    for (std::size_t i = 0; i < input.size(); ++i) input[i] = float(i % 13) * 0.1f;
    a->forward(input.data(), 2, true);
    a->save_weights(dir + "/a.weights", 123456789012ull);

    auto b = small_net(99);
    CHECK(b->load_weights(dir + "/a.weights") == 123456789012ull);
    CHECK(b->weights_bytes(5) == a->weights_bytes(5));
    // Byte layout: 3 int32 + uint64 header, then conv: biases 3, scales 3, mean 3, var 3, weights 3*2*3*3.
    const std::string bytes = read_file(dir + "/a.weights");
    std::int32_t minor = 0;
    std::memcpy(&minor, bytes.data() + 4, 4);
    CHECK(minor == 2);
    const std::size_t conv = 3 * 4 + 54, connected1 = 5 + 5 * 12 + 15, batchnorm = 3 * 5, connected2 = 4 + 20;
    CHECK(bytes.size() == 20 + 4 * (conv + connected1 + batchnorm + connected2));
    const auto* a_out = a->forward(input.data(), 2, false);
    std::vector<float> expected(a_out, a_out + 8);
    const auto* b_out = b->forward(input.data(), 2, false);
    for (int i = 0; i < 8; ++i) CHECK(b_out[i] == expected[std::size_t(i)]);
    std::filesystem::remove_all(dir);
}

TEST_CASE("weights: truncated, oversized and foreign files give the offset and layer", "[io]") {
    const std::string dir = scratch_dir();
    auto net = small_net(1);
    const std::string good = net->weights_bytes(0);
    write_bytes(dir + "/short.weights", good.substr(0, 100));
    CHECK_THAT(error_of([&] { net->load_weights(dir + "/short.weights"); }),
               Contains(dir + "/short.weights: truncated at byte offset 68: layer 0 (conv, small.cfg:7) needs 216 bytes "
                              "for its weights but only 32 remain"));
    write_bytes(dir + "/long.weights", good + "xxxx");
    CHECK_THAT(error_of([&] { net->load_weights(dir + "/long.weights"); }),
               Contains("4 unexpected bytes at byte offset " + std::to_string(good.size())));
    write_bytes(dir + "/tiny.weights", "abc");
    CHECK_THAT(error_of([&] { net->load_weights(dir + "/tiny.weights"); }),
               Contains("tiny.weights: truncated at byte offset 0 in the header"));
    CHECK_THAT(error_of([&] { net->load_weights(dir + "/missing.weights"); }), Contains("missing.weights: cannot open"));
    std::filesystem::remove_all(dir);
}

// A CRC-32 appended to bytes, as the packed format ends.
std::string with_crc(std::string body) {
    const auto crc = std::uint32_t(crc32(0L, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size())));
    body.append(reinterpret_cast<const char*>(&crc), 4);
    return body;
}

TEST_CASE("packed weights: round trip, byte layout, and damaged files", "[io][binary]") {
    // XNOR-Net's layer (s(0) = +1) and Darknet's (s(0) = -1): the same layout.
    for (const std::string scale : {"k", "none"}) {
        INFO("xnor_scale=" << scale);
        const std::string dir = scratch_dir();
        const std::string text = "[net]\nbatch=2\nwidth=5\nheight=5\nchannels=3\n"
                                 "[convolutional]\nxnor=1\nxnor_scale=" + scale +
                                 "\nbatch_normalize=1\nfilters=2\nsize=3\nactivation=relu\n"
                                 "[connected]\nbinary=1\noutput=3\nactivation=linear\n";
        BuildOptions build;
        build.threads = 1;
        auto a = Network::from_sections(parse_cfg(text, "binary.cfg"), build);
        std::vector<float> input(2 * 75);
        for (std::size_t i = 0; i < input.size(); ++i) input[i] = float(int(i % 11) - 5) * 0.3f;
        a->forward(input.data(), 2, true);
        a->save_weights(dir + "/a.packed", 77, true);
        const std::string bytes = read_file(dir + "/a.packed");
        // "LNPK", version 2, seen; conv: biases, scales, mean, variance (2 each), alpha 2, 2 rows of
        // 27 bits = 1 word each; connected (3x3x2 = 18 inputs): biases 3, alpha 3, 3 rows of 1 word;
        // u64 count of lenet-only values (0 here); CRC.
        CHECK(bytes.substr(0, 4) == "LNPK");
        CHECK(bytes[4] == 2);
        CHECK(bytes.size() == 16 + (4 * 10 + 8 * 2) + (4 * 6 + 8 * 3) + 8 + 4);

        // Loading gives latent weights alpha * s(W): the same network function at inference.
        auto b = Network::from_sections(parse_cfg(text, "binary.cfg"), build);
        CHECK(b->load_weights(dir + "/a.packed") == 77);
        CHECK(b->weights_bytes(77, true) == a->weights_bytes(77, true));
        const float* a_out = a->forward(input.data(), 2, false);
        const std::vector<float> expected(a_out, a_out + 6);
        const float* b_out = b->forward(input.data(), 2, false);
        for (int i = 0; i < 6; ++i) CHECK(b_out[i] == expected[std::size_t(i)]);
        // Exported back to float, the weights are +-alpha per row.
        b->save_weights(dir + "/b.weights", 77);
        auto c = Network::from_sections(parse_cfg(text, "binary.cfg"), build);
        c->load_weights(dir + "/b.weights");
        CHECK(c->weights_bytes(77, true) == a->weights_bytes(77, true));

        // Damage: a flipped bit (CRC), a foreign version, bits past a row's end, truncation.
        std::string flipped = bytes;
        flipped[40] = char(flipped[40] ^ 1);
        write_bytes(dir + "/flipped.packed", flipped);
        CHECK_THAT(error_of([&] { b->load_weights(dir + "/flipped.packed"); }),
                   Contains("flipped.packed: byte offset " + std::to_string(bytes.size() - 4) + ": CRC-32 mismatch"));
        std::string version = bytes.substr(0, bytes.size() - 4);
        version[4] = 3;
        write_bytes(dir + "/version.packed", with_crc(version));
        CHECK_THAT(error_of([&] { b->load_weights(dir + "/version.packed"); }),
                   Contains("version.packed: byte offset 4: packed weights version 3"));
        // Version 1 (no count of lenet-only values) still loads.
        std::string v1 = bytes.substr(0, bytes.size() - 4 - 8);
        v1[4] = 1;
        write_bytes(dir + "/v1.packed", with_crc(v1));
        CHECK(b->load_weights(dir + "/v1.packed") == 77);
        CHECK(b->weights_bytes(77, true) == a->weights_bytes(77, true));
        std::string stray = bytes.substr(0, bytes.size() - 4);
        const std::size_t first_word = 16 + 4 * 10;  // conv row 0's sign word
        stray[first_word + 7] = char(0x80);           // bit 63 of a 27-bit row
        write_bytes(dir + "/stray.packed", with_crc(stray));
        CHECK_THAT(error_of([&] { b->load_weights(dir + "/stray.packed"); }),
                   Contains("stray.packed: byte offset " + std::to_string(first_word) + ": row 0 has sign bits set past its 27"));
        write_bytes(dir + "/short.packed", with_crc(bytes.substr(0, 60)));
        CHECK_THAT(error_of([&] { b->load_weights(dir + "/short.packed"); }),
                   Contains("short.packed: truncated at byte offset 56: layer 0 (" +
                            std::string(scale == "k" ? "conv xnorK" : "conv xnor") +
                            ", binary.cfg:6) needs 8 bytes for its sign bits but only 4 remain"));
        std::filesystem::remove_all(dir);
    }
}

TEST_CASE("train state: round trip, checksum and truncation", "[io]") {
    const std::string dir = scratch_dir();
    TrainState state;
    state.seen = 640;
    state.updates = 5;
    state.seed = 42;
    state.adam = true;
    state.moments = {1.5f, -2.0f, 3.25f};
    save_train_state(dir + "/x.state", state);
    const auto loaded = load_train_state(dir + "/x.state");
    REQUIRE(loaded);
    CHECK(loaded->seen == 640);
    CHECK(loaded->updates == 5);
    CHECK(loaded->seed == 42);
    CHECK(loaded->adam);
    CHECK(loaded->moments == state.moments);
    CHECK_FALSE(load_train_state(dir + "/none.state"));

    std::string bytes = read_file(dir + "/x.state");
    bytes[45] ^= 1;  // inside the moments
    write_bytes(dir + "/flipped.state", bytes);
    CHECK_THAT(error_of([&] { load_train_state(dir + "/flipped.state"); }), Contains("checksum mismatch"));
    write_bytes(dir + "/cut.state", read_file(dir + "/x.state").substr(0, 30));
    CHECK_THAT(error_of([&] { load_train_state(dir + "/cut.state"); }), Contains("cut.state: truncated at byte offset"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("IDX: raw and gzip round trip, and damaged files", "[io]") {
    const std::string dir = scratch_dir();
    IdxArray images;
    images.dims = {3, 2, 2};
    images.data = {0, 255, 128, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    write_idx(dir + "/train-images-idx3-ubyte", images);
    IdxArray labels;
    labels.dims = {3};
    labels.data = {7, 0, 9};
    write_idx(dir + "/train-labels-idx1-ubyte", labels);

    const IdxArray back = read_idx(dir + "/train-images-idx3-ubyte");
    CHECK(back.dims == images.dims);
    CHECK(back.data == images.data);

    // The same file gzip'd reads the same.
    const std::string raw = read_file(dir + "/train-labels-idx1-ubyte");
    gzFile gz = gzopen((dir + "/labels.gz").c_str(), "wb");
    gzwrite(gz, raw.data(), unsigned(raw.size()));
    gzclose(gz);
    CHECK(read_idx(dir + "/labels.gz").data == labels.data);

    // A dataset directory with gzip'd test files and raw train files.
    std::filesystem::copy_file(dir + "/train-images-idx3-ubyte", dir + "/t10k-images-idx3-ubyte");
    std::filesystem::copy_file(dir + "/labels.gz", dir + "/t10k-labels-idx1-ubyte.gz");
    const Dataset test = load_mnist(dir, "test");
    CHECK(test.count() == 3);
    CHECK(test.shape == Shape{1, 2, 2});
    float pixels[4];
    int label = 0;
    const int index = 0;
    test.gather(&index, 1, pixels, &label);
    CHECK(label == 7);
    CHECK(pixels[1] == Approx(1.0f));
    CHECK(pixels[2] == Approx(128.0f / 255.0f));

    write_bytes(dir + "/cut", raw.substr(0, raw.size() - 1));
    CHECK_THAT(error_of([&] { read_idx(dir + "/cut"); }),
               Contains("cut: truncated at byte offset 10: the header promises 3 data bytes"));
    std::string wrong = raw;
    wrong[0] = 1;
    write_bytes(dir + "/magic", wrong);
    CHECK_THAT(error_of([&] { read_idx(dir + "/magic"); }), Contains("magic: byte offset 0: bad magic number"));
    wrong = raw;
    wrong[2] = 0x0D;
    write_bytes(dir + "/type", wrong);
    CHECK_THAT(error_of([&] { read_idx(dir + "/type"); }), Contains("type: byte offset 2: element type 0xd"));
    labels.data = {7, 0, 12};
    write_idx(dir + "/train-labels-idx1-ubyte", labels);
    CHECK_THAT(error_of([&] { load_mnist(dir, "train"); }), Contains("byte offset 10: label 12 is not a digit"));
    CHECK_THAT(error_of([&] { load_mnist(dir + "/nowhere", "train"); }), Contains("nowhere: not a directory"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("atomic writes replace the whole file and leave no temporary", "[io]") {
    const std::string dir = scratch_dir();
    write_file_atomically(dir + "/f", "first");
    write_file_atomically(dir + "/f", "second version");
    CHECK(read_file(dir + "/f") == "second version");
    int files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++files;
    CHECK(files == 1);
    CHECK_THAT(error_of([&] { write_file_atomically(dir + "/no/such/dir/f", "x"); }), Contains("cannot create"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("images: only common formats reach the decoders", "[io]") {
    const std::string dir = scratch_dir();
    // Found by fuzz_image: 128 bytes then "DICM" made OpenCV hand the file to GDCM, which aborted.
    write_bytes(dir + "/dicom", std::string(128, '\xd5') + "#?RGDICM");
    CHECK_THAT(error_of([&] { load_image_for_network(dir + "/dicom", Shape{1, 28, 28}, false); }),
               Contains("dicom: byte offset 0: not a PNG, JPEG, BMP"));
    write_bytes(dir + "/empty.png", "");
    CHECK_THAT(error_of([&] { load_image_for_network(dir + "/empty.png", Shape{1, 28, 28}, false); }),
               Contains("empty.png: byte offset 0: not a PNG"));
    // A real 2x1 PGM goes through, letterboxed into the middle rows of a 4x4 input.
    write_bytes(dir + "/ok.pgm", std::string("P5\n2 1\n255\n") + char(255) + char(0));
    const std::vector<float> image = load_image_for_network(dir + "/ok.pgm", Shape{1, 4, 4}, false);
    CHECK(image[4] == Approx(1.0f));
    CHECK(image[0] == 0.0f);
    std::filesystem::remove_all(dir);
}

namespace {

// connected 2 -> 2, [batchnorm], connected 2 -> 1: a [batchnorm] in the middle of the file.
std::unique_ptr<Network> batchnorm_net() {
    const std::string text = "[net]\nbatch=1\nwidth=1\nheight=1\nchannels=2\n"
                             "[connected]\noutput=2\nactivation=linear\n[batchnorm]\n"
                             "[connected]\noutput=1\nactivation=linear\n";
    BuildOptions build;
    build.threads = 1;
    return Network::from_sections(parse_cfg(text, "bn.cfg"), build);
}

std::string floats_bytes(const std::vector<float>& values) {
    return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

// A Darknet 0.2 header with `seen`.
std::string darknet_header(std::uint64_t seen) {
    const std::int32_t version[3] = {0, 2, 0};
    return std::string(reinterpret_cast<const char*>(version), 12) +
           std::string(reinterpret_cast<const char*>(&seen), 8);
}

float forward_one(Network& net, std::vector<float> input) { return net.forward(input.data(), 1, false)[0]; }

// Captures std::cerr while alive.
struct CaptureCerr {
    std::ostringstream text;
    std::streambuf* old = std::cerr.rdbuf(text.rdbuf());
    ~CaptureCerr() { std::cerr.rdbuf(old); }
};

}  // namespace

TEST_CASE("batchnorm weights: Darknet's layout with a [batchnorm] in the middle, and the old layout", "[io]") {
    const std::string dir = scratch_dir();
    // connected 1: biases [0.5, -1], weights [[1, 0], [2, 1]]; [batchnorm]: scales [2, 1], rolling
    // mean [1, 1], rolling variance [4, 1]; connected 2: bias [0.1], weights [1, -1].
    const std::string first = floats_bytes({0.5f, -1, 1, 0, 2, 1});
    const std::string bn = floats_bytes({2, 1, 1, 1, 4, 1});
    const std::string last = floats_bytes({0.1f, 1, -1});
    write_bytes(dir + "/darknet.weights", darknet_header(9) + first + bn + last);
    auto net = batchnorm_net();
    {
        CaptureCerr err;
        CHECK(net->load_weights(dir + "/darknet.weights") == 9);
        CHECK(err.text.str().empty());
    }
    // x = [1, 2]: connected 1 gives [1.5, 3]; batchnorm (bias 0, as in Darknet)
    // 2 * 0.5 / sqrt(4 + 1e-5) = 0.49999938, 2 / sqrt(1 + 1e-5) = 1.99999; then 0.49999938 - 1.99999 + 0.1.
    CHECK(forward_one(*net, {1, 2}) == Approx(-1.3999906).margin(1e-6));
    CHECK(net->weights_bytes(9) == darknet_header(9) + first + bn + last);

    // lenet's old layout, biases [0.25, -0.5] after the three arrays: loads, with one warning.
    write_bytes(dir + "/old.weights", darknet_header(9) + first + bn + floats_bytes({0.25f, -0.5f}) + last);
    auto old = batchnorm_net();
    {
        CaptureCerr err;
        CHECK(old->load_weights(dir + "/old.weights") == 9);
        const std::string warning = err.text.str();
        CHECK_THAT(warning, Contains("old.weights: written by an older lenet"));
        CHECK(std::count(warning.begin(), warning.end(), '\n') == 1);
    }
    // 0.74999938 - 1.49999 + 0.1
    CHECK(forward_one(*old, {1, 2}) == Approx(-0.6499906).margin(1e-6));
    CHECK(old->lenet_only_values() == std::vector<float>{0.25f, -0.5f});
    // Saved again, it is in Darknet's layout, and its biases go to the .state sidecar.
    old->save_weights(dir + "/new.weights", 9);
    CHECK(read_file(dir + "/new.weights") == darknet_header(9) + first + bn + last);
    std::filesystem::remove_all(dir);
}

TEST_CASE("batchnorm biases survive .weights + .state and packed round trips, .state versions 1 and 2 still load", "[io]") {
    const std::string dir = scratch_dir();
    auto a = batchnorm_net();
    a->set_lenet_only_values({0.25f, -0.5f});
    const float expected = forward_one(*a, {1, 2});
    a->save_weights(dir + "/a.weights", 5);
    TrainState state;
    state.seen = 5;
    state.lenet_only = a->lenet_only_values();
    save_train_state(dir + "/a.weights.state", state);
    REQUIRE(load_train_state(dir + "/a.weights.state")->lenet_only == state.lenet_only);

    auto b = batchnorm_net();
    b->load_weights(dir + "/a.weights");
    CHECK(b->lenet_only_values() == std::vector<float>{0.25f, -0.5f});
    CHECK(forward_one(*b, {1, 2}) == expected);
    // A sidecar of another checkpoint (other seen) is not used.
    state.seen = 6;
    save_train_state(dir + "/a.weights.state", state);
    auto c = batchnorm_net();
    c->load_weights(dir + "/a.weights");
    CHECK(c->lenet_only_values() == std::vector<float>{0, 0});

    // Packed: the values follow the layers, with their count.
    a->save_weights(dir + "/a.packed", 5, true);
    auto d = batchnorm_net();
    d->load_weights(dir + "/a.packed");
    CHECK(d->lenet_only_values() == std::vector<float>{0.25f, -0.5f});
    CHECK(forward_one(*d, {1, 2}) == expected);

    // Version 4 ends with the training seconds; version 3 (the same bytes less them), 2 (less the
    // best mAP too) and 1 (less the lenet-only array too) still load, without what they lack.
    state.seen = 5;
    state.moments = {1.0f};
    state.lenet_only = {0.5f};
    state.best_map = 0.625;
    state.train_seconds = 812.5;
    save_train_state(dir + "/v4.state", state);
    const std::string v4 = read_file(dir + "/v4.state");
    CHECK(v4[4] == 4);
    REQUIRE(load_train_state(dir + "/v4.state")->best_map == 0.625);
    REQUIRE(load_train_state(dir + "/v4.state")->train_seconds == 812.5);
    auto older = [&](int version, std::size_t drop) {
        std::string bytes = v4.substr(0, v4.size() - 4 - drop);
        bytes[4] = char(version);
        const auto crc = std::uint32_t(crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), uInt(bytes.size())));
        bytes.append(reinterpret_cast<const char*>(&crc), 4);
        const std::string path = dir + "/v" + std::to_string(version) + ".state";
        write_bytes(path, bytes);
        return load_train_state(path);
    };
    const auto v3 = older(3, 8);
    REQUIRE(v3);
    CHECK(v3->best_map == 0.625);
    CHECK(v3->train_seconds == 0);
    const auto v2 = older(2, 8 + 8);
    REQUIRE(v2);
    CHECK(v2->lenet_only == std::vector<float>{0.5f});
    CHECK(v2->best_map == -1);
    const auto v1 = older(1, 8 + 8 + 8 + 4);
    REQUIRE(v1);
    CHECK(v1->seen == 5);
    CHECK(v1->moments == std::vector<float>{1.0f});
    CHECK(v1->lenet_only.empty());
    CHECK(v1->best_map == -1);
    CHECK_THAT(error_of([&] { older(5, 0); }), Contains("v5.state: byte offset 4: unsupported version 5"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("packed weights of an XNOR detector (route, upsample, batchnorm, two [yolo] heads) run bit for bit "
          "like its float simulation", "[io][binary][detector]") {
    const std::string dir = scratch_dir();
    const std::string cfg = LENET_SOURCE_DIR "/tests/cfg/test_yolo_tiny_xnor.cfg";
    BuildOptions train_build;
    train_build.threads = 1;
    auto a = Network::from_cfg_file(cfg, train_build);
    // Weights away from their initial values ([batchnorm] biases included), and rolling statistics
    // away from 0 and 1, from two training-mode forwards.
    Rng rng(11);
    for (const Param& p : a->params())
        for (std::size_t i = 0; i < p.size; ++i) p.value[i] = rng.uniform(-0.5f, 0.5f);
    std::vector<float> input(2 * 96 * 96);
    for (float& v : input) v = rng.uniform(0.0f, 1.0f);
    for (int pass = 0; pass < 2; ++pass) a->forward(input.data(), 2, true);
    a->save_weights(dir + "/d.weights", 9);
    save_lenet_only_state(dir + "/d.weights", 9, a->lenet_only_values());
    a->save_weights(dir + "/d.packed", 9, true);
    CHECK(std::filesystem::file_size(dir + "/d.packed") < std::filesystem::file_size(dir + "/d.weights"));

    // The [yolo] heads' raw outputs for one set of weights and kernels.
    const std::vector<int> heads = {12, 20};
    auto outputs = [&](const std::string& weights, bool packed_kernels) {
        BuildOptions build;
        build.threads = 1;
        build.inference = true;
        build.max_batch = 2;
        build.packed_binary = packed_kernels;
        auto net = Network::from_cfg_file(cfg, build);
        REQUIRE(net->output_layers() == heads);
        CHECK(net->load_weights(weights) == 9);
        net->forward(input.data(), 2, false);
        std::vector<std::vector<float>> out;
        for (int head : heads) {
            const float* o = net->output(head);
            out.emplace_back(o, o + 2 * net->layer(head).output_shape().size());
        }
        return out;
    };
    // The truth: the float .weights (latent binary weights) through the float simulation.
    const auto simulated = outputs(dir + "/d.weights", false);
    REQUIRE(simulated[0].size() == 2 * 12 * 12 * 30);
    REQUIRE(simulated[1].size() == 2 * 24 * 24 * 30);
    CHECK(outputs(dir + "/d.packed", true) == simulated);   // bit-packed kernels on the packed file
    CHECK(outputs(dir + "/d.packed", false) == simulated);  // the packed file through the simulation
    CHECK(outputs(dir + "/d.weights", true) == simulated);  // bit-packed kernels on the float file
    std::filesystem::remove_all(dir);
}
