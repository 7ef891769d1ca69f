#include "commands/commands.h"

namespace lenet {

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"train", "train a classifier from a cfg on an MNIST-format directory or a Darknet .data file",
         "usage: lenet train <cfg> <data> [options]\n"
         "  Trains the network in <cfg> on <data>: a directory of the four MNIST-format IDX files, or a\n"
         "  Darknet classifier .data file (classes=, train=/valid= image lists, labels= or names=,\n"
         "  backup=; an image's class is the label name in its path), evaluating on\n"
         "  the test split (valid=) after every epoch. Checkpoints: <backup>/<cfg name>_last.weights after every\n"
         "  epoch and on Ctrl-C/SIGTERM, <backup>/<cfg name>_final.weights at the end, each with a\n"
         "  .state file (optimizer moments, position) beside it.\n"
         "options:\n"
         "  -weights <file>     start from these weights (and their .state when it matches)\n"
         "  -resume             continue from <backup>/<cfg name>_last.weights if it exists\n"
         "  -clear              start counting from zero even when -weights has a seen count\n"
         "  -epochs <n>         train n epochs (overrides epochs=/max_batches= in the cfg)\n"
         "  -threads <n>        worker threads (default: all cores)\n"
         "  -seed <s>           seed for initial weights and shuffling (default: the cfg's seed=, else 1)\n"
         "  -backend <b>        a kernel table by name (reference, or one this CPU runs) or auto (default)\n"
         "  -gpu <n>            the cuda backend on device n (builds with -DLENET_CUDA=ON; -backend cuda is -gpu 0)\n"
         "  -log <file>         append one JSON line per epoch\n"
         "  -backup <dir>       checkpoint directory (default: the .data file's backup=, else backup)\n"
         "  -train-limit <n>    use only the first n training images\n"
         "  -test-limit <n>     use only the first n test images\n"
         "  -plot <file.png>    at the end, draw the log's loss and accuracy per epoch (lenet plot);\n"
         "                      without -log, the log is written beside it (<file>.jsonl)\n"
         "example:\n"
         "  lenet train cfg/lenet.cfg data/mnist -log results/lenet.jsonl -plot results/lenet.png\n",
         run_train},
        {"test", "accuracy, per-class accuracy and confusion matrix on a test split",
         "usage: lenet test <cfg> <weights> <data> [-batch n] [-threads n] [-backend b | -gpu n] [-limit n]\n"
         "                  [-float-binary]\n"
         "  <data>: an MNIST-format directory (its test split) or a .data file (its valid= list).\n"
         "  <weights> may be Darknet .weights or a packed file from `lenet export -binary`. XNOR layers\n"
         "  run on bit-packed kernels; -float-binary runs their float simulation instead (the same\n"
         "  predictions, bit for bit: a check of the packed path).\n"
         "example:\n"
         "  lenet test cfg/lenet.cfg backup/lenet_final.weights data/mnist\n",
         run_test},
        {"predict", "classify image files (PNG, JPEG, BMP, PNM, TIFF, WebP)",
         "usage: lenet predict <cfg> <weights> <image>... [-top k] [-invert] [-threads n] [-backend b | -gpu n]\n"
         "                     [-float-binary]\n"
         "  Each image is converted to the network's channels and letterboxed to its input size.\n"
         "  -invert maps pixel v to 1 - v: use it for dark digits on a light background (MNIST\n"
         "  digits are light on dark).\n"
         "example:\n"
         "  lenet predict cfg/lenet.cfg backup/lenet_final.weights digit.png -top 3\n",
         run_predict},
        {"summary", "print the network's layers, shapes, parameters and MFLOPs",
         "usage: lenet summary <cfg>\n"
         "example:\n"
         "  lenet summary cfg/lenet.cfg\n",
         run_summary},
        {"bench", "time each layer and the whole network, or the SGEMM alone",
         "usage: lenet bench <cfg> [-batch n] [-iters n] [-threads n] [-backend b | -gpu n] [-json] [-infer [-packed-only]]\n"
         "       lenet bench -gemm <n> [-iters n] [-threads n] [-backend b | -gpu n] [-json]\n"
         "       lenet bench -xnor c,h,w,filters,size,stride,pad [-iters n] [-threads n] [-backend b | -gpu n] [-json]\n"
         "       lenet bench -backends [-json]\n"
         "  Per layer: forward and backward milliseconds, GFLOP/s and percent of the machine's peak\n"
         "  (measured at start with FMA chains on every thread); then training (forward, backward,\n"
         "  optimizer) and inference images/s on random data; for XNOR layers, inference time on the\n"
         "  bit-packed kernels against their float simulation. -gemm times an n x n x n SGEMM on one\n"
         "  thread and on all, with percent of one core's peak. -xnor times one convolution of that\n"
         "  shape (batch 1) as float im2col + SGEMM and as XNOR (input packing included), alternately,\n"
         "  on one thread and on all. -infer (the default for cfgs with [yolo] layers) times inference\n"
         "  only: per-layer medians, XNOR layers bit-packed and (unless -packed-only) their float\n"
         "  simulation alternately, and the whole pass.\n"
         "  -backends lists the kernel tables built in and whether this machine runs each.\n"
         "  -json: one JSON object; each whole-run timing (train_step_ms, inference_ms, pass_ms, the -xnor\n"
         "  rows' float and xnor, the rates) as {unit, runs, median, min, max}.\n"
         "example:\n"
         "  lenet bench cfg/lenet.cfg -batch 128 -threads 2\n"
         "  lenet bench -xnor 128,56,56,128,3,1,1 -threads 1\n"
         "  lenet bench cfg/bench/yolov3-tiny_xnor.cfg -threads 2 -iters 50\n",
         run_bench},
        {"export", "write weights packed (1 bit per binary weight) or as Darknet float .weights",
         "usage: lenet export <cfg> <weights|none> <out> [-binary]\n"
         "  -binary writes lenet's packed format: binary and XNOR layers as alpha per filter plus one\n"
         "  bit per weight, float layers unchanged, a CRC-32 at the end. `lenet test`, `lenet predict`\n"
         "  and `lenet detector map` / `test` read it. Without -binary, writes Darknet .weights (also\n"
         "  from a packed file, whose binary weights come back as alpha * sign). `none` exports the\n"
         "  cfg's random initialization. Prints the sizes and their ratio.\n"
         "example:\n"
         "  lenet export cfg/lenet_xnor.cfg backup/lenet_xnor_final.weights lenet_xnor.packed -binary\n"
         "  lenet export cfg/yolo_digits_xnor.cfg backup/yolo_digits_xnor_best.weights yolo_digits_xnor.packed -binary\n",
         run_export},
        {"plot", "draw training curves (loss, accuracy or mAP per epoch) from JSON-lines logs as a PNG",
         "usage: lenet plot <log.jsonl>... -o <curves.png> [-title t] [-width 1200] [-height 500]\n"
         "  Draws each log's train loss (log scale when it spans more than a decade) and its test\n"
         "  accuracy or valid mAP@0.5 per epoch, one colour per log, named by the file's stem in the\n"
         "  legend. Logs: `lenet train -log`, `lenet detector train -log`, scripts/bench_torch.py's\n"
         "  output (one JSON object per line; lines without \"epoch\" are skipped). A log appended to\n"
         "  by several runs is drawn from its latest run.\n"
         "example:\n"
         "  lenet plot results/lenet.jsonl results/lenet_bwn.jsonl results/lenet_xnor.jsonl -o results/curves.png\n",
         run_plot},
        {"detect", "run a detector on a camera, video file, images or stream (window, JSON lines, video, HTTP)",
         "usage: lenet detect <cfg> <weights|none> <source> [options]\n"
         "       lenet detect <cfg> <weights|none> -c <camera index> [options]\n"
         "  <source>: a camera index (0), a V4L2 device (/dev/video0), a video file, an image, several\n"
         "  images or a .txt list of them, a stream URL (http://.../stream.mjpg, rtsp://...; RTSP over TCP\n"
         "  unless OPENCV_FFMPEG_CAPTURE_OPTIONS says otherwise) or a GStreamer pipeline ('... ! appsink').\n"
         "  Frames are read on their own thread. From a live source (camera, URL, pipeline) each detection\n"
         "  takes the newest frame and frames it had no time for are dropped and counted; a video file is\n"
         "  processed frame by frame, as fast as possible (-realtime: at the file's fps, as a live source).\n"
         "  At the end (or on Ctrl-C/SIGTERM) a summary goes to stderr: frames read, processed, dropped,\n"
         "  median FPS and median read-to-boxes latency; the exit code is 0.\n"
         "outputs:\n"
         "  a window with boxes, labels, scores and FPS when a display works (Esc or q closes it)\n"
         "  -json               one JSON line per frame on stdout: frame, timestamp, latency_ms, width,\n"
         "                      height, boxes [{class, name, score, left, top, right, bottom}] in pixels\n"
         "  -out <file.avi>     the annotated video (MJPG)\n"
         "  -http-port <n>      HTTP on -http-bind (default 127.0.0.1): / (page), /stream.mjpg (MJPEG),\n"
         "                      /json (latest line), /json.stream (lines as they come); port 0: any free\n"
         "  -json_port <n>      JSON lines in AlexeyAB's fields (frame_id, objects [{class_id, name,\n"
         "                      relative_coordinates {center_x, center_y, width, height}, confidence}])\n"
         "  -ext_output         each frame's boxes on stdout as AlexeyAB prints them\n"
         "options:\n"
         "  -names <file>       class names, one a line (default: class indices)\n"
         "  -thresh <t>         score threshold (default 0.25); -nms <t>: NMS IoU (default 0.45)\n"
         "  -frames <n>         stop after n processed frames\n"
         "  -nodisplay          no window even where a display exists\n"
         "  -reconnect          reopen a live source that drops, after 1 s, 2 s, 4 s, ... (at most 30 s)\n"
         "  -width <w> -height <h> -fps <f>   camera controls; -fourcc <code|none> (default MJPG)\n"
         "  -threads <n>        detector threads (default: all cores); -backend <b>; -float-binary\n"
         "  AlexeyAB's spellings: -c <index>, -dont_show (-nodisplay), -out_filename (-out),\n"
         "  -mjpeg_port (-http-port)\n"
         "example:\n"
         "  lenet detect cfg/yolo_digits.cfg backup/yolo_digits_best.weights 0 -names data/scenes/digits.names\n"
         "  lenet detect cfg/yolo_digits.cfg backup/yolo_digits_best.weights moving.avi -json -nodisplay -out boxes.avi\n"
         "  lenet detect cfg/yolo_digits.cfg backup/yolo_digits_best.weights http://127.0.0.1:8090/stream.mjpg -http-port 8091\n",
         run_detect},
        {"detector", "detection: digit scenes (scenes), anchors (anchors), mAP of saved detections (evaluate), train, map, test",
         "usage: lenet detector scenes <mnist dir> <out dir> [-count n] [-size 320] [-seed s] [-split train|valid]\n"
         "                             [-max-digits 5] [-format jpg|png] [-photos dir] [-video out.avi [-frames n]]\n"
         "  Writes digit scenes in Darknet's layout: <out>/images/<split>/NNNNNN.jpg (JPEG quality 95;\n"
         "  -format png: lossless, ~4x larger), one YOLO label file each in <out>/labels/<split>/ (class\n"
         "  x_center y_center width height, relative; boxes from the ink), the image list\n"
         "  <out>/<split>.txt, <out>/digits.data and <out>/digits.names.\n"
         "  1 to -max-digits MNIST digits per scene, 1/12 to 1/3 of the side, dark or light ink, on\n"
         "  procedural backgrounds (or crops of the .jpg/.png photos under -photos, e.g. Debian's\n"
         "  desktop-base in /usr/share/desktop-base), plus a few strokes and blobs that are not digits.\n"
         "  train scenes use MNIST's training digits, valid scenes its test digits. The same seed gives\n"
         "  the same files. -count defaults to 10000 (train) or 1000 (valid).\n"
         "  -video writes a clip of moving digits instead (MJPG AVI, 10 frames/s, -frames frames,\n"
         "  default 100) with its ground truth beside it as <name>.jsonl, one JSON line per frame.\n"
         "usage: lenet detector anchors <data> [-num 6] [-width 320] [-height 320] [-seed 1]\n"
         "  k-means (distance 1 - IoU, as AlexeyAB's calc_anchors) over the sizes of the boxes of the\n"
         "  train= list's label files, in pixels at the network size; prints a cfg anchors= line.\n"
         "usage: lenet detector evaluate <data> <detections dir> [-thresh 0.25] [-iou 0.5] [-skip-bad]\n"
         "  mAP of saved detections against the valid= list's labels: <detections dir>/<image stem>.txt\n"
         "  per image, lines `class x_center y_center width height score` (relative). Prints per class\n"
         "  AP@iou (VOC all-point, as AlexeyAB's detector map) and TP/FP/FN at score > thresh,\n"
         "  precision, recall, F1, and COCO's mAP@0.5:0.95. A missing file means no detections.\n"
         "usage: lenet detector train <data> <cfg> [-weights w] [-epochs n] [-threads n] [-backup dir] [-log file]\n"
         "                            [-seed s] [-backend b | -gpu n] [-train-limit n] [-valid-limit n] [-clear] [-resume] [-skip-bad]\n"
         "                            [-plot file.png]\n"
         "  Trains a [yolo] detector on a Darknet detection .data file (letterboxed images, YOLO labels);\n"
         "  mAP@0.5 on valid= after each epoch, checkpoints as lenet train, plus <cfg>_best.weights;\n"
         "  -plot draws loss and mAP per epoch at the end, as lenet train -plot.\n"
         "usage: lenet detector map <data> <cfg> <weights> [-thresh 0.25] [-iou 0.5] [-threads n] [-limit n] [-skip-bad]\n"
         "                          [-float-binary]\n"
         "  mAP@0.5 per class and mean, COCO's mAP@0.5:0.95, precision/recall at -thresh on valid=.\n"
         "usage: lenet detector test <data> <cfg> <weights|none> <image...> [-thresh 0.25] [-nms 0.45] [-out file.jpg]\n"
         "                           [-float-binary] [-dump dir]\n"
         "  Prints each image's boxes after NMS (class, score, pixels); -out draws them; -dump writes the input,\n"
         "  each [yolo] layer's raw output and the boxes to files, for scripts/check_darknet.sh.\n"
         "  map and test take Darknet .weights or a packed file from `lenet export -binary`; XNOR layers\n"
         "  run bit-packed, or with -float-binary as their float simulation (the same outputs, bit for bit).\n"
         "example:\n"
         "  lenet detector scenes data/mnist data/scenes -count 10000\n"
         "  lenet detector scenes data/mnist data/scenes -split valid -count 1000\n"
         "  lenet detector scenes data/mnist data/scenes -split valid -video data/scenes/moving.avi -frames 200\n"
         "  lenet detector anchors data/scenes/digits.data -num 6\n"
         "  lenet detector evaluate data/scenes/digits.data results/detections\n"
         "  lenet detector train data/scenes/digits.data cfg/yolo_digits.cfg -threads 2\n"
         "  lenet detector map data/scenes/digits.data cfg/yolo_digits.cfg backup/yolo_digits_best.weights\n"
         "  lenet detector test data/scenes/digits.data cfg/yolo_digits.cfg backup/yolo_digits_best.weights scene.jpg -out out.jpg\n",
         run_detector},
    };
    return table;
}

}  // namespace lenet
