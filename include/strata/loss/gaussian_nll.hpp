#pragma once
// Gaussian negative log-likelihood with a mean head and a log-variance head.
// The network's output holds K means followed by K log-variances (Shape<2K>); the
// target holds K values. Matches torch.nn.GaussianNLLLoss(full, eps, reduction='mean')
// applied to (mean, exp(log_var), target): the variance is clamped below at eps for
// the value and the gradient, and the gradient flows through the clamp unchanged, as
// PyTorch's in-place no-grad clamp does.
//
// Computed in log space, log max(exp(s), eps) = max(s, log eps), so that a large
// log-variance s gives a large finite loss (about s / 2) where exp(s) would overflow to
// inf (s > 709 in double) and its gradient 0 * inf = NaN; wherever torch's value is finite
// the two agree to rounding.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>

#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace strata::loss {

struct GaussianNLL {
  double eps = 1e-6;
  bool full = false;

  static constexpr const char* name = "gaussian_nll";
  template <class Out>
  struct For {
    static_assert(Out::rank == 1 && Out::size % 2 == 0,
                  "GaussianNLL needs a flat output with an even number of features: K means then K log-variances "
                  "(end the net with Dense<2 * K>)");
    using TargetShape = Shape<Out::size / 2>;
  };
  void validate() const {
    if (!(eps > 0)) throw option_error("strata: GaussianNLL eps must be > 0, got " + std::to_string(eps));
  }
  std::string describe() const { return "GaussianNLL(eps=" + std::to_string(eps) + ")"; }

  template <class O, class Y, class T = typename O::Scalar>
  double value_and_gradient(const O& out, const Y& target, T* grad) const {
    constexpr std::size_t R = O::RowsAtCompileTime;
    constexpr std::size_t K = Y::RowsAtCompileTime;
    static_assert(R == 2 * K);
    const Eigen::Index batch = out.cols();
    const double n = static_cast<double>(batch) * static_cast<double>(K);
    const double log_eps = std::log(eps);
    double total = 0;
    for (Eigen::Index j = 0; j < batch; ++j) {
      for (std::size_t k = 0; k < K; ++k) {
        const auto kk = static_cast<Eigen::Index>(k);
        const double mu = static_cast<double>(out(kk, j));
        const double s = static_cast<double>(out(kk + static_cast<Eigen::Index>(K), j));
        const double log_vc = std::max(s, log_eps);  // log of the clamped variance vc = max(exp(s), eps)
        const double inv_vc = std::exp(-log_vc);     // <= 1 / eps
        const double d = mu - static_cast<double>(target(kk, j));
        const double q = d * d * inv_vc;             // d^2 / vc
        total += 0.5 * (log_vc + q);
        if (grad != nullptr) {
          T* g = grad + static_cast<std::size_t>(j) * R;
          g[k] = static_cast<T>(d * inv_vc / n);
          // d/ds = 0.5 (1 / vc - d^2 / vc^2) exp(s) = 0.5 (1 - q) exp(s) / vc, and exp(s) / vc
          // is 1 above the clamp, exp(s) / eps below it (the pass-through gradient).
          g[k + K] = static_cast<T>(0.5 * (1.0 - q) * std::exp(s - log_vc) / n);
        }
      }
    }
    double value = total / n;
    if (full) value += 0.5 * std::log(2 * std::numbers::pi);
    return value;
  }
};

/// The means of a GaussianNLL output (rows 0..K-1 of 2K x B), as a K x B matrix.
template <class O>
auto gaussian_mean(const Eigen::MatrixBase<O>& out) {
  constexpr Eigen::Index R = O::RowsAtCompileTime;
  static_assert(R != Eigen::Dynamic && R % 2 == 0, "gaussian_mean takes the 2K x B output of a GaussianHead<K>");
  return out.template topRows<R / 2>().eval();
}

/// The predicted standard deviations of a GaussianNLL output: sqrt(max(exp(s), eps)) for the
/// log-variances s in rows K..2K-1, the variance clamp GaussianNLL applies, computed as
/// exp(max(s, log eps) / 2), which does not overflow where exp(s) would. K x B.
template <class O>
auto gaussian_sigma(const Eigen::MatrixBase<O>& out, double eps = 1e-6) {
  constexpr Eigen::Index R = O::RowsAtCompileTime;
  static_assert(R != Eigen::Dynamic && R % 2 == 0, "gaussian_sigma takes the 2K x B output of a GaussianHead<K>");
  using T = typename O::Scalar;
  return out.template bottomRows<R / 2>()
      .unaryExpr([log_eps = std::log(eps)](T s) {
        return static_cast<T>(std::exp(0.5 * std::max(static_cast<double>(s), log_eps)));
      })
      .eval();
}

}  // namespace strata::loss
