#pragma once
// BatchNorm: batch normalisation over features (after a dense layer, input <F>) or over
// channels (after a convolution, input <C, H, W>), with PyTorch's semantics
// (torch.nn.BatchNorm1d / BatchNorm2d): biased batch variance to normalise, unbiased
// variance into the running estimate, momentum 0.1, eps 1e-5, affine, running statistics
// used in eval mode.
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
template <class In, double Momentum, double Eps>
struct BatchNormLayer {
  using InputShape = In;
  using OutputShape = In;
  static constexpr std::size_t channels = In::dims[0];
  static constexpr std::size_t spatial = In::size / channels;
  static constexpr std::size_t parameter_count = 2 * channels;
  /// xhat per sample, then per-channel batch mean and inv_std (needs 2C <= 2C * B).
  static constexpr std::size_t scratch_per_sample = In::size + 2 * channels;
  static constexpr std::array<Segment, 2> segments{{
      Segment{0, "weight", 0, channels, false, 1}.shaped({channels}),
      Segment{0, "bias", channels, channels, true, 1}.shaped({channels}),
  }};
  /// running_mean, running_var, num_batches_tracked (as in a PyTorch state dict).
  static constexpr std::size_t buffer_count = 2 * channels + 1;
  static constexpr std::array<Segment, 3> buffer_segments{{
      Segment{0, "running_mean", 0, channels, false, 0}.shaped({channels}),
      Segment{0, "running_var", channels, channels, false, 0}.shaped({channels}),
      Segment{0, "num_batches_tracked", 2 * channels, 1, false, 0}.scalar(),  // an int64 scalar in PyTorch
  }};

  static std::string name() { return "BatchNorm"; }

  /// PyTorch's reset_parameters: weight 1, bias 0.
  template <class T>
  static void init(T* p, Rng&) {
    for (std::size_t c = 0; c < channels; ++c) {
      p[c] = T(1);
      p[channels + c] = T(0);
    }
  }
  /// running_mean 0, running_var 1, num_batches_tracked 0.
  template <class T>
  static void init_buffers(T* b) {
    for (std::size_t c = 0; c < channels; ++c) {
      b[c] = T(0);
      b[channels + c] = T(1);
    }
    b[2 * channels] = T(0);
  }

  template <class T, class B>
  static void forward(const T* p, const T* x, T* y, Context<T, B>& ctx) {
    T* xhat = ctx.scratch;
    T* mean = ctx.scratch + In::size * ctx.batch;
    T* inv_std = mean + channels;
    T* buf = ctx.buffers;
    if (ctx.mode == Mode::train) {
      B::template batch_norm_forward_train<channels, spatial>(x, y, p, p + channels, xhat, mean, inv_std, buf,
                                                              buf + channels, ctx.batch, Momentum, Eps);
      buf[2 * channels] += T(1);
    } else {
      B::template batch_norm_forward_eval<channels, spatial>(x, y, p, p + channels, xhat, inv_std, buf,
                                                             buf + channels, ctx.batch, Eps);
    }
  }

  template <class T, class B>
  static void backward(const T* p, T* g, const T*, const T*, const T* dy, T* dx, Context<T, B>& ctx) {
    const T* xhat = ctx.scratch;
    const T* inv_std = ctx.scratch + In::size * ctx.batch + channels;
    B::template batch_norm_backward<channels, spatial>(dy, xhat, p, inv_std, g, g + channels, dx, ctx.batch,
                                                       ctx.mode == Mode::train);
  }
};
}  // namespace detail

/// Batch normalisation with momentum and eps as template parameters.
/// **Example**: `BatchNormWith<0.01, 1e-3>`.
template <double Momentum = 0.1, double Eps = 1e-5>
struct BatchNormWith : LayerSpecTag {
  static_assert(Momentum >= 0.0 && Momentum <= 1.0, "BatchNorm momentum must be in [0, 1]");
  static_assert(Eps > 0.0, "BatchNorm eps must be > 0");
  template <class In, std::size_t Index>
  struct bind {
    static_assert(In::rank == 1 || In::rank == 3,
                  "BatchNorm at this layer index normalises features <F> (after Dense) or channels <C, H, W> "
                  "(after Conv2D); other ranks are not supported");
    using type = detail::BatchNormLayer<In, Momentum, Eps>;
  };
};

/// Batch normalisation with PyTorch's defaults (momentum 0.1, eps 1e-5).
using BatchNorm = BatchNormWith<>;

}  // namespace strata
