#pragma once
// Sequential<Input<...>, Specs...>: binds each layer spec to the shape that reaches
// it and lays out, at compile time, the flat parameter buffer (offsets, segment
// table) and the per-sample workspace (activation offsets, widest layer, scratch).
// Nothing here allocates or computes at run time; see net/network.hpp for that.
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../core/concepts.hpp"
#include "../core/context.hpp"
#include "../core/segment.hpp"
#include "../core/rejected_layer.hpp"
#include "../core/shape.hpp"

namespace strata {

namespace detail {

/// Stands in for a layer after a failed check, so that only the first error is reported.
using PoisonLayer = RejectedLayer<>;

// Binding of the spec at position Index to input shape In. The primary template handles
// both a non-spec (an error at this index) and the quiet case after an earlier error.
template <std::size_t Index, class In, class Spec, bool Bindable = LayerSpec<Spec> && !std::is_same_v<In, ErrorShape>>
struct BindLayer {
  static_assert(std::is_same_v<In, ErrorShape> || LayerSpec<Spec>,
                "Sequential: the type at this layer index is not a layer spec (layer specs derive from "
                "strata::LayerSpecTag, e.g. Dense<N>, ReLU, Flatten)");
  using type = PoisonLayer;
};
template <std::size_t Index, class In, class Spec>
struct BindLayer<Index, In, Spec, true> {
  using type = typename Spec::template bind<In, Index>::type;
  static_assert(BoundLayer<type>, "strata internal: a layer spec's bind<>::type does not satisfy BoundLayer");
};

template <std::size_t Index, class In, class... Specs>
struct BindAll {
  using type = std::tuple<>;
};
template <std::size_t Index, class In, class Spec, class... Rest>
struct BindAll<Index, In, Spec, Rest...> {
  using layer = typename BindLayer<Index, In, Spec>::type;
  using rest = typename BindAll<Index + 1, typename layer::OutputShape, Rest...>::type;
  using type = decltype(std::tuple_cat(std::declval<std::tuple<layer>>(), std::declval<rest>()));
};

constexpr std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// Per-layer quantities gathered by Sequential. Activation blocks are padded to a
// multiple of 16 scalars per sample, so that for float every block starts on a 64-byte
// boundary (the workspace base is 64-byte aligned) whatever the batch size.
template <class L>
struct ParametersOf : std::integral_constant<std::size_t, L::parameter_count> {};
template <class L>
struct PaddedOutputOf : std::integral_constant<std::size_t, round_up(L::OutputShape::size, 16)> {};
template <class L>
struct OutputSizeOf : std::integral_constant<std::size_t, L::OutputShape::size> {};
template <class L>
struct ScratchOf : std::integral_constant<std::size_t, round_up(L::scratch_per_sample, 16)> {};
template <class L>
struct SegmentCountOf : std::integral_constant<std::size_t, L::segments.size()> {};
template <class L>
struct BufferCountOf : std::integral_constant<std::size_t, layer_buffer_count<L>()> {};
template <class L>
struct BufferSegmentCountOf : std::integral_constant<std::size_t, layer_buffer_segments<L>().size()> {};

}  // namespace detail

/// A network as a type: `Sequential<Input<2>, Dense<16>, ReLU, Dense<1>>`.
/// Shapes, parameter counts and buffer layouts are compile-time constants:
///
/// **Example**:
/// ```
/// using Mlp = Sequential<Input<784>, Dense<100>, ReLU, Dense<10>>;
/// static_assert(Mlp::parameter_count == 784 * 100 + 100 + 100 * 10 + 10);
/// static_assert(Mlp::output_shape == Shape<10>{});
/// ```
template <class First, class... Specs>
struct Sequential {
  static_assert(sizeof(First) == 0,
                "Sequential<...>: the first type must be the input shape, e.g. Sequential<Input<2>, Dense<16>, ...>");
  static constexpr std::size_t parameter_count = 0;  // keeps the error above the only one
  static constexpr std::size_t layer_count = 0;
};

template <std::size_t... Dims, class... Specs>
struct Sequential<Input<Dims...>, Specs...> {
  static_assert(sizeof...(Specs) > 0, "Sequential<Input<...>>: add at least one layer after the input");

  using InputShape = Shape<Dims...>;
  using Layers = typename detail::BindAll<0, InputShape, Specs...>::type;
  static constexpr std::size_t layer_count = sizeof...(Specs);
  template <std::size_t I>
  using Layer = std::tuple_element_t<I, Layers>;
  using OutputShape = typename Layer<layer_count - 1>::OutputShape;

  static constexpr InputShape input_shape{};
  static constexpr OutputShape output_shape{};

 private:
  // Collects F<Layer<i>>::value for every layer (plain trait templates rather than
  // template lambdas: nvcc warns about the latter).
  template <template <class> class F, std::size_t... I>
  static constexpr std::array<std::size_t, layer_count> per_layer(std::index_sequence<I...>) {
    return {F<Layer<I>>::value...};
  }
  template <template <class> class F>
  static constexpr std::array<std::size_t, layer_count> per_layer() {
    return per_layer<F>(std::make_index_sequence<layer_count>{});
  }
  static constexpr auto prefix(std::array<std::size_t, layer_count> a) {
    std::array<std::size_t, layer_count + 1> p{};
    for (std::size_t i = 0; i < layer_count; ++i) p[i + 1] = p[i] + a[i];
    return p;
  }

 public:
  /// Trainable scalars of each layer and their offsets in the flat parameter buffer.
  static constexpr auto layer_parameter_counts = per_layer<detail::ParametersOf>();
  static constexpr auto parameter_offsets = prefix(layer_parameter_counts);
  static constexpr std::size_t parameter_count = parameter_offsets[layer_count];

  /// Per-sample offsets of each layer's output in the activation workspace.
  static constexpr auto activation_offsets =
      prefix(per_layer<detail::PaddedOutputOf>());
  static constexpr std::size_t activations_per_sample = activation_offsets[layer_count];
  /// Widest tensor in the stack (input included): the size of each backward ping-pong buffer.
  static constexpr std::size_t max_width = std::max(
      InputShape::size, std::ranges::max(per_layer<detail::OutputSizeOf>()));
  static constexpr auto scratch_offsets = prefix(per_layer<detail::ScratchOf>());
  static constexpr std::size_t scratch_per_sample = scratch_offsets[layer_count];
  /// Per-sample size of each backward ping-pong buffer (max_width padded to 16 scalars).
  static constexpr std::size_t grad_width = detail::round_up(max_width, 16);
  /// Per-sample workspace of the whole stack (see net/stack.hpp for the layout).
  static constexpr std::size_t workspace_per_sample = activations_per_sample + 2 * grad_width + scratch_per_sample;
  /// Persistent non-trainable state (batch-norm running statistics): offsets and total.
  static constexpr auto buffer_offsets = prefix(per_layer<detail::BufferCountOf>());
  static constexpr std::size_t buffer_count = buffer_offsets[layer_count];

 private:
  static constexpr std::size_t segment_count_ = prefix(per_layer<detail::SegmentCountOf>())[layer_count];
  static constexpr std::size_t buffer_segment_count_ = prefix(per_layer<detail::BufferSegmentCountOf>())[layer_count];
  template <std::size_t... I>
  static constexpr auto make_segments(std::index_sequence<I...>) {
    std::array<Segment, segment_count_> out{};
    std::size_t k = 0;
    (
        [&] {
          for (Segment s : Layer<I>::segments) {
            s.layer = I;
            s.offset += parameter_offsets[I];
            out[k++] = s;
          }
        }(),
        ...);
    return out;
  }
  template <std::size_t... I>
  static constexpr auto make_buffer_segments(std::index_sequence<I...>) {
    std::array<Segment, buffer_segment_count_> out{};
    std::size_t k = 0;
    (
        [&] {
          for (Segment s : layer_buffer_segments<Layer<I>>()) {
            s.layer = I;
            s.offset += buffer_offsets[I];
            out[k++] = s;
          }
        }(),
        ...);
    return out;
  }

 public:
  /// Every named parameter tensor: layer index, name, offset, size, is-bias, fan-in.
  static constexpr std::array<Segment, segment_count_> segments = make_segments(std::make_index_sequence<layer_count>{});
  /// Every named buffer tensor (e.g. "3.running_mean"), offsets into the buffer array.
  static constexpr std::array<Segment, buffer_segment_count_> buffer_segments =
      make_buffer_segments(std::make_index_sequence<layer_count>{});

  /// One line per layer: index, name, output shape, parameters.
  static std::string summary() {
    std::string s = "Input " + InputShape::to_string() + "\n";
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((s += "  " + std::to_string(I) + ": " + Layer<I>::name() + " -> " + Layer<I>::OutputShape::to_string() +
             " (" + std::to_string(Layer<I>::parameter_count) + " params)\n"),
       ...);
    }(std::make_index_sequence<layer_count>{});
    s += "Total parameters: " + std::to_string(parameter_count) + "\n";
    return s;
  }
};

template <class T>
inline constexpr bool is_sequential_v = false;
template <class... A>
inline constexpr bool is_sequential_v<Sequential<A...>> = true;

}  // namespace strata
