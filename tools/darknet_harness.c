// Darknet's side of scripts/check_darknet.sh: runs a cfg with Debian's libdarknet (pjreddie's
// Darknet, 2018-09-14) and writes what lenet's `detector test -dump` writes for the same input, so
// the two can be compared number by number. Not part of lenet's build: libdarknet is no dependency.
//
//   darknet_harness run <cfg> <weights|random> <out dir> [-seed s] [-save w] [-thresh t] [-nms n] <image...>
//   darknet_harness crop <image> <x> <y> <w> <h> <out.png>
//
// run: the image files must already be at the network's size. They are read with Darknet's own
// loader (load_image_color, no resize) and their floats go straight to network_predict, so no
// letterbox or resize touches them. Per image, into <out dir>:
//   <stem>.input.f32       the input floats (CHW)
//   <stem>.layer<i>.f32    l.output of each [yolo] layer i (l.outputs floats, batch 1)
//   <stem>.boxes.txt       after get_network_boxes (relative) and do_nms_sort: one line per
//                          detection and class with prob > thresh: index class prob x y w h,
//                          index = the candidate's place in get_network_boxes' order
// `random`: Darknet's initialization after srand(seed) (weights scale * rand_normal()), then, since
// Darknet starts batch norm with rolling mean and variance 0 (which at inference divides by
// 1e-6 per layer and overflows), random biases and scales and rolling statistics taken from one
// training-mode forward pass over the first image; -save writes the result with save_weights.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "darknet.h"

void forward_network(network *net);  // in libdarknet, not in darknet.h

static void die(const char *message, const char *what) {
    fprintf(stderr, "darknet_harness: %s%s\n", message, what ? what : "");
    exit(1);
}

static void write_floats(const char *dir, const char *stem, const char *name, const float *x, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%s.f32", dir, stem, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(x, sizeof(float), n, f) != n || fclose(f)) die("cannot write ", path);
}

// The file name without folder and extension.
static void stem_of(const char *path, char *stem, size_t size) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(stem, size, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot) *dot = 0;
}

static image load_at_size(network *net, const char *path) {
    image im = load_image_color((char *)path, 0, 0);  // w = h = 0: no resize
    if (im.w != net->w || im.h != net->h || im.c != net->c) {
        fprintf(stderr, "darknet_harness: %s is %dx%dx%d, the network takes %dx%dx%d\n", path, im.w, im.h, im.c,
                net->w, net->h, net->c);
        exit(1);
    }
    return im;
}

// Random biases and scales, then every batch norm's rolling mean and variance set to the batch
// statistics of a training-mode forward pass over `input` (so the inference pass that follows
// sees activations of unit scale, as in a trained network).
static void randomize_batchnorm(network *net, float *input) {
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (l->type != CONVOLUTIONAL) continue;
        for (int k = 0; k < l->n; ++k) l->biases[k] = rand_uniform(-0.5f, 0.5f);
        if (l->batch_normalize)
            for (int k = 0; k < l->n; ++k) l->scales[k] = rand_uniform(0.5f, 1.5f);
    }
    network saved = *net;
    net->input = input;
    net->train = 1;
    net->delta = 0;
    forward_network(net);  // the [yolo] layers read net->truth: parse_network_cfg's zeros (no boxes)
    *net = saved;
    for (int i = 0; i < net->n; ++i) {
        layer *l = &net->layers[i];
        if (l->type != CONVOLUTIONAL || !l->batch_normalize) continue;
        memcpy(l->rolling_mean, l->mean, (size_t)l->n * sizeof(float));
        memcpy(l->rolling_variance, l->variance, (size_t)l->n * sizeof(float));
    }
}

static int run(int argc, char **argv) {
    if (argc < 4) die("run: expected <cfg> <weights|random> <out dir> [options] <image...>", 0);
    char *cfg = argv[1], *weights = argv[2], *dir = argv[3];
    unsigned seed = 1;
    const char *save = 0;
    float thresh = 0.25f, nms = 0.45f;
    int first_image = 4;
    while (first_image < argc && argv[first_image][0] == '-') {
        const char *key = argv[first_image];
        if (first_image + 1 >= argc) die("missing value for ", key);
        const char *value = argv[first_image + 1];
        if (!strcmp(key, "-seed")) seed = (unsigned)strtoul(value, 0, 10);
        else if (!strcmp(key, "-save")) save = value;
        else if (!strcmp(key, "-thresh")) thresh = strtof(value, 0);
        else if (!strcmp(key, "-nms")) nms = strtof(value, 0);
        else die("unknown option ", key);
        first_image += 2;
    }
    if (first_image >= argc) die("run: no images", 0);

    srand(seed);  // before parsing: the layers draw their initial weights while they are built
    network *net = parse_network_cfg(cfg);
    set_batch_network(net, 1);
    const int random = !strcmp(weights, "random");
    if (random) {
        image im = load_at_size(net, argv[first_image]);
        randomize_batchnorm(net, im.data);
        free_image(im);
    } else {
        load_weights(net, weights);
    }
    if (save) save_weights(net, (char *)save);

    for (int a = first_image; a < argc; ++a) {
        char stem[1024];
        stem_of(argv[a], stem, sizeof stem);
        image im = load_at_size(net, argv[a]);
        write_floats(dir, stem, "input", im.data, (size_t)im.w * im.h * im.c);
        network_predict(net, im.data);
        for (int i = 0; i < net->n; ++i) {
            layer l = net->layers[i];
            if (l.type != YOLO) continue;
            char name[64];
            snprintf(name, sizeof name, "layer%d", i);
            write_floats(dir, stem, name, l.output, (size_t)l.outputs * l.batch);
        }
        int count = 0;
        detection *dets = get_network_boxes(net, im.w, im.h, thresh, 0.5f, 0, 1, &count);
        int classes = count ? dets[0].classes : 0;
        // do_nms_sort reorders the candidates: each keeps its index in `mask`, which [yolo]
        // detections leave unused (null), and which is nulled again before free_detections.
        for (int i = 0; i < count; ++i) dets[i].mask = (float *)(size_t)(i + 1);
        if (nms > 0) do_nms_sort(dets, count, classes, nms);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.boxes.txt", dir, stem);
        FILE *f = fopen(path, "w");
        if (!f) die("cannot write ", path);
        int written = 0;
        for (int i = 0; i < count; ++i)
            for (int k = 0; k < classes; ++k) {
                if (!(dets[i].prob[k] > thresh)) continue;
                box b = dets[i].bbox;
                fprintf(f, "%d %d %.9g %.9g %.9g %.9g %.9g\n", (int)((size_t)dets[i].mask - 1), k, dets[i].prob[k], b.x,
                        b.y, b.w, b.h);
                ++written;
            }
        if (fclose(f)) die("cannot write ", path);
        fprintf(stderr, "darknet_harness: %s: %d candidates, %d boxes after NMS\n", argv[a], count, written);
        for (int i = 0; i < count; ++i) dets[i].mask = 0;
        free_detections(dets, count);
        free_image(im);
    }
    free_network(net);
    return 0;
}

// A crop of an image, saved as PNG (lossless, so both sides read the same bytes back).
static int crop(int argc, char **argv) {
    if (argc != 7) die("crop: expected <image> <x> <y> <w> <h> <out.png>", 0);
    image im = load_image_color(argv[1], 0, 0);
    image c = crop_image(im, atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    char base[4096];
    snprintf(base, sizeof base, "%s", argv[6]);
    size_t n = strlen(base);
    if (n < 4 || strcmp(base + n - 4, ".png")) die("crop: the output must end in .png: ", argv[6]);
    base[n - 4] = 0;  // save_image_options adds the extension
    save_image_options(c, base, PNG, 100);
    free_image(c);
    free_image(im);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "run")) return run(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "crop")) return crop(argc - 1, argv + 1);
    fprintf(stderr,
            "usage: darknet_harness run <cfg> <weights|random> <out dir> [-seed s] [-save w] [-thresh t] [-nms n] "
            "<image...>\n       darknet_harness crop <image> <x> <y> <w> <h> <out.png>\n");
    return 2;
}
