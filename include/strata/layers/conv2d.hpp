#pragma once
// Conv2D<OutChannels, Kernel, Stride, Padding>: 2-D convolution over channel-first images
// (torch.nn.Conv2d with a square kernel, equal strides and zero padding on every side).
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>

#include "../core/concepts.hpp"
#include "../core/context.hpp"
#include "../core/rng.hpp"
#include "../core/segment.hpp"
#include "../core/rejected_layer.hpp"
#include "../core/shape.hpp"

namespace strata {

/// Pass as Conv2D's Padding to keep the image size: pad (Kernel - 1) / 2 on every side.
/// Needs an odd kernel and stride 1. **Example**: `Conv2D<32, 3, 1, same_padding>`.
inline constexpr std::size_t same_padding = static_cast<std::size_t>(-1);

/// Pass as Conv2D's Bias for a convolution without bias (torch.nn.Conv2d(bias=False)), as
/// before a BatchNorm, whose shift makes a bias redundant.
/// **Example**: `Conv2D<64, 3, 1, 1, no_bias>`.
inline constexpr bool no_bias = false;

namespace detail {

/// Bound layer of a convolution on <C, H, W> images: OC output channels, K x K kernel,
/// stride S, zero padding P on each side, a bias per output channel when Bias.
/// Output <OC, (H + 2P - K)/S + 1, (W + 2P - K)/S + 1>.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t OC, std::size_t K, std::size_t S, std::size_t P,
          bool Bias = true>
struct Conv2DLayer {
  static constexpr std::size_t out_height = (H + 2 * P - K) / S + 1;
  static constexpr std::size_t out_width = (W + 2 * P - K) / S + 1;
  using InputShape = Shape<C, H, W>;
  using OutputShape = Shape<OC, out_height, out_width>;

  static constexpr std::size_t fan_in = C * K * K;
  static constexpr std::size_t weight_count = OC * fan_in;
  static constexpr std::size_t parameter_count = weight_count + (Bias ? OC : 0);
  /// Parameters in torch.nn.Conv2d's layout: weight [OC][C][K][K], then bias [OC] (if any).
  static constexpr auto segments = [] {
    if constexpr (Bias)
      return std::array<Segment, 2>{{
          Segment{0, "weight", 0, weight_count, false, fan_in}.shaped({OC, C, K, K}),
          Segment{0, "bias", weight_count, OC, true, fan_in}.shaped({OC}),
      }};
    else
      return std::array<Segment, 1>{{Segment{0, "weight", 0, weight_count, false, fan_in}.shaped({OC, C, K, K})}};
  }();
  /// The unfolded input (C*K*K x OH*OW, kept from forward for the weight gradient; rows
  /// padded to a multiple of 32 positions, which vector kernels read whole) and the output
  /// gradient in channel-major order (OC x OH*OW): what an im2col + GEMM kernel needs, so
  /// that no kernel allocates during a step. (The CPU backend's ConvPlan::scratch.)
  static constexpr std::size_t padded_positions = (out_height * out_width + 31) / 32 * 32;
  static constexpr std::size_t scratch_per_sample = fan_in * padded_positions + OC * out_height * out_width;

  static std::string name() {
    // Appends rather than operator+ chains: GCC 12 warns falsely (-Wrestrict) on those.
    std::string s = "Conv2D<";
    s += std::to_string(OC);
    s += ',';
    s += std::to_string(K);
    if (S != 1 || P != 0 || !Bias) {  // defaults omitted
      s += ',';
      s += std::to_string(S);
      s += ',';
      s += std::to_string(P);
    }
    if (!Bias) s += ",no_bias";
    s += '>';
    return s;
  }

  /// torch.nn.Conv2d's default: kaiming_uniform_(a = sqrt(5)) for the weight, which is
  /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C*K*K, and the same bound for the bias.
  template <class T>
  static void init(T* p, Rng& rng) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    for (std::size_t i = 0; i < parameter_count; ++i) p[i] = static_cast<T>(rng.uniform(-bound, bound));
  }

  template <class T, class B>
  static void forward(const T* p, const T* x, T* y, Context<T, B>& ctx) {
    B::template conv2d_forward<C, H, W, OC, K, S, P>(p, Bias ? p + weight_count : nullptr, x, y, ctx.scratch,
                                                     ctx.batch);
  }

  /// forward and the ReLU that follows in the stack in one pass: relu_y = relu(conv(x)),
  /// applied as the kernels store each block or sample. y, the ReLU's input, is not written:
  /// no backward pass reads it (this layer's needs x and dy, ReLU's its own output). For
  /// backends that offer it.
  template <class T, class B>
    requires requires(const T* c, T* m, std::size_t n) {
      B::template conv2d_forward<C, H, W, OC, K, S, P>(c, c, c, m, m, n, true);
    }
  static void forward_relu(const T* p, const T* x, T* /*y*/, T* relu_y, Context<T, B>& ctx) {
    B::template conv2d_forward<C, H, W, OC, K, S, P>(p, Bias ? p + weight_count : nullptr, x, relu_y, ctx.scratch,
                                                     ctx.batch, true);
  }

  template <class T, class B>
  static void backward(const T* p, T* g, const T* x, const T* /*y*/, const T* dy, T* dx, Context<T, B>& ctx) {
    B::template conv2d_backward<C, H, W, OC, K, S, P>(p, x, dy, g, Bias ? g + weight_count : nullptr, dx,
                                                      ctx.scratch, ctx.batch);
  }
};


}  // namespace detail

/// A 2-D convolution with OutChannels filters of Kernel x Kernel, stride Stride and zero
/// padding Padding on every side (or `same_padding`). Takes a channel-first image <C, H, W>
/// and gives <OutChannels, (H + 2P - K)/S + 1, (W + 2P - K)/S + 1>, as torch.nn.Conv2d.
/// `Bias = no_bias` drops the bias (torch.nn.Conv2d(bias=False)).
///
/// **Example**: `Sequential<Input<1, 28, 28>, Conv2D<32, 3>, ReLU, MaxPool<2>, Flatten, Dense<10>>`
template <std::size_t OutChannels, std::size_t Kernel, std::size_t Stride = 1, std::size_t Padding = 0,
          bool Bias = true>
struct Conv2D : LayerSpecTag {
  static_assert(OutChannels > 0, "Conv2D<OutChannels, Kernel, ...>: the number of output channels must be > 0");
  static_assert(Kernel > 0, "Conv2D<OutChannels, Kernel, ...>: the kernel size must be > 0");
  static_assert(Stride > 0, "Conv2D<OutChannels, Kernel, Stride, ...>: the stride must be > 0");
  static_assert(Padding != same_padding || Kernel % 2 == 1,
                "Conv2D with same_padding needs an odd kernel (it pads (Kernel - 1) / 2 on every side)");
  static_assert(Padding != same_padding || Stride == 1,
                "Conv2D with same_padding needs stride 1 (with a larger stride the output cannot keep the input size)");

  static constexpr bool valid_spec = OutChannels > 0 && Kernel > 0 && Stride > 0 &&
                                     (Padding != same_padding || (Kernel % 2 == 1 && Stride == 1));
  /// The padding on each side, `same_padding` resolved.
  static constexpr std::size_t padding = Padding == same_padding ? (Kernel - 1) / 2 : Padding;

  template <class In, std::size_t Index>
  struct bind {
    static constexpr bool is_image = In::rank == 3;
    static_assert(is_image,
                  "Conv2D at this layer index takes a channel-first image <C, H, W> (rank 3), e.g. Input<1, 28, 28>, "
                  "but gets a flat or other-rank shape: a convolution cannot follow Flatten or Dense");
    static constexpr std::size_t channels = is_image ? In::dims[0] : 1;
    static constexpr std::size_t height = is_image ? In::dims[1] : 1;
    static constexpr std::size_t width = is_image ? In::dims[2] : 1;
    static constexpr bool fits = !is_image || (Kernel <= height + 2 * padding && Kernel <= width + 2 * padding);
    static_assert(fits,
                  "Conv2D at this layer index: the kernel is larger than its (padded) input image; the rule is "
                  "Kernel <= H + 2 * Padding and Kernel <= W + 2 * Padding (the input shape is the first argument "
                  "of bind<>)");
    using type = std::conditional_t<valid_spec && is_image && fits,
                                    detail::Conv2DLayer<channels, height, width, OutChannels, Kernel, Stride, padding, Bias>,
                                    detail::RejectedLayer<In>>;
  };
};

}  // namespace strata
