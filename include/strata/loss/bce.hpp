#pragma once
// Binary cross-entropy on logits (torch.nn.BCEWithLogitsLoss, mean over every element),
// in the stable form max(z, 0) - z y + log(1 + exp(-|z|)).
#include <cmath>
#include <cstddef>
#include <string>

#include "../core/tensor.hpp"
#include "detail.hpp"

namespace strata::loss {

struct BCEWithLogits {
  static constexpr const char* name = "bce_with_logits";
  template <class Out>
  struct For {
    using TargetShape = Out;
  };
  void validate() const {}
  std::string describe() const { return "BCEWithLogits"; }

  template <class O, class Y, class T = typename O::Scalar>
  double value_and_gradient(const O& out, const Y& target, T* grad) const {
    const auto n = static_cast<double>(out.size());
    const T* z = out.data();
    const T* y = target.data();
    double total = 0;
    for (Eigen::Index i = 0; i < out.size(); ++i) {
      const double zi = static_cast<double>(z[i]);
      const double yi = static_cast<double>(y[i]);
      total += std::max(zi, 0.0) - zi * yi + std::log1p(std::exp(-std::abs(zi)));
      if (grad != nullptr) {
        const double s = zi >= 0 ? 1.0 / (1.0 + std::exp(-zi)) : std::exp(zi) / (1.0 + std::exp(zi));
        grad[i] = static_cast<T>((s - yi) / n);
      }
    }
    return total / n;
  }

  /// Each output is a binary decision at logit 0, so accuracy counts R decisions per sample.
  template <class Out>
  static constexpr std::size_t accuracy_units() {
    return Out::size;
  }
  template <class O, class Y>
  std::size_t count_correct(const O& out, const Y& target) const {
    using T = typename O::Scalar;
    return detail::count_binary(out, target, T(0));
  }
};

}  // namespace strata::loss
