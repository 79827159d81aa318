# Cross build for AWS Lambda arm64 (Graviton) on an x86_64 Debian: Debian's cross toolchain
# (crossbuild-essential-arm64) and its multiarch :arm64 -dev packages (libssl-dev:arm64,
# libboost-json1.81-dev:arm64, libboost-url1.81-dev:arm64), as scripts/install-deps arm64 installs.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Libraries and headers from the target's multiarch directories only; programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# Multiarch: find_library must look in /usr/lib/aarch64-linux-gnu, never the host's x86_64 one.
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu)
set(OPENSSL_ROOT_DIR /usr)
set(OPENSSL_CRYPTO_LIBRARY /usr/lib/aarch64-linux-gnu/libcrypto.a)
set(OPENSSL_SSL_LIBRARY /usr/lib/aarch64-linux-gnu/libssl.a)
set(OPENSSL_INCLUDE_DIR /usr/include)
