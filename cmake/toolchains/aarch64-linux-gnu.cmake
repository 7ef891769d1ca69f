# Cross build for 64-bit ARM with Debian's g++-aarch64-linux-gnu (scripts/install_cross_deps.sh);
# ctest runs the binaries under qemu-aarch64 (Debian's qemu-user). OpenCV is not installed for
# the target, so configure with -DLENET_OPENCV=OFF (scripts/test_aarch64.sh does).
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DLENET_OPENCV=OFF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(LENET_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${LENET_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${LENET_CROSS_TRIPLE}-g++)
# Debian's cross compilers search the multiarch paths (/usr/include, /usr/lib/aarch64-linux-gnu)
# themselves; libraries of the target (zlib1g-dev:arm64) live there, so the host root is searched
# too, with the target's library architecture first.
set(CMAKE_LIBRARY_ARCHITECTURE ${LENET_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH /usr/${LENET_CROSS_TRIPLE} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Linked statically: the binaries run under qemu-user without the target's dynamic loader, and
# copy to any arm64 Linux as they are. (Dynamically linked, qemu -L would load the cross
# toolchain's ld.so with the multiarch libc6:arm64 that zlib1g-dev:arm64 pulls in: two glibc builds
# mixed, and pthread_create hangs.)
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)
set(ZLIB_USE_STATIC_LIBS ON)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/${LENET_CROSS_TRIPLE})
