# Our own code gets strict warnings through this target; third-party headers stay out of -Werror
# because Boost and SQLite are included as SYSTEM by their imported targets.
add_library(dinex_warnings INTERFACE)
target_compile_options(dinex_warnings INTERFACE -Wall -Wextra -Wpedantic -Werror -Wshadow
                                                -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
                                                -Wconversion -Wno-sign-conversion)

add_library(dinex_hardening INTERFACE)
if(CMAKE_BUILD_TYPE STREQUAL "Release" OR CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo")
  target_compile_options(dinex_hardening INTERFACE -D_FORTIFY_SOURCE=2 -fstack-protector-strong
                                                   -fstack-clash-protection)
  # Control-flow protection is per instruction set: CET on x86_64, BTI + pointer authentication
  # on aarch64 (the arm64 Lambda package, cmake/toolchains/aarch64-linux-gnu.cmake).
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    target_compile_options(dinex_hardening INTERFACE -mbranch-protection=standard)
  else()
    target_compile_options(dinex_hardening INTERFACE -fcf-protection)
  endif()
  target_link_options(dinex_hardening INTERFACE -Wl,-z,relro -Wl,-z,now)
endif()
target_link_libraries(dinex_warnings INTERFACE dinex_hardening)

if(DINEX_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# Boost's debug assertions go through one handler (src/boost_assert_handler.hpp) that aborts as
# assert() does, but lets pass the one assertion Beast 1.81 makes wrongly. Every target, so that
# each translation unit instantiates Beast's templates the same way.
add_compile_definitions(BOOST_ENABLE_ASSERT_DEBUG_HANDLER)
add_compile_options("SHELL:-include ${PROJECT_SOURCE_DIR}/src/boost_assert_handler.hpp")
