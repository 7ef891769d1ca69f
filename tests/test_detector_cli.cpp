// `lenet detector scenes` and `lenet detector anchors` end to end, and their errors.
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

struct Run {
    int exit_code;
    std::string out, err;
};

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

Run lenet(const fs::path& dir, const std::string& arguments) {
    const std::string command = "'" LENET_BINARY "' " + arguments + " >'" + (dir / "out.txt").string() + "' 2>'" +
                                (dir / "err.txt").string() + "'";
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, slurp(dir / "out.txt"), slurp(dir / "err.txt")};
}

}  // namespace

TEST_CASE("cli: lenet detector scenes and anchors", "[cli][scenes]") {
    const std::string mnist = LENET_SOURCE_DIR "/data/mnist";
    if (!fs::exists(mnist + "/t10k-images-idx3-ubyte") && !fs::exists(mnist + "/t10k-images-idx3-ubyte.gz"))
        FAIL("MNIST is missing from " << mnist << ": run scripts/get_mnist.sh (make test does)");
    const fs::path dir = fs::temp_directory_path() / ("lenet_detector_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string out = (dir / "scenes").string();
    Run run = lenet(dir, "detector scenes '" + mnist + "' '" + out + "' -split valid -count 8 -size 96 -seed 2");
    CHECK(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Matchers::Contains("wrote 8 valid scenes (96x96"));
    CHECK(fs::exists(out + "/images/valid/000007.jpg"));
    CHECK(fs::exists(out + "/labels/valid/000007.txt"));
    CHECK(fs::exists(out + "/digits.data"));
    // anchors reads train=: make the train list too.
    run = lenet(dir, "detector scenes '" + mnist + "' '" + out + "' -count 8 -size 96");
    CHECK(run.exit_code == 0);
    run = lenet(dir, "detector anchors '" + out + "/digits.data' -num 2 -width 96 -height 96");
    CHECK(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Matchers::Contains("anchors = "));
    // evaluate: the truths themselves as detections (score 0.9) give mAP 1; without one image's
    // file its digits are missed; a bad detection line is an error naming the file and line.
    fs::create_directories(dir / "det");
    int truths = 0, missed = 0;
    for (int i = 0; i < 8; ++i) {
        const std::string stem = "00000" + std::to_string(i);
        std::ifstream in(out + "/labels/valid/" + stem + ".txt");
        std::ofstream det(dir / "det" / (stem + ".txt"));
        for (std::string line; std::getline(in, line);) {
            det << line << " 0.9\n";
            ++truths;
            if (i == 3) ++missed;
        }
    }
    run = lenet(dir, "detector evaluate '" + out + "/digits.data' '" + (dir / "det").string() + "'");
    CHECK(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Matchers::Contains("mAP@0.50 = 1.0000"));
    CHECK_THAT(run.out, Catch::Matchers::Contains("mAP@0.5:0.95 = 1.0000"));
    CHECK_THAT(run.out, Catch::Matchers::Contains("TP " + std::to_string(truths) + ", FP 0, FN 0"));
    fs::remove(dir / "det" / "000003.txt");
    run = lenet(dir, "detector evaluate '" + out + "/digits.data' '" + (dir / "det").string() + "' -thresh 0.5");
    CHECK(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Matchers::Contains("(1 without a detection file"));
    CHECK_THAT(run.out, Catch::Matchers::Contains("TP " + std::to_string(truths - missed) + ", FP 0, FN " + std::to_string(missed)));
    { std::ofstream bad(dir / "det" / "000003.txt"); bad << "1 0.5 0.5 0.2 0.2\n"; }
    run = lenet(dir, "detector evaluate '" + out + "/digits.data' '" + (dir / "det").string() + "'");
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Matchers::Contains("000003.txt:1: expected 6 fields (class x_center y_center width height score), found 5"));
    run = lenet(dir, "detector scenes '" + mnist + "' '" + out + "' -split test");
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Matchers::Contains("-split test: expected train or valid"));
    run = lenet(dir, "detector scenes '" + mnist + "' '" + out + "' -size 8");
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Matchers::Contains("-size 8: expected an integer from 32 to 4096"));
    run = lenet(dir, "detector frobnicate");
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Matchers::Contains("unknown subcommand 'frobnicate'"));
    run = lenet(dir, "help detector");
    CHECK(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Matchers::Contains("lenet detector anchors <data>"));
    fs::remove_all(dir);
}
