#pragma once
// Running a Sequential's layers over memory someone else owns. Network uses it for the
// whole model; composite layers (Residual) use it for their inner stacks, inside their
// own slice of the parameter, gradient, buffer and workspace arrays.
//
// Workspace of a stack for a batch of B samples (Net::workspace_per_sample * B scalars):
//   activations  Net::activations_per_sample * B   every layer's output, kept for backward
//   gradients    2 * Net::grad_width * B           ping-pong buffers for d loss / d activation
//   scratch      Net::scratch_per_sample * B       layer-private (dropout masks, im2col, ...)
#include <cstddef>
#include <cstdint>
#include <utility>

#include "../core/concepts.hpp"

#include "../core/context.hpp"
#include "../core/rng.hpp"

namespace strata::detail {

template <class T>
struct StackMemory {
  const T* params = nullptr;
  T* grads = nullptr;
  T* buffers = nullptr;
  T* workspace = nullptr;
  std::size_t batch = 0;
  Mode mode = Mode::train;
  Rng* rng = nullptr;
  double dropout_rate = 0.0;
};

/// Initialises every layer of a stack: layer I draws from rng.fork(stream + I), so adding
/// a layer does not change the initial values of the others.
template <class Net, class T>
void init_stack(T* params, const Rng& rng, std::uint64_t stream) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          Rng r = rng.fork(stream + I);
          Net::template Layer<I>::init(params + Net::parameter_offsets[I], r);
        }(),
        ...);
  }(std::make_index_sequence<Net::layer_count>{});
}

/// Initial values of every layer's persistent buffers (running statistics).
template <class Net, class T>
void init_stack_buffers(T* buffers) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using L = typename Net::template Layer<I>;
          if constexpr (layer_buffer_count<L>() > 0) L::init_buffers(buffers + Net::buffer_offsets[I]);
        }(),
        ...);
  }(std::make_index_sequence<Net::layer_count>{});
}

template <class Net, class T, class Backend>
struct StackRunner {
  static constexpr std::size_t layer_count = Net::layer_count;

  static T* activation(const StackMemory<T>& m, std::size_t i) {
    return m.workspace + m.batch * Net::activation_offsets[i];
  }
  /// Ping-pong buffer k (0 or 1) of the backward pass; buffer 1 is free to hold the
  /// gradient at the output before backward() starts.
  static T* grad_buffer(const StackMemory<T>& m, std::size_t k) {
    return m.workspace + m.batch * (Net::activations_per_sample + k * Net::grad_width);
  }
  static T* output(const StackMemory<T>& m) { return activation(m, layer_count - 1); }

  static void forward(const StackMemory<T>& m, const T* x) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (forward_layer<I>(m, x), ...);
    }(std::make_index_sequence<layer_count>{});
  }

  /// Back-propagates `dy` (d loss / d output; it may live in grad_buffer(m, 1)) through the
  /// stack run by the last forward() on `x`. Overwrites the stack's gradients and, when `dx`
  /// is non-null, writes d loss / d input there.
  static void backward(const StackMemory<T>& m, const T* x, const T* dy, T* dx) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (backward_layer<layer_count - 1 - I>(m, x, dy, dx), ...);
    }(std::make_index_sequence<layer_count>{});
  }

  /// Layer I computes the ReLU after it in its own forward pass (forward_relu): it writes
  /// the ReLU's output, and the ReLU layer's forward is skipped. Layer I's own output, the
  /// ReLU's input, is left unwritten: ReLU's backward reads only its output (is_relu says
  /// so), and a layer offering forward_relu must not need its output in backward. Backward
  /// is unchanged.
  template <std::size_t I>
  static constexpr bool fuses_next_relu = [] {
    if constexpr (I + 1 < layer_count) {
      using L = typename Net::template Layer<I>;
      using Next = typename Net::template Layer<I + 1>;
      return requires { requires Next::is_relu; } &&
             requires(const T* c, T* w, Context<T, Backend>& ctx) { L::forward_relu(c, c, w, w, ctx); };
    } else {
      return false;
    }
  }();
  template <std::size_t I>
  static constexpr bool fused_into_previous = [] {
    if constexpr (I > 0)
      return fuses_next_relu<I - 1>;
    else
      return false;
  }();

 private:
  template <std::size_t I>
  static Context<T, Backend> context(const StackMemory<T>& m) {
    using L = typename Net::template Layer<I>;
    Context<T, Backend> c;
    c.mode = m.mode;
    c.batch = m.batch;
    c.scratch = L::scratch_per_sample
                    ? m.workspace + m.batch * (Net::activations_per_sample + 2 * Net::grad_width + Net::scratch_offsets[I])
                    : nullptr;
    c.buffers = layer_buffer_count<L>() ? m.buffers + Net::buffer_offsets[I] : nullptr;
    c.rng = m.rng;
    c.dropout_rate = m.dropout_rate;
    return c;
  }
  template <std::size_t I>
  static const T* layer_input(const StackMemory<T>& m, const T* x) {
    if constexpr (I == 0)
      return x;
    else
      return activation(m, I - 1);
  }

  template <std::size_t I>
  static void forward_layer(const StackMemory<T>& m, const T* x) {
    using L = typename Net::template Layer<I>;
    if constexpr (fused_into_previous<I>) return;  // computed by layer I - 1
    auto ctx = context<I>(m);
    if constexpr (fuses_next_relu<I>)
      L::forward_relu(m.params + Net::parameter_offsets[I], layer_input<I>(m, x), activation(m, I),
                      activation(m, I + 1), ctx);
    else
      L::forward(m.params + Net::parameter_offsets[I], layer_input<I>(m, x), activation(m, I), ctx);
  }

  template <std::size_t I>
  static void backward_layer(const StackMemory<T>& m, const T* x, const T* dy_top, T* dx_bottom) {
    const T* dy = I == layer_count - 1 ? dy_top : grad_buffer(m, (layer_count - 2 - I) % 2);
    T* dx = I == 0 ? dx_bottom : grad_buffer(m, (layer_count - 1 - I) % 2);
    auto ctx = context<I>(m);
    Net::template Layer<I>::backward(m.params + Net::parameter_offsets[I], m.grads + Net::parameter_offsets[I],
                                     layer_input<I>(m, x), activation(m, I), dy, dx, ctx);
  }
};

}  // namespace strata::detail
