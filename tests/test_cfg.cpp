// The cfg reader: valid files, and one bad file per kind of error with its file:line message.
#include <catch2/catch.hpp>

#include "cfg/cfg.h"
#include "core/error.h"
#include "net/network.h"

using namespace lenet;

namespace {

std::string build_error(const std::string& text) {
    try {
        BuildOptions build;
        build.threads = 1;
        Network::from_sections(parse_cfg(text, "bad.cfg"), build);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

const char* kNet = "[net]\nbatch=4\nwidth=8\nheight=8\nchannels=1\n";

}  // namespace

TEST_CASE("cfg: sections, keys, comments and lists keep their lines", "[cfg]") {
    const auto sections = parse_cfg("# comment\n[net]\nbatch = 64 \n; another\n\n[convolutional]\nfilters=8\n"
                                    "steps=1, 2,3\n",
                                    "a.cfg");
    REQUIRE(sections.size() == 2);
    CHECK(sections[0].name == "net");
    CHECK(sections[0].line == 2);
    CHECK(sections[0].get_int("batch", 0) == 64);
    CHECK(sections[0].entries[0].line == 3);
    CHECK(sections[1].get_int_list("steps") == std::vector<int>{1, 2, 3});
    CHECK(sections[1].get_int("missing", 7) == 7);
    CHECK(sections[1].get_float("filters", 0) == 8.0f);
}

TEST_CASE("cfg: the shipped cfg/lenet.cfg builds the seed network", "[cfg]") {
    BuildOptions build;
    build.threads = 1;
    auto net = Network::from_cfg_file(LENET_SOURCE_DIR "/cfg/lenet.cfg", build);
    REQUIRE(net->layer_count() == 7);
    CHECK(net->layer(0).output_shape() == Shape{32, 26, 26});
    CHECK(net->layer(1).output_shape() == Shape{32, 13, 13});
    CHECK(net->layer(2).output_shape() == Shape{32, 12, 12});
    CHECK(net->layer(3).output_shape() == Shape{32, 6, 6});
    CHECK(net->layer(4).output_shape() == Shape{500, 1, 1});
    CHECK(net->output_shape() == Shape{10, 1, 1});
    CHECK(net->options().adam);
    CHECK(net->options().batch == 128);
    CHECK(net->options().epochs == 10);
    std::size_t parameters = 0;
    for (const auto& p : net->params()) parameters += p.size;
    CHECK(parameters == 320 + 4128 + 576500 + 5010);
    const std::string table = net->summary_table();
    CHECK(table.find("26 x   26 x   32") != std::string::npos);
    CHECK(table.find("585958 parameters") != std::string::npos);
}

TEST_CASE("cfg: each kind of error names file, line and key", "[cfg]") {
    using Catch::Matchers::Contains;
    CHECK_THAT(build_error(std::string(kNet) + "[convolutional]\nfilters=abc\nsize=3\n"),
               Contains("bad.cfg:7: [convolutional] filters=abc: expected an integer"));
    CHECK_THAT(build_error(std::string(kNet) + "[convolutional]\nfilters=2\nsize=3\nbogus=1\n"),
               Contains("bad.cfg:9: [convolutional] bogus=1: unknown key"));
    CHECK_THAT(build_error(std::string(kNet) + "[convolution]\nfilters=2\n"),
               Contains("bad.cfg:6: [convolution]: unknown section"));
    CHECK_THAT(build_error("[net]\nbatch=4\nwidth=8\nheight=8\n[softmax]\n"),
               Contains("bad.cfg:1: [net]: width, height and channels are required"));
    CHECK_THAT(build_error(std::string(kNet) + "[convolutional]\nfilters=2\nsize=9\n"),
               Contains("bad.cfg:8: [convolutional] size=9: a 9x9 window does not fit"));
    CHECK_THAT(build_error(std::string(kNet) + "[convolutional]\nfilters=2\nactivation=swish\n"),
               Contains("bad.cfg:8: [convolutional] activation=swish: expected linear, relu"));
    CHECK_THAT(build_error(std::string(kNet) + "[connected]\noutput=10\nbatch_normalize=2\n"),
               Contains("bad.cfg:8: [connected] batch_normalize=2: expected 0 or 1"));
    CHECK_THAT(build_error(std::string(kNet) + "[connected]\noutput=10\noutput=11\n"),
               Contains("bad.cfg:8: [connected] output: duplicate key (first set on line 7)"));
    CHECK_THAT(build_error(std::string(kNet) + "[connected]\noutput=-3\n"),
               Contains("bad.cfg:7: [connected] output=-3: expected an integer from 1"));
    CHECK_THAT(build_error("[net]\nbatch=4\nsubdivisions=3\nwidth=8\nheight=8\nchannels=1\n[softmax]\n"),
               Contains("bad.cfg:3: [net] subdivisions=3: batch=4 is not a multiple"));
    CHECK_THAT(build_error("[convolutional]\nfilters=2\n"), Contains("bad.cfg:1: [convolutional]: the first section must be [net]"));
    CHECK_THAT(build_error(std::string(kNet)), Contains("bad.cfg:1: [net]: the cfg has no layers"));
    CHECK_THAT(build_error(std::string(kNet) + "filters\n"), Contains("bad.cfg:6: expected 'key=value'"));
    CHECK_THAT(build_error("batch=1\n[net]\n"), Contains("bad.cfg:1: key 'batch' before the first [section]"));
    CHECK_THAT(build_error(std::string(kNet) + "[net\n"), Contains("bad.cfg:6: malformed section header"));
    CHECK_THAT(build_error("[net]\nbatch=4\nwidth=8\nheight=8\nchannels=1\npolicy=steps\n[softmax]\n"),
               Contains("bad.cfg:1: [net]: policy=steps needs steps="));
    CHECK_THAT(build_error("[net]\nbatch=4\nwidth=8\nheight=8\nchannels=1\nlearning_rate=1e\n[softmax]\n"),
               Contains("bad.cfg:6: [net] learning_rate=1e: expected a number"));
    CHECK_THAT(build_error(std::string(kNet) + "[convolutional]\nxnor=1\nxnor_scale=beta\n"),
               Contains("bad.cfg:8: [convolutional] xnor_scale=beta: expected k (XNOR-Net's input scale) or none"));
    CHECK_THAT(build_error(std::string(kNet) + "[connected]\nbinary=1\nxnor_scale=k\n"),
               Contains("bad.cfg:8: [connected] xnor_scale=k: only an XNOR layer (xnor=1) scales its inputs"));
}

TEST_CASE("cfg: xnor=1 is Darknet's XNOR unless xnor_scale=k says XNOR-Net's", "[cfg][binary]") {
    BuildOptions build;
    build.threads = 1;
    const std::string layers[] = {"[convolutional]\nxnor=1\nfilters=2\nsize=3\n",
                                  "[convolutional]\nxnor=1\nxnor_scale=none\nfilters=2\nsize=3\n",
                                  "[convolutional]\nxnor=1\nxnor_scale=k\nfilters=2\nsize=3\n",
                                  "[connected]\nxnor=1\noutput=2\n", "[connected]\nxnor=1\nxnor_scale=k\noutput=2\n"};
    const char* kinds[] = {"conv xnor", "conv xnor", "conv xnorK", "conn xnor", "conn xnorK"};
    for (int i = 0; i < 5; ++i) {
        auto net = Network::from_sections(parse_cfg(std::string(kNet) + layers[i], "x.cfg"), build);
        CHECK(net->layer(0).summary().kind == std::string(kinds[i]));
    }
}

TEST_CASE("cfg: absurd sizes are refused before anything is allocated", "[cfg]") {
    using Catch::Matchers::Contains;
    CHECK_THAT(build_error(std::string(kNet) + "[convolutional]\nfilters=1000000000\n"),
               Contains("bad.cfg:7: [convolutional] filters=1000000000: expected an integer from 1 to 65536"));
    CHECK_THAT(build_error(std::string(kNet) + "[connected]\noutput=16000000\n"),
               Contains("bad.cfg:7: [connected] output=16000000: 16000000 outputs from 64 inputs need"));
    CHECK_THAT(build_error("[net]\nbatch=64\nwidth=60000\nheight=60000\nchannels=3\n[convolutional]\nfilters=64\n"),
               Contains("bad.cfg:6: [convolutional]: the network would need"));
}

TEST_CASE("cfg: Darknet keys lenet does not use are accepted with a warning", "[cfg]") {
    const std::string text = "[net]\nbatch=4\nwidth=8\nheight=8\nchannels=1\naspect=.75\nmosaic=1\n"
                             "[convolutional]\nfilters=2\nsize=3\nflipped=1\nbin_output=1\n[softmax]\n";
    BuildOptions build;
    build.threads = 1;
    CHECK_NOTHROW(Network::from_sections(parse_cfg(text, "darknet.cfg"), build));
    // The aliases Darknet accepts for section names.
    CHECK_NOTHROW(Network::from_sections(
        parse_cfg("[network]\nwidth=4\nheight=4\nchannels=1\n[conv]\nfilters=1\n[max]\nsize=2\n[conn]\noutput=2\n[soft]\n",
                  "alias.cfg"),
        build));
}
