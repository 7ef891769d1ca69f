# The front door to the CMake build (CMakeLists.txt is the one source of truth); ./make.sh installs
# make itself first on a bare machine.
#   make          install missing Debian packages, build Release into build/
#   make train    ... then fetch MNIST and train cfg/lenet.cfg on it
#   make install  ... then install it (PREFIX=dir, else CMAKE_INSTALL_PREFIX): bin/lenet, the header,
#                 the library and its CMake package (README: Embedding lenet)
#   make test     ... then fetch MNIST and run every test, then the whole suite again built with
#                 AddressSanitizer + UndefinedBehaviorSanitizer, then the aarch64 cross build under
#                 qemu (what .ci/run runs)
#   make test-aarch64  the aarch64 cross build, its tests under qemu-aarch64 and the x86 <-> aarch64
#                 file check (scripts/test_aarch64.sh; installs the cross packages when missing)
BUILD ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build install data train test test-fast sanitize test-aarch64 clean

all: build

deps:
	@scripts/install_deps.sh

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

test: test-fast sanitize test-aarch64

test-fast: build data
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

sanitize: deps data
	cmake -S . -B $(BUILD)-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLENET_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD)-sanitize -j $(JOBS)
	cd $(BUILD)-sanitize && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# The x86 side of the file check is the native build.
test-aarch64: build data
	JOBS=$(JOBS) X86_LENET=$(BUILD)/lenet scripts/test_aarch64.sh $(BUILD)-aarch64

clean:
	rm -rf $(BUILD) $(BUILD)-sanitize $(BUILD)-aarch64
