#pragma once
// Flatten: any per-sample shape to Shape<size>. Samples are already contiguous
// columns, so this is a copy of the batch and nothing else.
#include <array>
#include <cstddef>
#include <string>

#include "../core/concepts.hpp"
#include "../core/context.hpp"
#include "../core/rng.hpp"
#include "../core/segment.hpp"
#include "../core/shape.hpp"

namespace strata {

namespace detail {
template <class In>
struct FlattenLayer {
  using InputShape = In;
  using OutputShape = Shape<In::size>;
  static constexpr std::size_t parameter_count = 0;
  static constexpr std::size_t scratch_per_sample = 0;
  static constexpr std::array<Segment, 0> segments{};
  static std::string name() { return "Flatten"; }
  template <class T>
  static void init(T*, Rng&) {}
  template <class T, class B>
  static void forward(const T*, const T* x, T* y, Context<T, B>& ctx) {
    B::copy(x, y, In::size * ctx.batch);
  }
  template <class T, class B>
  static void backward(const T*, T*, const T*, const T*, const T* dy, T* dx, Context<T, B>& ctx) {
    if (dx != nullptr) B::copy(dy, dx, In::size * ctx.batch);
  }
};
}  // namespace detail

/// Flattens each sample to rank 1 (torch.nn.Flatten).
struct Flatten : LayerSpecTag {
  template <class In, std::size_t>
  struct bind {
    using type = detail::FlattenLayer<In>;
  };
};

}  // namespace strata
