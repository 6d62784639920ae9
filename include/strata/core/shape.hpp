#pragma once
// Static per-sample shapes. The batch dimension is never part of a Shape: a batch
// of samples of shape S is a column-major matrix with S::size rows and one column
// per sample.
#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

namespace strata {

/// A static per-sample shape, e.g. `Shape<1, 28, 28>` (channels, height, width).
template <std::size_t... Dims>
struct Shape {
  static constexpr std::size_t rank = sizeof...(Dims);
  static constexpr std::size_t size = (std::size_t{1} * ... * Dims);
  static constexpr std::array<std::size_t, sizeof...(Dims)> dims{Dims...};

  /// "1x28x28"; "scalar" for rank 0.
  static std::string to_string() {
    if constexpr (rank == 0) {
      return "scalar";
    } else {
      std::string s;
      for (std::size_t d : dims) {
        if (!s.empty()) s.push_back('x');
        s.append(std::to_string(d));
      }
      return s;
    }
  }
};

/// Two shapes are equal when they are the same type: `Net::output_shape == Shape<10>{}`.
template <std::size_t... A, std::size_t... B>
constexpr bool operator==(Shape<A...>, Shape<B...>) {
  return std::is_same_v<Shape<A...>, Shape<B...>>;
}

template <class T>
inline constexpr bool is_shape_v = false;
template <std::size_t... D>
inline constexpr bool is_shape_v<Shape<D...>> = true;

/// The first entry of a Sequential: the per-sample input shape.
template <std::size_t... Dims>
struct Input {
  using ShapeType = Shape<Dims...>;
  static_assert(sizeof...(Dims) > 0, "Input<...> needs at least one dimension, e.g. Input<2> or Input<1, 28, 28>");
  static_assert(((Dims > 0) && ...), "Input<...>: every dimension must be > 0");
};

namespace detail {
/// Marks the output of a layer that failed its shape check, so that later layers
/// stay quiet and the first error is the only one printed.
struct ErrorShape {
  static constexpr std::size_t rank = 1;
  static constexpr std::size_t size = 1;
  static constexpr std::array<std::size_t, 1> dims{1};
  static std::string to_string() { return "<error>"; }
};
}  // namespace detail

}  // namespace strata
