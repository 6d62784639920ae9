#pragma once
// Shared by the libFuzzer targets in this folder. Each target feeds the input bytes to a
// reader's parse-from-bytes entry point and lets strata::error (every documented failure:
// data_error for malformed input) pass; anything else escaping, a sanitizer report, or an
// allocation over libFuzzer's -malloc_limit_mb (-rss_limit_mb by default) is a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <span>
#include <string_view>

#include <strata/core/error.hpp>

namespace strata::fuzz {

inline std::span<const unsigned char> bytes_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const unsigned char*>(data), size};
}

/// Runs `parse` and swallows the library's documented errors; everything else escapes
/// (an uncaught exception aborts, which libFuzzer reports as a crash).
template <class F>
void expect_ok_or_strata_error(F&& parse) {
  try {
    parse();
  } catch (const strata::error&) {
  }
}

/// An invariant of a successful parse; a violation is a crash with `what` on stderr.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "strata fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace strata::fuzz
