#pragma once
// Force-included into every translation unit (cmake/warnings.cmake) together with
// BOOST_ENABLE_ASSERT_DEBUG_HANDLER, so Boost's debug assertions (test and fuzz builds; release
// builds define NDEBUG and have none) end here. Every assertion still aborts, with its place and
// expression, except one that Boost.Beast 1.81 makes wrongly: a chunked body fed to the parser in
// small pieces ("0\r\n", then "\r", then "\n") reaches basic_parser::parse_chunk_header with 3 or 4
// bytes and asserts `n >= 5`, although the code after it answers need_more correctly (fixed
// upstream in Beast, boostorg/beast pull request 2861). The fuzzer found it with 1-byte reads; a
// client sending a chunked body byte by byte would stop an assertion-enabled server the same way.
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace boost {

inline void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file,
                                 long line) {
    if (std::strcmp(expr, "n >= 5") == 0 && std::strstr(file, "beast/http/impl/basic_parser.ipp") != nullptr)
        return;
    std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed%s%s\n", file, line, function, expr,
                 msg ? ": " : "", msg ? msg : "");
    std::abort();
}

inline void assertion_failed(char const* expr, char const* function, char const* file, long line) {
    assertion_failed_msg(expr, nullptr, function, file, line);
}

}  // namespace boost
