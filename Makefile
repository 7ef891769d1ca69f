# The front door to the CMake build (CMakeLists.txt is the one source of truth); ./make.sh installs
# make itself first on a bare machine.
#   make          install missing Debian packages, build Release into build/
#   make train    ... then fetch MNIST and train cfg/lenet.cfg on it
#   make install  ... then install it (PREFIX=dir, else CMAKE_INSTALL_PREFIX): bin/lenet, the header,
#                 the library and its CMake package (README: Embedding lenet)
#   make test     ... then fetch MNIST and run every test, then the CUDA build (below), then the
#                 whole suite again built with AddressSanitizer + UndefinedBehaviorSanitizer, then
#                 the aarch64 cross build under qemu (what .ci/run runs)
#   make test-aarch64  the aarch64 cross build, its tests under qemu-aarch64 and the x86 <-> aarch64
#                 file check (scripts/test_aarch64.sh; installs the cross packages when missing)
#   make test-cuda  where nvcc is (PATH or /usr/local/cuda/bin): configure $(BUILD)-cuda with
#                 -DLENET_CUDA=ON, build lenet and the cuda test executables and run them (ctest -L
#                 cuda: the GPU tests, which report "Skipped" without a device, and the registry's
#                 host side); a failing CUDA build fails `make test`. The rest of the suite is the
#                 same as $(BUILD)'s and is not built twice. Without nvcc: a note, no failure.
BUILD ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# nvcc on PATH, else the toolkit's default place; empty when neither.
NVCC ?= $(shell command -v nvcc 2>/dev/null || { test -x /usr/local/cuda/bin/nvcc && echo /usr/local/cuda/bin/nvcc; })

.PHONY: all deps test-deps build install data train test test-fast test-cuda sanitize test-aarch64 clean

all: build

deps:
	@scripts/install_deps.sh

# The build's packages and what the tests drive (headless chromium).
test-deps:
	@scripts/install_deps.sh --test

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

data:
	@scripts/get_mnist.sh data/mnist

train: build data
	@mkdir -p results
	$(BUILD)/lenet train cfg/lenet.cfg data/mnist -log results/lenet_train.jsonl

test: test-fast test-cuda sanitize test-aarch64

test-fast: test-deps build data
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-cuda: deps data
ifneq ($(NVCC),)
	cmake -S . -B $(BUILD)-cuda -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DLENET_CUDA=ON -DCMAKE_CUDA_COMPILER=$(NVCC) $(CMAKE_FLAGS)
	cmake --build $(BUILD)-cuda -j $(JOBS) --target lenet lenet_cuda_tests lenet_cuda_host_tests
	cd $(BUILD)-cuda && ctest --output-on-failure -j $(JOBS) -L cuda
else
	@echo "make test-cuda: no nvcc on PATH or in /usr/local/cuda/bin: the CUDA build is not checked"
endif

sanitize: deps data
	cmake -S . -B $(BUILD)-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLENET_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD)-sanitize -j $(JOBS)
	cd $(BUILD)-sanitize && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# The x86 side of the file check is the native build.
test-aarch64: build data
	JOBS=$(JOBS) X86_LENET=$(BUILD)/lenet scripts/test_aarch64.sh $(BUILD)-aarch64

clean:
	rm -rf $(BUILD) $(BUILD)-sanitize $(BUILD)-aarch64 $(BUILD)-cuda
