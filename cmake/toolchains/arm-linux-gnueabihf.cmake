# Cross build for 32-bit ARM (armhf: ARMv7-A, hard float) with Debian's g++-arm-linux-gnueabihf;
# ctest runs the binaries under qemu-arm. The NEON backend is AArch64 only (its kernels use the
# A64 by-lane FMA, across-vector adds and 32 q registers), so 32-bit builds run the reference
# kernels: the same code for ARMv7 boards and for ARMv6 ones such as the Raspberry Pi Zero.
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-linux-gnueabihf.cmake -DLENET_OPENCV=OFF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(LENET_CROSS_TRIPLE arm-linux-gnueabihf)
set(CMAKE_C_COMPILER ${LENET_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${LENET_CROSS_TRIPLE}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${LENET_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH /usr/${LENET_CROSS_TRIPLE} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Linked statically: the binaries run under qemu-user without the target's dynamic loader, and
# copy to any armhf Linux as they are. (Dynamically linked, qemu -L would load the cross
# toolchain's ld.so with the multiarch libc6:armhf that zlib1g-dev:armhf pulls in: two glibc builds
# mixed, and pthread_create hangs.)
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)
set(ZLIB_USE_STATIC_LIBS ON)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm -L /usr/${LENET_CROSS_TRIPLE})
