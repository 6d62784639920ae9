#pragma once
// Cross-entropy on logits (torch.nn.CrossEntropyLoss, mean over the batch), with
// class-index targets (CrossEntropy) or probability targets (SoftCrossEntropy, as
// produced by mixup), and optional label smoothing with PyTorch's definition.
#include <cmath>
#include <cstddef>
#include <string>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "detail.hpp"

namespace strata::loss {

namespace detail {
inline void validate_smoothing(double s) {
  if (!(s >= 0.0 && s <= 1.0))
    throw option_error("strata: label_smoothing must be in [0, 1], got " + std::to_string(s));
}
template <class Out>
struct ClassesOf {
  static_assert(Out::rank == 1, "cross-entropy takes a flat output of logits (rank 1): add Flatten and Dense<classes>");
  static_assert(Out::size >= 2,
                "cross-entropy needs at least 2 classes (logits); for one logit use loss::BCEWithLogits");
  static constexpr std::size_t value = Out::size;
};
}  // namespace detail

/// Targets are class indices, one per sample (TargetShape = Shape<1>).
struct CrossEntropy {
  double label_smoothing = 0.0;

  static constexpr const char* name = "cross_entropy";
  template <class Out>
  struct For {
    static constexpr std::size_t classes = detail::ClassesOf<Out>::value;
    static_assert(sizeof(detail::ClassesOf<Out>) > 0);  // instantiates the checks in ClassesOf
    using TargetShape = Shape<1>;
  };
  void validate() const { detail::validate_smoothing(label_smoothing); }
  std::string describe() const { return "CrossEntropy(label_smoothing=" + std::to_string(label_smoothing) + ")"; }

  template <class O, class Y, class T = typename O::Scalar>
  double value_and_gradient(const O& out, const Y& target, T* grad) const {
    constexpr std::size_t C = O::RowsAtCompileTime;
    const Eigen::Index batch = out.cols();
    const double eps = label_smoothing;
    const double inv_b = 1.0 / static_cast<double>(batch);
    double total = 0;
    for (Eigen::Index j = 0; j < batch; ++j) {
      const auto z = out.col(j);
      const std::size_t y = detail::class_index(target(0, j), C, j);
      const double lse = detail::log_sum_exp(z);
      double sample = (1.0 - eps) * (lse - static_cast<double>(z[static_cast<Eigen::Index>(y)]));
      if (eps > 0) sample += eps / static_cast<double>(C) * (static_cast<double>(C) * lse - z.template cast<double>().sum());
      total += sample;
      if (grad != nullptr) {
        T* g = grad + static_cast<std::size_t>(j) * C;
        for (std::size_t k = 0; k < C; ++k) {
          const double p = std::exp(static_cast<double>(z[static_cast<Eigen::Index>(k)]) - lse);
          const double t = (k == y ? 1.0 - eps : 0.0) + eps / static_cast<double>(C);
          g[k] = static_cast<T>((p - t) * inv_b);
        }
      }
    }
    return total * inv_b;
  }

  template <class O, class Y>
  std::size_t count_correct(const O& out, const Y& target) const {
    return detail::count_argmax_match(out, target);
  }
};

/// Targets are class probabilities, one column per sample (TargetShape = the output shape).
struct SoftCrossEntropy {
  double label_smoothing = 0.0;

  static constexpr const char* name = "soft_cross_entropy";
  template <class Out>
  struct For {
    static constexpr std::size_t classes = detail::ClassesOf<Out>::value;
    static_assert(sizeof(detail::ClassesOf<Out>) > 0);  // instantiates the checks in ClassesOf
    using TargetShape = Out;
  };
  void validate() const { detail::validate_smoothing(label_smoothing); }
  std::string describe() const { return "SoftCrossEntropy(label_smoothing=" + std::to_string(label_smoothing) + ")"; }

  template <class O, class Y, class T = typename O::Scalar>
  double value_and_gradient(const O& out, const Y& target, T* grad) const {
    constexpr std::size_t C = O::RowsAtCompileTime;
    const Eigen::Index batch = out.cols();
    const double eps = label_smoothing;
    const double inv_b = 1.0 / static_cast<double>(batch);
    double total = 0;
    for (Eigen::Index j = 0; j < batch; ++j) {
      const auto z = out.col(j);
      const double lse = detail::log_sum_exp(z);
      double tsum = 0;
      for (std::size_t k = 0; k < C; ++k) {
        const auto kk = static_cast<Eigen::Index>(k);
        const double t = (1.0 - eps) * static_cast<double>(target(kk, j)) + eps / static_cast<double>(C);
        tsum += t;
        total -= t * (static_cast<double>(z[kk]) - lse);
      }
      if (grad != nullptr) {
        T* g = grad + static_cast<std::size_t>(j) * C;
        for (std::size_t k = 0; k < C; ++k) {
          const auto kk = static_cast<Eigen::Index>(k);
          const double p = std::exp(static_cast<double>(z[kk]) - lse);
          const double t = (1.0 - eps) * static_cast<double>(target(kk, j)) + eps / static_cast<double>(C);
          g[k] = static_cast<T>((p * tsum - t) * inv_b);
        }
      }
    }
    return total * inv_b;
  }

  template <class O, class Y>
  std::size_t count_correct(const O& out, const Y& target) const {
    return detail::count_argmax_match(out, target);
  }
};

}  // namespace strata::loss
