#pragma once
// The interfaces of strata's components, written once as concepts. A new layer,
// loss, optimizer or schedule is anything that satisfies the matching concept.
#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <type_traits>

#include "segment.hpp"
#include "shape.hpp"

namespace strata {

/// Layer specs (`Dense<N>`, `ReLU`, ...) derive from this tag, so that a stray
/// type in a Sequential is caught with a clear message.
struct LayerSpecTag {};

/// A layer spec: a tag-derived type with `template <class InShape, std::size_t Index> struct bind`
/// whose `type` is the bound layer for that input shape. `Index` is the position in the stack;
/// it appears in every shape error so that the offending layer is named.
template <class S>
concept LayerSpec = std::derived_from<S, LayerSpecTag>;

/// A bound layer: a spec placed after a known input shape. Everything about it is static;
/// its kernels are static member templates over the scalar type and the context.
///   InputShape, OutputShape         per-sample shapes
///   parameter_count                 trainable scalars in the flat buffer
///   segments                        std::array<Segment, K> with offsets relative to the layer
///   scratch_per_sample              extra workspace scalars per sample (masks, statistics)
///   init(T* params, Rng&)            PyTorch-equivalent default initialisation
///   forward(p, x, y, ctx)            y = f(x); x, y are In::size x B and Out::size x B column maps
///   backward(p, g, x, y, dy, dx, ctx) writes parameter gradients into g (overwriting) and,
///                                   when dx is non-null, the input gradient into dx
/// Optionally, a layer with persistent non-trainable state (running statistics) declares
///   buffer_count, buffer_segments    its scalars and named tensors in the network's buffer
///   init_buffers(T*)                 their initial values
/// (layer_buffer_count<L> and friends below supply the defaults for the others).
template <class L>
concept BoundLayer = requires {
  typename L::InputShape;
  typename L::OutputShape;
  { L::parameter_count } -> std::convertible_to<std::size_t>;
  { L::scratch_per_sample } -> std::convertible_to<std::size_t>;
  { L::segments.size() } -> std::convertible_to<std::size_t>;
};

/// Number of persistent non-trainable scalars of a bound layer (0 unless it declares some).
template <class L>
constexpr std::size_t layer_buffer_count() {
  if constexpr (requires { L::buffer_count; })
    return L::buffer_count;
  else
    return 0;
}
template <class L>
constexpr auto layer_buffer_segments() {
  if constexpr (requires { L::buffer_segments; })
    return L::buffer_segments;
  else
    return std::array<Segment, 0>{};
}

/// A learning-rate schedule: a value type with runtime settings.
///   lr(base_lr, t)  the learning rate after t schedule steps (closed form, PyTorch's definition)
///   validate()      throws strata::option_error on settings out of their domain
template <class S>
concept Schedule = std::copy_constructible<S> && requires(const S s, double base, std::size_t t) {
  { s.lr(base, t) } -> std::convertible_to<double>;
  s.validate();
};

/// An optimizer: a value type with runtime hyperparameters (`lr`, ...), per-parameter state
/// `State<T>`, and one fused step over a span of the flat buffer.
///   validate()                                     throws strata::option_error
///   init_state(State<T>&, n)                       allocate state for n parameters (once)
///   begin_step(State<T>&)                          once per step, before the segments
///   step(State<T>&, offset, params, grads, lr, weight_decay)  update one contiguous segment
template <class O>
concept Optimizer = std::copy_constructible<O> && requires(O o) {
  { o.lr } -> std::convertible_to<double>;
  { o.weight_decay } -> std::convertible_to<double>;
  o.validate();
};

/// A loss: a value type with runtime settings and, for each output shape, the target shape
/// it expects (`TargetFor<OutShape>`) checked at compile time.
///   value_and_gradient(out, target, grad)  mean loss over the batch (PyTorch reduction) and,
///                                          when grad is non-null, d loss / d out
template <class L>
concept Loss = std::copy_constructible<L> && requires(L l) { l.validate(); };

}  // namespace strata
