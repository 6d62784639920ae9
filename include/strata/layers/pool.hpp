#pragma once
// Pooling over channel-first images: MaxPool<K, Stride> and AvgPool<K, Stride> (PyTorch's
// MaxPool2d / AvgPool2d: no padding, floor mode) and GlobalAvgPool (the mean of each
// channel, <C, H, W> -> <C>). None has parameters.
#include <array>
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

namespace detail {

/// Common part of the pooling layers on <C, H, W> images with a K x K window and stride S.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S>
struct PoolLayerBase {
  static constexpr std::size_t out_height = (H - K) / S + 1;
  static constexpr std::size_t out_width = (W - K) / S + 1;
  using InputShape = Shape<C, H, W>;
  using OutputShape = Shape<C, out_height, out_width>;
  static constexpr std::size_t parameter_count = 0;
  static constexpr std::size_t scratch_per_sample = 0;
  static constexpr std::array<Segment, 0> segments{};
  template <class T>
  static void init(T*, Rng&) {}

 protected:
  static std::string args() {
    // Appends rather than "<" + std::to_string(K): GCC 12 warns falsely (-Wrestrict) on the latter.
    std::string s = "<";
    s += std::to_string(K);
    if (S != K) {
      s += ',';
      s += std::to_string(S);
    }
    s += '>';
    return s;
  }
};

/// The maximum of each window. No scratch: backward finds each window's chosen element (the
/// first maximum in row-major order, PyTorch's choice for ties; the last NaN when the
/// maximum is NaN) again from the layer's input, and routes the gradient there.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S>
struct MaxPoolLayer : PoolLayerBase<C, H, W, K, S> {
  static std::string name() { return "MaxPool" + MaxPoolLayer::args(); }
  template <class T, class B>
  static void forward(const T*, const T* x, T* y, Context<T, B>& ctx) {
    B::template max_pool_forward<C, H, W, K, S>(x, y, ctx.batch);
  }
  template <class T, class B>
  static void backward(const T*, T*, const T* x, const T*, const T* dy, T* dx, Context<T, B>& ctx) {
    if (dx != nullptr) B::template max_pool_backward<C, H, W, K, S>(x, dy, dx, ctx.batch);
  }
};

/// The mean of each window.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S>
struct AvgPoolLayer : PoolLayerBase<C, H, W, K, S> {
  static std::string name() { return "AvgPool" + AvgPoolLayer::args(); }
  template <class T, class B>
  static void forward(const T*, const T* x, T* y, Context<T, B>& ctx) {
    B::template avg_pool_forward<C, H, W, K, S>(x, y, ctx.batch);
  }
  template <class T, class B>
  static void backward(const T*, T*, const T*, const T*, const T* dy, T* dx, Context<T, B>& ctx) {
    if (dx != nullptr) B::template avg_pool_backward<C, H, W, K, S>(dy, dx, ctx.batch);
  }
};

/// The mean of each channel: <C, H, W> -> <C>.
template <std::size_t C, std::size_t H, std::size_t W>
struct GlobalAvgPoolLayer {
  using InputShape = Shape<C, H, W>;
  using OutputShape = Shape<C>;
  static constexpr std::size_t parameter_count = 0;
  static constexpr std::size_t scratch_per_sample = 0;
  static constexpr std::array<Segment, 0> segments{};
  static std::string name() { return "GlobalAvgPool"; }
  template <class T>
  static void init(T*, Rng&) {}
  template <class T, class B>
  static void forward(const T*, const T* x, T* y, Context<T, B>& ctx) {
    B::template global_avg_pool_forward<C, H * W>(x, y, ctx.batch);
  }
  template <class T, class B>
  static void backward(const T*, T*, const T*, const T*, const T* dy, T* dx, Context<T, B>& ctx) {
    if (dx != nullptr) B::template global_avg_pool_backward<C, H * W>(dy, dx, ctx.batch);
  }
};


/// The <C, H, W> of an image shape (1s for any other rank, which its layer's check rejects).
template <class In>
struct ImageDims {
  static constexpr bool is_image = In::rank == 3;
  static constexpr std::size_t channels = is_image ? In::dims[0] : 1;
  static constexpr std::size_t height = is_image ? In::dims[1] : 1;
  static constexpr std::size_t width = is_image ? In::dims[2] : 1;
  /// A K x K window fits without padding.
  static constexpr bool fits(std::size_t k) { return !is_image || (k <= height && k <= width); }
};

}  // namespace detail

/// Max pooling over K x K windows with stride Stride (default K), no padding, floor mode
/// (torch.nn.MaxPool2d(K, Stride)). Takes <C, H, W>, gives <C, (H - K)/S + 1, (W - K)/S + 1>.
///
/// **Example**: `Sequential<Input<1, 28, 28>, Conv2D<32, 3>, ReLU, MaxPool<2>>` (26x26 -> 13x13)
template <std::size_t K, std::size_t Stride = K>
struct MaxPool : LayerSpecTag {
  static_assert(K > 0, "MaxPool<K, Stride>: the window size K must be > 0");
  static_assert(Stride > 0, "MaxPool<K, Stride>: the stride must be > 0");
  template <class In, std::size_t Index>
  struct bind {
    using D = detail::ImageDims<In>;
    static_assert(D::is_image,
                  "MaxPool at this layer index takes a channel-first image <C, H, W> (rank 3) but gets a flat or "
                  "other-rank shape: pooling cannot follow Flatten or Dense");
    static_assert(D::fits(K),
                  "MaxPool at this layer index: the pooling window does not fit in its input image; the rule is "
                  "K <= H and K <= W (no padding; the input shape is the first argument of bind<>)");
    using type = std::conditional_t<K != 0 && Stride != 0 && D::is_image && D::fits(K),
                                    detail::MaxPoolLayer<D::channels, D::height, D::width, K, Stride>,
                                    detail::RejectedLayer<In>>;
  };
};

/// Average pooling over K x K windows with stride Stride (default K), no padding, floor
/// mode (torch.nn.AvgPool2d(K, Stride)).
template <std::size_t K, std::size_t Stride = K>
struct AvgPool : LayerSpecTag {
  static_assert(K > 0, "AvgPool<K, Stride>: the window size K must be > 0");
  static_assert(Stride > 0, "AvgPool<K, Stride>: the stride must be > 0");
  template <class In, std::size_t Index>
  struct bind {
    using D = detail::ImageDims<In>;
    static_assert(D::is_image,
                  "AvgPool at this layer index takes a channel-first image <C, H, W> (rank 3) but gets a flat or "
                  "other-rank shape: pooling cannot follow Flatten or Dense");
    static_assert(D::fits(K),
                  "AvgPool at this layer index: the pooling window does not fit in its input image; the rule is "
                  "K <= H and K <= W (no padding; the input shape is the first argument of bind<>)");
    using type = std::conditional_t<K != 0 && Stride != 0 && D::is_image && D::fits(K),
                                    detail::AvgPoolLayer<D::channels, D::height, D::width, K, Stride>,
                                    detail::RejectedLayer<In>>;
  };
};

/// The mean of each channel over the whole image: <C, H, W> -> <C> (a flat shape, so Dense
/// can follow directly; torch.nn.AdaptiveAvgPool2d(1) followed by Flatten).
struct GlobalAvgPool : LayerSpecTag {
  template <class In, std::size_t Index>
  struct bind {
    using D = detail::ImageDims<In>;
    static_assert(D::is_image,
                  "GlobalAvgPool at this layer index takes a channel-first image <C, H, W> (rank 3) but gets a flat "
                  "or other-rank shape");
    using type = std::conditional_t<D::is_image, detail::GlobalAvgPoolLayer<D::channels, D::height, D::width>,
                                    detail::RejectedLayer<In>>;
  };
};

}  // namespace strata
