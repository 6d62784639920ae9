#pragma once
// Mean squared error, mean over every element (torch.nn.MSELoss()).
// Works on one-hot targets too, as people use it for classification.
#include <cmath>
#include <cstddef>
#include <string>

#include "../core/tensor.hpp"
#include "detail.hpp"

namespace strata::loss {

struct MSE {
  static constexpr const char* name = "mse";
  template <class Out>
  struct For {
    using TargetShape = Out;
  };
  void validate() const {}
  std::string describe() const { return "MSE"; }

  /// Mean loss over all B * R elements; d loss / d out into `grad` when non-null.
  template <class O, class Y, class T = typename O::Scalar>
  double value_and_gradient(const O& out, const Y& target, T* grad) const {
    constexpr std::size_t R = O::RowsAtCompileTime;
    const auto n = static_cast<double>(out.size());
    const double sum = (out - target).template cast<double>().squaredNorm();
    if (grad != nullptr) {
      ColumnsMap<T, R> g(grad, R, out.cols());
      g = (out - target) * static_cast<T>(2.0 / n);
    }
    return sum / n;
  }

  /// Classification accuracy when used on one-hot targets (argmax) or on 0/1 targets
  /// with one output (threshold 0.5).
  template <class O, class Y>
  std::size_t count_correct(const O& out, const Y& target) const {
    constexpr std::size_t R = O::RowsAtCompileTime;
    using T = typename O::Scalar;
    if constexpr (R == 1) {
      return detail::count_binary(out, target, T(0.5));
    } else {
      return detail::count_argmax_match(out, target);
    }
  }
};

}  // namespace strata::loss
