#pragma once
// Subnormal floats cost a microcode assist (around 100 cycles) per operation on x86.
// They arise in training without anyone asking: Adam's first moment of a dead ReLU unit
// decays geometrically and gets stuck at a subnormal fixed point (0.9 * 4 ulp rounds back
// to 4 ulp), making every later optimizer pass several times slower. Inside a training
// step strata therefore sets flush-to-zero and denormals-are-zero, and restores the
// caller's floating-point state on exit. Only values below 1.2e-38 (float) or 2.2e-308
// (double) are affected.
#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#define STRATA_HAS_MXCSR 1
#endif

namespace strata {

/// RAII: flush subnormals to zero (FTZ + DAZ) on this thread while alive.
class ScopedFlushDenormals {
 public:
  explicit ScopedFlushDenormals(bool enable = true) {
#ifdef STRATA_HAS_MXCSR
    if (enable) {
      saved_ = _mm_getcsr();
      active_ = (saved_ & kFlags) != kFlags;
      if (active_) _mm_setcsr(saved_ | kFlags);
    }
#else
    (void)enable;
#endif
  }
  ~ScopedFlushDenormals() {
#ifdef STRATA_HAS_MXCSR
    if (active_) _mm_setcsr(saved_);
#endif
  }
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

 private:
#ifdef STRATA_HAS_MXCSR
  static constexpr unsigned kFlags = 0x8040u;  // FTZ (bit 15) | DAZ (bit 6)
#endif
  unsigned saved_ = 0;
  bool active_ = false;
};

}  // namespace strata
