#pragma once
// Element-wise activations (ReLU, LeakyReLU, Sigmoid, Tanh) and Softmax over features.
// None has parameters; each keeps the shape of its input.
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
/// Common part of a parameter-free layer that keeps its input shape.
template <class In>
struct ShapePreserving {
  using InputShape = In;
  using OutputShape = In;
  static constexpr std::size_t parameter_count = 0;
  static constexpr std::size_t scratch_per_sample = 0;
  static constexpr std::array<Segment, 0> segments{};
  template <class T>
  static void init(T*, Rng&) {}
};

template <class In>
struct ReLULayer : ShapePreserving<In> {
  /// Its backward reads only its output, so a layer before it that offers forward_relu
  /// computes it in its own forward pass and leaves this layer's input unwritten.
  static constexpr bool is_relu = true;
  static std::string name() { return "ReLU"; }
  template <class T, class B>
  static void forward(const T*, const T* x, T* y, Context<T, B>& ctx) {
    B::relu_forward(x, y, In::size * ctx.batch);
  }
  template <class T, class B>
  static void backward(const T*, T*, const T*, const T* y, const T* dy, T* dx, Context<T, B>& ctx) {
    if (dx != nullptr) B::relu_backward(y, dy, dx, In::size * ctx.batch);
  }
};

template <class In, double Slope>
struct LeakyReLULayer : ShapePreserving<In> {
  static std::string name() { return "LeakyReLU(" + std::to_string(Slope) + ")"; }
  template <class T, class B>
  static void forward(const T*, const T* x, T* y, Context<T, B>& ctx) {
    B::leaky_relu_forward(x, y, In::size * ctx.batch, static_cast<T>(Slope));
  }
  template <class T, class B>
  static void backward(const T*, T*, const T* x, const T*, const T* dy, T* dx, Context<T, B>& ctx) {
    if (dx != nullptr) B::leaky_relu_backward(x, dy, dx, In::size * ctx.batch, static_cast<T>(Slope));
  }
};

template <class In>
struct SigmoidLayer : ShapePreserving<In> {
  static std::string name() { return "Sigmoid"; }
  template <class T, class B>
  static void forward(const T*, const T* x, T* y, Context<T, B>& ctx) {
    B::sigmoid_forward(x, y, In::size * ctx.batch);
  }
  template <class T, class B>
  static void backward(const T*, T*, const T*, const T* y, const T* dy, T* dx, Context<T, B>& ctx) {
    if (dx != nullptr) B::sigmoid_backward(y, dy, dx, In::size * ctx.batch);
  }
};

template <class In>
struct TanhLayer : ShapePreserving<In> {
  static std::string name() { return "Tanh"; }
  template <class T, class B>
  static void forward(const T*, const T* x, T* y, Context<T, B>& ctx) {
    B::tanh_forward(x, y, In::size * ctx.batch);
  }
  template <class T, class B>
  static void backward(const T*, T*, const T*, const T* y, const T* dy, T* dx, Context<T, B>& ctx) {
    if (dx != nullptr) B::tanh_backward(y, dy, dx, In::size * ctx.batch);
  }
};

template <class In>
struct SoftmaxLayer : ShapePreserving<In> {
  static std::string name() { return "Softmax"; }
  template <class T, class B>
  static void forward(const T*, const T* x, T* y, Context<T, B>& ctx) {
    B::template softmax_forward<In::size>(x, y, ctx.batch);
  }
  template <class T, class B>
  static void backward(const T*, T*, const T*, const T* y, const T* dy, T* dx, Context<T, B>& ctx) {
    if (dx != nullptr) B::template softmax_backward<In::size>(y, dy, dx, ctx.batch);
  }
};
}  // namespace detail

/// max(0, x) as torch.relu: 0 for x < 0, x otherwise (-0 and NaN pass through); the
/// gradient is 0 where the output is <= 0 and passes elsewhere (a NaN output included).
struct ReLU : LayerSpecTag {
  template <class In, std::size_t>
  struct bind {
    using type = detail::ReLULayer<In>;
  };
};

/// x for x > 0, Slope * x otherwise (torch.nn.LeakyReLU, default slope 0.01).
/// **Example**: `LeakyReLUWith<0.2>`.
template <double Slope>
struct LeakyReLUWith : LayerSpecTag {
  template <class In, std::size_t>
  struct bind {
    using type = detail::LeakyReLULayer<In, Slope>;
  };
};
using LeakyReLU = LeakyReLUWith<0.01>;

/// 1 / (1 + exp(-x)).
struct Sigmoid : LayerSpecTag {
  template <class In, std::size_t>
  struct bind {
    using type = detail::SigmoidLayer<In>;
  };
};

/// tanh(x).
struct Tanh : LayerSpecTag {
  template <class In, std::size_t>
  struct bind {
    using type = detail::TanhLayer<In>;
  };
};

/// Softmax over the features of each sample. Do not put it before loss::CrossEntropy,
/// which takes logits (as in PyTorch).
struct Softmax : LayerSpecTag {
  template <class In, std::size_t>
  struct bind {
    static_assert(In::rank == 1, "Softmax at this layer index takes a flat input (rank 1): insert Flatten before it");
    using type = detail::SoftmaxLayer<In>;
  };
};

}  // namespace strata
