#pragma once
// Residual<Body...>: y = body(x) + shortcut(x), a ResNet basic block when the body is
// conv-BN-ReLU-conv-BN (put the block's final ReLU after it in the outer stack).
// The shortcut is the identity when the body keeps the shape, otherwise a projection:
// a 1x1 Conv2D without bias, with the stride that maps the spatial size, then BatchNorm, for <C, H, W>
// inputs (as torchvision's ResNet), or a Dense layer for flat inputs.
//
// The body and the projection are ordinary Sequential stacks run by detail::StackRunner
// inside this layer's slices: parameters [body | shortcut], buffers [body | shortcut],
// and scratch [body workspace | shortcut workspace | shortcut input gradient].
// Tensor names nest: "3.body.0.weight", "3.shortcut.1.running_mean".
#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

#include "../core/concepts.hpp"
#include "../core/context.hpp"
#include "../core/rng.hpp"
#include "../core/segment.hpp"
#include "../core/shape.hpp"
#include "../net/sequential.hpp"
#include "../net/stack.hpp"
#include "batch_norm.hpp"
#include "conv2d.hpp"
#include "dense.hpp"

namespace strata {

namespace detail {

template <class S>
struct InputOf;
template <std::size_t... D>
struct InputOf<Shape<D...>> {
  using type = Input<D...>;
};

/// The stride s with (n - 1) / s + 1 == m, or 0 when there is none.
constexpr std::size_t projection_stride(std::size_t n, std::size_t m) {
  for (std::size_t s = 1; s <= n; ++s)
    if ((n - 1) / s + 1 == m) return s;
  return 0;
}

/// How a residual shortcut maps In to Out: Identity, a 1x1 conv + BN, a Dense, or nothing.
template <class In, class Out>
struct Shortcut {
  static constexpr bool identity = std::is_same_v<In, Out>;
  static constexpr bool possible = identity;
  using type = void;
};
template <std::size_t C, std::size_t H, std::size_t W, std::size_t C2, std::size_t H2, std::size_t W2>
  requires(!(C == C2 && H == H2 && W == W2))
struct Shortcut<Shape<C, H, W>, Shape<C2, H2, W2>> {
  static constexpr std::size_t stride = projection_stride(H, H2);
  static constexpr bool identity = false;
  static constexpr bool possible = stride != 0 && projection_stride(W, W2) == stride;
  using type = Sequential<Input<C, H, W>, Conv2D<C2, 1, (possible ? stride : 1), 0, no_bias>, BatchNorm>;
};
template <std::size_t F, std::size_t F2>
  requires(F != F2)
struct Shortcut<Shape<F>, Shape<F2>> {
  static constexpr bool identity = false;
  static constexpr bool possible = true;
  using type = Sequential<Input<F>, Dense<F2>>;
};

/// Stand-in for "no projection" with the same static interface as a stack.
struct NoStack {
  static constexpr std::size_t parameter_count = 0;
  static constexpr std::size_t buffer_count = 0;
  static constexpr std::size_t workspace_per_sample = 0;
  static constexpr std::size_t layer_count = 0;
  static constexpr std::array<Segment, 0> segments{};
  static constexpr std::array<Segment, 0> buffer_segments{};
};

template <std::size_t N>
constexpr auto nested_segments(const std::array<Segment, N>& from, std::string_view scope, std::size_t shift) {
  std::array<Segment, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = from[i].nested(scope, shift);
  return out;
}
template <std::size_t A, std::size_t B>
constexpr std::array<Segment, A + B> concat(const std::array<Segment, A>& a, const std::array<Segment, B>& b) {
  std::array<Segment, A + B> out{};
  for (std::size_t i = 0; i < A; ++i) out[i] = a[i];
  for (std::size_t i = 0; i < B; ++i) out[A + i] = b[i];
  return out;
}

template <class In, class Body, class Proj>
struct ResidualLayer {
  static constexpr bool identity = std::is_void_v<Proj>;
  using P = std::conditional_t<identity, NoStack, Proj>;
  using InputShape = In;
  using OutputShape = typename Body::OutputShape;
  static constexpr std::size_t parameter_count = Body::parameter_count + P::parameter_count;
  static constexpr std::size_t buffer_count = Body::buffer_count + P::buffer_count;
  static constexpr std::size_t scratch_per_sample =
      Body::workspace_per_sample + (identity ? 0 : P::workspace_per_sample + In::size);
  static constexpr auto segments = concat(nested_segments(Body::segments, "body", 0),
                                          nested_segments(P::segments, "shortcut", Body::parameter_count));
  static constexpr auto buffer_segments =
      concat(nested_segments(Body::buffer_segments, "body", 0),
             nested_segments(P::buffer_segments, "shortcut", Body::buffer_count));

  static std::string name() {
    std::string s = "Residual[";
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((s += (I ? ", " : "") + Body::template Layer<I>::name()), ...);
    }(std::make_index_sequence<Body::layer_count>{});
    return s + (identity ? "] + identity" : "] + projection");
  }

  /// Every inner layer draws from its own stream of the layer's generator.
  template <class T>
  static void init(T* p, Rng& rng) {
    init_stack<Body>(p, rng, 0);
    if constexpr (!identity) init_stack<P>(p + Body::parameter_count, rng, 1000);
  }
  template <class T>
  static void init_buffers(T* b) {
    init_stack_buffers<Body>(b);
    if constexpr (!identity) init_stack_buffers<P>(b + Body::buffer_count);
  }

  template <class T, class B>
  static void forward(const T* p, const T* x, T* y, Context<T, B>& ctx) {
    const auto body = memory(p, static_cast<T*>(nullptr), ctx, 0, 0, 0);
    StackRunner<Body, T, B>::forward(body, x);
    const T* body_out = StackRunner<Body, T, B>::output(body);
    if constexpr (identity) {
      B::add(body_out, x, y, In::size * ctx.batch);
    } else {
      const auto proj = memory(p, static_cast<T*>(nullptr), ctx, Body::parameter_count, Body::buffer_count, Body::workspace_per_sample);
      StackRunner<P, T, B>::forward(proj, x);
      B::add(body_out, StackRunner<P, T, B>::output(proj), y, OutputShape::size * ctx.batch);
    }
  }

  template <class T, class B>
  static void backward(const T* p, T* g, const T* x, const T*, const T* dy, T* dx, Context<T, B>& ctx) {
    const auto body = memory(p, g, ctx, 0, 0, 0);
    StackRunner<Body, T, B>::backward(body, x, dy, dx);
    if constexpr (identity) {
      if (dx != nullptr) B::accumulate(dy, dx, In::size * ctx.batch);
    } else {
      const auto proj = memory(p, g, ctx, Body::parameter_count, Body::buffer_count, Body::workspace_per_sample);
      T* dx_short =
          dx != nullptr ? ctx.scratch + ctx.batch * (Body::workspace_per_sample + P::workspace_per_sample) : nullptr;
      StackRunner<P, T, B>::backward(proj, x, dy, dx_short);
      if (dx != nullptr) B::accumulate(dx_short, dx, In::size * ctx.batch);
    }
  }

 private:
  template <class T, class B>
  static StackMemory<T> memory(const T* p, T* g, Context<T, B>& ctx, std::size_t param_shift, std::size_t buffer_shift,
                               std::size_t workspace_shift) {
    StackMemory<T> m;
    m.params = p + param_shift;
    m.grads = g != nullptr ? g + param_shift : nullptr;
    m.buffers = ctx.buffers != nullptr ? ctx.buffers + buffer_shift : nullptr;
    m.workspace = ctx.scratch + ctx.batch * workspace_shift;
    m.batch = ctx.batch;
    m.mode = ctx.mode;
    m.rng = ctx.rng;
    m.dropout_rate = ctx.dropout_rate;
    return m;
  }
};

}  // namespace detail

/// A residual block: the body's layers, plus an identity or projection shortcut.
///
/// **Example** (a ResNet basic block that halves the resolution):
/// ```
/// Residual<Conv2D<128, 3, 2, 1>, BatchNorm, ReLU, Conv2D<128, 3, 1, 1>, BatchNorm>, ReLU
/// ```
template <class... Body>
struct Residual : LayerSpecTag {
  static_assert(sizeof...(Body) > 0, "Residual<...> needs at least one layer in its body");
  template <class In, std::size_t Index>
  struct bind {
    using BodyStack = Sequential<typename detail::InputOf<In>::type, Body...>;
    using Out = typename BodyStack::OutputShape;
    using Short = detail::Shortcut<In, Out>;
    static_assert(Short::possible,
                  "Residual at this layer index: the body's output shape cannot be projected from its input (a "
                  "projection needs the same rank, and for <C, H, W> one stride s with (H - 1) / s + 1 == H' and "
                  "(W - 1) / s + 1 == W')");
    using type = detail::ResidualLayer<In, BodyStack, typename Short::type>;
  };
};

}  // namespace strata
