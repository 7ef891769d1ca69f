// Writes the binary seeds that need lenet itself to produce: valid .weights (Darknet's and lenet's old
// [batchnorm] layout) and packed files (versions 2 and 1) for fuzz_net.h's network, valid and damaged .state
// (fuzz_state/valid_v1 and valid_v2 are kept version-1 and version-2 files), IDX and small images (PNG, JPEG, BMP, PGM). Built and run by `scripts/fuzz.sh --regen-seeds`;
// argv[1] is the corpus root (fuzz/corpus).
#include <cstdio>
#include <string>

#include "data/idx.h"
#include "fuzz_net.h"
#include "io/atomic_file.h"
#include "io/train_state.h"

#include <opencv2/imgcodecs.hpp>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: gen_seeds CORPUS_DIR\n");
        return 2;
    }
    const std::string root = argv[1];
    auto net = lenet_fuzz::make_weights_net();
    const std::string w = net->weights_bytes(1234);
    lenet::write_file_atomically(root + "/fuzz_weights/valid", w);
    lenet::write_file_atomically(root + "/fuzz_weights/truncated_header", w.substr(0, 10));
    lenet::write_file_atomically(root + "/fuzz_weights/truncated_body", w.substr(0, w.size() - 5));
    lenet::write_file_atomically(root + "/fuzz_weights/trailing", w + "xyz");
    std::string old = w;  // major 0, minor 1: 32-bit seen
    old[4] = 1;
    old.erase(16, 4);
    lenet::write_file_atomically(root + "/fuzz_weights/old_minor1", old);
    // lenet's old layout: the [batchnorm]'s 2 biases after its three arrays. The conv before it holds
    // 26 floats (biases 2, batch norm 6, weights 18) and the [batchnorm] 6.
    const std::string biases("\0\0\0\x3f\0\0\x80\xbf", 8);  // 0.5, -1
    const std::size_t after_batchnorm = 4 * (26 + 6);
    lenet::write_file_atomically(root + "/fuzz_weights/old_batchnorm_layout",
                                 w.substr(0, 20 + after_batchnorm) + biases + w.substr(20 + after_batchnorm));
    // Packed seeds without their CRC: the target appends it.
    const std::string packed = net->weights_bytes(1234, true);
    lenet::write_file_atomically(root + "/fuzz_weights/packed_valid", packed.substr(0, packed.size() - 4));
    lenet::write_file_atomically(root + "/fuzz_weights/packed_truncated", packed.substr(0, packed.size() - 13));
    // Version 1: the biases inline (as above), no trailer of lenet-only values (u64 2 + 2 floats).
    std::string v1 = packed.substr(0, packed.size() - 4 - 8 - 8);
    v1[4] = 1;
    v1.insert(16 + after_batchnorm, biases);
    lenet::write_file_atomically(root + "/fuzz_weights/packed_v1", v1);

    lenet::TrainState state;
    state.seen = 1234;
    state.updates = 7;
    state.seed = 1;
    state.adam = true;
    state.moments = {0.5f, -1.0f, 2.0f, 0.0f};
    state.lenet_only = {0.25f, -0.5f};
    state.best_map = 0.4375;
    lenet::save_train_state(root + "/fuzz_state/valid", state);
    const std::string s = lenet::read_file(root + "/fuzz_state/valid");
    lenet::write_file_atomically(root + "/fuzz_state/truncated", s.substr(0, s.size() - 6));
    std::string bad_crc = s;
    bad_crc.back() ^= 0x55;
    lenet::write_file_atomically(root + "/fuzz_state/bad_crc", bad_crc);
    std::string huge = s;  // moment count 2^62
    huge[36 + 7] = 0x40;  // count is the u64 at offset 36
    lenet::write_file_atomically(root + "/fuzz_state/huge_count", huge);
    lenet::write_file_atomically(root + "/fuzz_state/bad_magic", "LNTX" + s.substr(4));

    lenet::IdxArray a;
    a.dims = {3, 2, 2};
    a.data = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255};
    lenet::write_idx(root + "/fuzz_idx/valid_3d", a);
    lenet::IdxArray labels;
    labels.dims = {4};
    labels.data = {1, 2, 3, 9};
    lenet::write_idx(root + "/fuzz_idx/valid_labels", labels);

    cv::Mat gray(3, 4, CV_8UC1);
    for (int i = 0; i < 12; ++i) gray.data[i] = static_cast<unsigned char>(i * 21);
    cv::Mat color(7, 5, CV_8UC3, cv::Scalar(10, 128, 250));
    const std::string img = root + "/fuzz_image/";
    cv::imwrite(img + "gray.png", gray);
    cv::imwrite(img + "color.png", color);
    cv::imwrite(img + "gray.jpg", gray);
    cv::imwrite(img + "gray.bmp", gray);
    cv::imwrite(img + "color.bmp", color);
    cv::imwrite(img + "gray.pgm", gray);
    const std::string png = lenet::read_file(img + "gray.png");
    lenet::write_file_atomically(img + "truncated.png", png.substr(0, png.size() / 2));
    const std::string jpg = lenet::read_file(img + "gray.jpg");
    lenet::write_file_atomically(img + "truncated.jpg", jpg.substr(0, jpg.size() / 2));
    return 0;
}
