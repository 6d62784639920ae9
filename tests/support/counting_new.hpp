#pragma once
// Replaces every global allocation function with one that counts while counting is on, for
// the tests that check a training step allocates nothing after the first of its batch
// size. Include it in exactly one source file of a program (a program has one global
// operator new). All forms are replaced (plain, array, nothrow, aligned), so that memory
// from any form is returned through the same allocator: AddressSanitizer reports a
// mismatch otherwise (Catch2 allocates with new (std::nothrow)).
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#include <Eigen/Core>

namespace strata::testing {

inline std::atomic<bool> counting_allocations{false};
inline std::atomic<long> allocation_count{0};

/// Allocations made by `steps` training steps on a batch of `batch` random inputs (and
/// zero targets: class 0 or zeros), after a first, uncounted step of that batch size.
template <class M>
long allocations_in_steps(M& model, long batch, int steps) {
  constexpr auto in = static_cast<Eigen::Index>(M::InputShape::size);
  constexpr auto tgt = static_cast<Eigen::Index>(M::TargetShape::size);
  const Eigen::Matrix<float, in, Eigen::Dynamic> x = Eigen::Matrix<float, in, Eigen::Dynamic>::Random(in, batch);
  const Eigen::Matrix<float, tgt, Eigen::Dynamic> y = Eigen::Matrix<float, tgt, Eigen::Dynamic>::Zero(tgt, batch);
  model.train_step(x, y);  // the first step of this batch size may allocate
  allocation_count = 0;
  counting_allocations = true;
  for (int i = 0; i < steps; ++i) model.train_step(x, y);
  counting_allocations = false;
  return allocation_count.load();
}

namespace detail {
inline void* counted_alloc(std::size_t n, std::size_t align) noexcept {
  if (counting_allocations.load(std::memory_order_relaxed)) allocation_count.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  if (align <= alignof(std::max_align_t)) return std::malloc(n);
  return std::aligned_alloc(align, (n + align - 1) / align * align);
}
inline void* counted_alloc_or_throw(std::size_t n, std::size_t align) {
  if (void* p = counted_alloc(n, align)) return p;
  throw std::bad_alloc();
}
}  // namespace detail

}  // namespace strata::testing

// clang-format off
void* operator new(std::size_t n) { return strata::testing::detail::counted_alloc_or_throw(n, 0); }
void* operator new[](std::size_t n) { return strata::testing::detail::counted_alloc_or_throw(n, 0); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return strata::testing::detail::counted_alloc(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return strata::testing::detail::counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return strata::testing::detail::counted_alloc_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return strata::testing::detail::counted_alloc_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return strata::testing::detail::counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return strata::testing::detail::counted_alloc(n, static_cast<std::size_t>(a)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
// clang-format on
