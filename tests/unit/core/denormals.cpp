#include <catch2/catch.hpp>
#include <strata/core/denormals.hpp>

#include <cfloat>
#include <cmath>

using namespace strata;

namespace {
// Computed at run time so the compiler cannot fold it under its own FP assumptions.
float halve(float x) {
  volatile float v = x;
  return v * 0.5f;
}
}  // namespace

TEST_CASE("ScopedFlushDenormals flushes subnormals inside and restores the caller's state", "[unit][core]") {
  const float tiny = FLT_MIN;
  CHECK(std::fpclassify(halve(tiny)) == FP_SUBNORMAL);
  {
    const ScopedFlushDenormals guard;
#ifdef STRATA_HAS_MXCSR
    CHECK(halve(tiny) == 0.0f);
#endif
    {
      const ScopedFlushDenormals nested;  // already set: nothing to change or restore
#ifdef STRATA_HAS_MXCSR
      CHECK(halve(tiny) == 0.0f);
#endif
    }
#ifdef STRATA_HAS_MXCSR
    CHECK(halve(tiny) == 0.0f);
#endif
  }
  CHECK(std::fpclassify(halve(tiny)) == FP_SUBNORMAL);
  {
    const ScopedFlushDenormals off(false);
    CHECK(std::fpclassify(halve(tiny)) == FP_SUBNORMAL);
  }
}
