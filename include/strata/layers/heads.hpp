#pragma once
// Heads<Head<...>, Head<...>, ...>: several sub-stacks fed by the same trunk output, e.g.
// a digit head and a colour head on one convolutional trunk. Each head is an ordinary
// stack whose output must be flat; the layer's output is their concatenation, one sample
// per column, with the static shape HeadsShape<OutA, OutB, ...> so that a loss can split it
// again (loss::PerHead). Put Heads last in a stack.
//
// Memory: parameters and buffers are the heads' in order; scratch holds each head's
// workspace, a contiguous copy of each head's output gradient, and one input-gradient
// buffer for summing the heads' contributions. Tensor names: "5.head.1.0.weight".
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>

#include "../core/concepts.hpp"
#include "../core/context.hpp"
#include "../core/rng.hpp"
#include "../core/segment.hpp"
#include "../core/shape.hpp"
#include "../net/sequential.hpp"
#include "../net/stack.hpp"
#include "residual.hpp"

namespace strata {

/// The concatenated flat output of several heads; behaves as Shape<(OutA::size + ...)>.
template <class... Outs>
struct HeadsShape {
  static constexpr std::size_t rank = 1;
  static constexpr std::size_t size = (std::size_t{0} + ... + Outs::size);
  static constexpr std::array<std::size_t, 1> dims{size};
  static constexpr std::size_t count = sizeof...(Outs);
  /// Row offset of head k in a sample's column.
  static constexpr std::array<std::size_t, sizeof...(Outs) + 1> offsets = [] {
    std::array<std::size_t, sizeof...(Outs) + 1> o{};
    const std::array<std::size_t, sizeof...(Outs)> s{Outs::size...};
    for (std::size_t k = 0; k < sizeof...(Outs); ++k) o[k + 1] = o[k] + s[k];
    return o;
  }();
  static std::string to_string() {
    std::string s;
    ((s += (s.empty() ? "" : " + ") + Outs::to_string()), ...);
    return s;
  }
};

template <class... A, class... B>
constexpr bool operator==(HeadsShape<A...>, HeadsShape<B...>) {
  return std::is_same_v<HeadsShape<A...>, HeadsShape<B...>>;
}

/// The layer specs of one head.
template <class... Specs>
struct Head {};

namespace detail {

template <std::size_t N>
constexpr std::array<std::size_t, N + 1> prefix_sums(std::array<std::size_t, N> a) {
  std::array<std::size_t, N + 1> o{};
  for (std::size_t k = 0; k < N; ++k) o[k + 1] = o[k] + a[k];
  return o;
}

/// The heads' segment tables (or buffer tables) with nested names
/// "<layer>.head.<K>.<head layer>.<param>" and offsets into the concatenated buffers.
template <bool Buffers, class... Stacks>
constexpr auto gather_head_segments() {
  constexpr std::size_t n =
      (std::size_t{0} + ... + (Buffers ? Stacks::buffer_segments.size() : Stacks::segments.size()));
  constexpr auto offsets =
      prefix_sums<sizeof...(Stacks)>({(Buffers ? Stacks::buffer_count : Stacks::parameter_count)...});
  std::array<Segment, n> out{};
  std::size_t i = 0;
  std::size_t k = 0;
  (
      [&] {
        const auto& from = []() -> const auto& {
          if constexpr (Buffers)
            return Stacks::buffer_segments;
          else
            return Stacks::segments;
        }();
        for (const Segment& s : from) {
          Segment t = s.nested("", offsets[k]);
          t.layer = k;
          out[i++] = t.nested("head", 0);
        }
        ++k;
      }(),
      ...);
  return out;
}

template <class In, class... Stacks>
struct HeadsLayer {
  static constexpr std::size_t count = sizeof...(Stacks);
  using InputShape = In;
  using OutputShape = HeadsShape<typename Stacks::OutputShape...>;
  using Tuple = std::tuple<Stacks...>;
  template <std::size_t K>
  using H = std::tuple_element_t<K, Tuple>;

  static constexpr std::array<std::size_t, count + 1> param_offsets = prefix_sums<count>({Stacks::parameter_count...});
  static constexpr std::array<std::size_t, count + 1> buffer_offsets = prefix_sums<count>({Stacks::buffer_count...});
  /// Per-sample scratch: [workspace of each head][output gradient of each head][input gradient].
  static constexpr std::array<std::size_t, count + 1> workspace_offsets =
      prefix_sums<count>({Stacks::workspace_per_sample...});
  static constexpr std::size_t parameter_count = param_offsets[count];
  static constexpr std::size_t buffer_count = buffer_offsets[count];
  static constexpr std::size_t scratch_per_sample = workspace_offsets[count] + OutputShape::size + In::size;

  static constexpr auto segments = gather_head_segments<false, Stacks...>();
  static constexpr auto buffer_segments = gather_head_segments<true, Stacks...>();

  static std::string name() { return "Heads(" + OutputShape::to_string() + ")"; }

  template <class T>
  static void init(T* p, Rng& rng) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      (
          [&] {
            Rng r = rng.fork(K);
            init_stack<H<K>>(p + param_offsets[K], r, 0);
          }(),
          ...);
    }(std::make_index_sequence<count>{});
  }
  template <class T>
  static void init_buffers(T* b) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      (init_stack_buffers<H<K>>(b + buffer_offsets[K]), ...);
    }(std::make_index_sequence<count>{});
  }

  template <class T, class B>
  static void forward(const T* p, const T* x, T* y, Context<T, B>& ctx) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      (forward_head<K>(p, x, y, ctx), ...);
    }(std::make_index_sequence<count>{});
  }

  template <class T, class B>
  static void backward(const T* p, T* g, const T* x, const T*, const T* dy, T* dx, Context<T, B>& ctx) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      (backward_head<K>(p, g, x, dy, dx, ctx), ...);
    }(std::make_index_sequence<count>{});
  }

 private:
  template <std::size_t K, class T, class B>
  static StackMemory<T> memory(const T* p, T* g, Context<T, B>& ctx) {
    StackMemory<T> m;
    m.params = p + param_offsets[K];
    m.grads = g != nullptr ? g + param_offsets[K] : nullptr;
    m.buffers = ctx.buffers != nullptr ? ctx.buffers + buffer_offsets[K] : nullptr;
    m.workspace = ctx.scratch + ctx.batch * workspace_offsets[K];
    m.batch = ctx.batch;
    m.mode = ctx.mode;
    m.rng = ctx.rng;
    m.dropout_rate = ctx.dropout_rate;
    return m;
  }

  template <std::size_t K, class T, class B>
  static void forward_head(const T* p, const T* x, T* y, Context<T, B>& ctx) {
    const auto m = memory<K>(p, static_cast<T*>(nullptr), ctx);
    StackRunner<H<K>, T, B>::forward(m, x);
    const T* out = StackRunner<H<K>, T, B>::output(m);
    constexpr std::size_t rows = H<K>::OutputShape::size;
    for (std::size_t j = 0; j < ctx.batch; ++j)
      B::copy(out + j * rows, y + j * OutputShape::size + OutputShape::offsets[K], rows);
  }

  template <std::size_t K, class T, class B>
  static void backward_head(const T* p, T* g, const T* x, const T* dy, T* dx, Context<T, B>& ctx) {
    constexpr std::size_t rows = H<K>::OutputShape::size;
    T* dy_k = ctx.scratch + ctx.batch * (workspace_offsets[count] + OutputShape::offsets[K]);
    for (std::size_t j = 0; j < ctx.batch; ++j)
      B::copy(dy + j * OutputShape::size + OutputShape::offsets[K], dy_k + j * rows, rows);
    T* dx_k = (K == 0 || dx == nullptr)
                  ? dx
                  : ctx.scratch + ctx.batch * (workspace_offsets[count] + OutputShape::size);
    const auto m = memory<K>(p, g, ctx);
    StackRunner<H<K>, T, B>::backward(m, x, dy_k, dx_k);
    if (K > 0 && dx != nullptr) B::accumulate(dx_k, dx, In::size * ctx.batch);
  }
};

template <class In, class HeadList>
struct HeadStack;
template <class In, class... Specs>
struct HeadStack<In, Head<Specs...>> {
  using type = Sequential<typename InputOf<In>::type, Specs...>;
  static_assert(type::OutputShape::rank == 1,
                "Heads: every head must end in a flat output (e.g. Dense<N>) so that the outputs can be "
                "concatenated");
};

template <class T>
inline constexpr bool is_head_v = false;
template <class... S>
inline constexpr bool is_head_v<Head<S...>> = true;

}  // namespace detail

/// Several heads on one trunk output.
///
/// **Example** (digit and colour from one trunk):
/// ```
/// using Net = Sequential<Input<3, 28, 28>, Conv2D<16, 3>, ReLU, MaxPool<2>, Flatten, Dense<64>, ReLU,
///                        Heads<Head<Dense<10>>, Head<Dense<32>, ReLU, Dense<3>>>>;
/// Model<Net, loss::PerHead<loss::CrossEntropy, loss::CrossEntropy>, optim::Adam> m(
///     {.loss = {.weights = {1.0, 0.5}}});
/// ```
template <class... HeadLists>
struct Heads : LayerSpecTag {
  static_assert(sizeof...(HeadLists) >= 1, "Heads<...> needs at least one Head<...>");
  static_assert((detail::is_head_v<HeadLists> && ...), "Heads<...> takes Head<layer specs...> arguments");
  template <class In, std::size_t Index>
  struct bind {
    using type = detail::HeadsLayer<In, typename detail::HeadStack<In, HeadLists>::type...>;
  };
};

}  // namespace strata
