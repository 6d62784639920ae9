#pragma once
// Dense<N>: a fully connected layer y = W x + b with N outputs (torch.nn.Linear).
#include <array>
#include <cmath>
#include <cstddef>
#include <string>

#include "../core/concepts.hpp"
#include "../core/context.hpp"
#include "../core/rng.hpp"
#include "../core/segment.hpp"
#include "../core/shape.hpp"

namespace strata {

namespace detail {
template <std::size_t Out, std::size_t In>
struct DenseLayer {
  using InputShape = Shape<In>;
  using OutputShape = Shape<Out>;
  static constexpr std::size_t weight_count = Out * In;
  static constexpr std::size_t parameter_count = Out * In + Out;
  static constexpr std::size_t scratch_per_sample = 0;
  static constexpr std::array<Segment, 2> segments{{
      Segment{0, "weight", 0, Out * In, false, In}.shaped({Out, In}),
      Segment{0, "bias", Out * In, Out, true, In}.shaped({Out}),
  }};

  static std::string name() { return "Dense<" + std::to_string(Out) + ">"; }

  /// torch.nn.Linear's default: kaiming_uniform_(a = sqrt(5)) for the weight, which is
  /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias.
  template <class T>
  static void init(T* p, Rng& rng) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(In));
    for (std::size_t i = 0; i < parameter_count; ++i) p[i] = static_cast<T>(rng.uniform(-bound, bound));
  }

  template <class T, class B>
  static void forward(const T* p, const T* x, T* y, Context<T, B>& ctx) {
    B::template linear_forward<Out, In>(p, p + weight_count, x, y, ctx.batch);
  }

  template <class T, class B>
  static void backward(const T* p, T* g, const T* x, const T* /*y*/, const T* dy, T* dx, Context<T, B>& ctx) {
    B::template linear_backward<Out, In>(p, x, dy, g, g + weight_count, dx, ctx.batch);
  }
};
}  // namespace detail

/// A fully connected layer with N outputs. Takes a flat input (rank 1): put Flatten
/// before it after a convolution or an image input.
///
/// **Example**: `Sequential<Input<784>, Dense<100>, ReLU, Dense<10>>`
template <std::size_t N>
struct Dense : LayerSpecTag {
  static_assert(N > 0, "Dense<N>: the number of outputs N must be > 0");

  template <class In, std::size_t Index>
  struct bind {
    static_assert(In::rank == 1,
                  "Dense<N> at this layer index takes a flat input (rank 1) but gets an image or tensor shape: "
                  "insert Flatten before it");
    using type = detail::DenseLayer<N, In::size>;
  };
};

}  // namespace strata
