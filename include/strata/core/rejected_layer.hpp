#pragma once
// The stand-in for a layer whose compile-time check failed.
#include <array>
#include <cstddef>
#include <string>

#include "context.hpp"
#include "rng.hpp"
#include "segment.hpp"
#include "shape.hpp"

namespace strata::detail {

/// Stands in for a layer whose shape check failed (or for every layer after one): its
/// output is ErrorShape, so the layers after it stay quiet and only the first error is
/// printed. It has no parameters and does nothing.
template <class In = ErrorShape>
struct RejectedLayer {
  using InputShape = In;
  using OutputShape = ErrorShape;
  static constexpr std::size_t parameter_count = 0;
  static constexpr std::size_t scratch_per_sample = 0;
  static constexpr std::array<Segment, 0> segments{};
  static std::string name() { return "<error>"; }
  template <class T>
  static void init(T*, Rng&) {}
  template <class T, class B>
  static void forward(const T*, const T*, T*, Context<T, B>&) {}
  template <class T, class B>
  static void backward(const T*, T*, const T*, const T*, const T*, T*, Context<T, B>&) {}
};

}  // namespace strata::detail
