#pragma once
// Dropout: inverted dropout (torch.nn.Dropout). In train mode each element is zeroed with
// probability p and the others scaled by 1 / (1 - p); in eval mode it is the identity.
// `Dropout` takes its rate from the network at run time (Model config `.dropout`, or
// Network::set_dropout_rate), so a sweep can vary it without a new type;
// `DropoutWith<P>` fixes it in the type.
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
/// Rate < 0 means "the network's runtime rate".
template <class In, double Rate>
struct DropoutLayer {
  using InputShape = In;
  using OutputShape = In;
  static constexpr std::size_t parameter_count = 0;
  static constexpr std::size_t scratch_per_sample = In::size;  // the mask
  static constexpr std::array<Segment, 0> segments{};

  static std::string name() { return Rate < 0 ? "Dropout" : "Dropout(" + std::to_string(Rate) + ")"; }
  template <class T>
  static void init(T*, Rng&) {}

  template <class T, class B>
  static double rate(const Context<T, B>& ctx) {
    return Rate < 0 ? ctx.dropout_rate : Rate;
  }

  template <class T, class B>
  static void forward(const T*, const T* x, T* y, Context<T, B>& ctx) {
    const std::size_t n = In::size * ctx.batch;
    const double p = rate(ctx);
    if (ctx.mode == Mode::eval || p == 0.0) {
      B::copy(x, y, n);
      return;
    }
    B::dropout_forward(x, y, ctx.scratch, n, p, *ctx.rng);
  }

  template <class T, class B>
  static void backward(const T*, T*, const T*, const T*, const T* dy, T* dx, Context<T, B>& ctx) {
    if (dx == nullptr) return;
    const std::size_t n = In::size * ctx.batch;
    if (ctx.mode == Mode::eval || rate(ctx) == 0.0)
      B::copy(dy, dx, n);
    else
      B::dropout_backward(dy, ctx.scratch, dx, n);
  }
};
}  // namespace detail

/// Inverted dropout with the network's runtime rate (default 0: identity).
struct Dropout : LayerSpecTag {
  template <class In, std::size_t>
  struct bind {
    using type = detail::DropoutLayer<In, -1.0>;
  };
};

/// Inverted dropout with a fixed rate P in [0, 1).
template <double P>
struct DropoutWith : LayerSpecTag {
  static_assert(P >= 0.0 && P < 1.0, "DropoutWith<P>: the drop probability P must be in [0, 1)");
  template <class In, std::size_t>
  struct bind {
    using type = detail::DropoutLayer<In, P>;
  };
};

}  // namespace strata
