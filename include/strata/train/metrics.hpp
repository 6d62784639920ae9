#pragma once
// Metrics reported next to the loss: accuracy, top-k accuracy, RMSE, MAE and the negative
// log-likelihood. A metric is a runtime value (`metric::top_k(5)`, `metric::rmse(scale)`);
// how it reads the network's output follows from the loss and the shapes:
//   - class-index targets (one row) and K >= 2 logits: accuracy, top-k, NLL of softmax;
//   - as many outputs as targets (MSE, BCE): RMSE and MAE on the outputs, accuracy as the
//     loss defines it, NLL of the Bernoulli for BCE;
//   - GaussianNLL (K means then K log-variances for K targets): RMSE and MAE on the means,
//     the Gaussian NLL including its constant 0.5 log(2 pi).
// `scale` converts errors to original units when targets were standardised (pass the
// target's standard deviation): RMSE and MAE are multiplied by it and log(scale) is added to
// the Gaussian NLL per target, so they read in dollars rather than z-scores.
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <string>
#include <type_traits>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../loss/bce.hpp"
#include "../loss/cross_entropy.hpp"
#include "../loss/detail.hpp"
#include "../loss/gaussian_nll.hpp"
#include "../loss/mse.hpp"

namespace strata::metric {

enum class Kind { automatic, none, accuracy, top_k, rmse, mae, nll };

struct Metric {
  Kind kind = Kind::automatic;
  std::size_t k = 1;   ///< top-k
  double scale = 1.0;  ///< multiplies RMSE and MAE (target standard deviation for original units)

  /// "accuracy", "top5", "rmse", "mae", "nll", "none" (automatic prints as "auto").
  std::string name() const {
    switch (kind) {
      case Kind::automatic: return "auto";
      case Kind::none: return "none";
      case Kind::accuracy: return "accuracy";
      case Kind::top_k: return "top" + std::to_string(k);
      case Kind::rmse: return "rmse";
      case Kind::mae: return "mae";
      case Kind::nll: return "nll";
    }
    return "?";
  }
  /// Accuracies improve upwards, errors and likelihood losses downwards.
  bool higher_is_better() const { return kind == Kind::accuracy || kind == Kind::top_k; }
};

inline Metric automatic() { return {}; }
inline Metric none() { return {Kind::none}; }
inline Metric accuracy() { return {Kind::accuracy}; }
inline Metric top_k(std::size_t k) {
  if (k == 0) strata::detail::throw_option("metric::top_k: k must be >= 1");
  return {Kind::top_k, k};
}
inline Metric rmse(double scale = 1.0) { return {Kind::rmse, 1, scale}; }
inline Metric mae(double scale = 1.0) { return {Kind::mae, 1, scale}; }
inline Metric nll(double scale = 1.0) { return {Kind::nll, 1, scale}; }

namespace detail {

template <class L>
inline constexpr bool is_gaussian_v = std::is_same_v<L, loss::GaussianNLL>;
template <class L>
inline constexpr bool is_bce_v = std::is_same_v<L, loss::BCEWithLogits>;
template <class L>
inline constexpr bool is_mse_v = std::is_same_v<L, loss::MSE>;

}  // namespace detail

/// Accumulates one metric over batches of (output, target) columns of a model whose loss is
/// `Loss` (bound to the output shape), with OutRows outputs and TargetRows targets per sample.
template <class Loss, std::size_t OutRows, std::size_t TargetRows, bool HasAccuracy>
class Accumulator {
 public:
  static constexpr bool classes = TargetRows == 1 && OutRows >= 2 && !detail::is_gaussian_v<Loss>;
  static constexpr bool gaussian = detail::is_gaussian_v<Loss> && OutRows == 2 * TargetRows;
  static constexpr bool elementwise = OutRows == TargetRows;

  /// Resolves Kind::automatic and checks that the metric applies (throws option_error).
  Accumulator(Metric m, const Loss& loss, double units_per_sample = 1) : m_(resolve(m)), loss_(&loss) {
    units_ = units_per_sample;
    switch (m_.kind) {
      case Kind::accuracy:
        if (!HasAccuracy) fail("accuracy", "the loss defines no accuracy for these outputs");
        break;
      case Kind::top_k:
        if (!classes) fail(m_.name(), "it needs class-index targets and at least 2 logits");
        if (m_.k > OutRows) fail(m_.name(), "k is larger than the " + std::to_string(OutRows) + " classes");
        break;
      case Kind::rmse:
      case Kind::mae:
        if (!(gaussian || (elementwise && !detail::is_bce_v<Loss>)))
          fail(m_.name(), "it needs a regression output (as many outputs as targets, or a Gaussian head)");
        break;
      case Kind::nll:
        if (!(classes || gaussian || (elementwise && detail::is_bce_v<Loss>)))
          fail("nll", "it needs class-index targets with logits, BCE on logits, or a Gaussian head");
        break;
      default: break;
    }
    if (!(m_.scale > 0 && std::isfinite(m_.scale)))
      strata::detail::throw_option("metric scale must be finite and > 0, got " + std::to_string(m_.scale));
  }

  const Metric& metric() const { return m_; }
  bool enabled() const { return m_.kind != Kind::none; }
  void reset() { sum_ = 0, count_ = 0; }

  template <class O, class Y>
  void add(const O& out, const Y& target) {
    const Eigen::Index b = out.cols();
    switch (m_.kind) {
      case Kind::none:
      case Kind::automatic: return;
      case Kind::accuracy:
        if constexpr (HasAccuracy) {
          sum_ += static_cast<double>(loss_->count_correct(out, target));
          count_ += static_cast<double>(b) * units_;
        }
        return;
      case Kind::top_k:
        if constexpr (classes) {
          for (Eigen::Index j = 0; j < b; ++j) {
            const std::size_t y = loss::detail::class_index(target(0, j), OutRows, j);
            const auto zy = out(static_cast<Eigen::Index>(y), j);
            std::size_t above = 0;
            for (Eigen::Index r = 0; r < static_cast<Eigen::Index>(OutRows); ++r) above += out(r, j) > zy;
            sum_ += above < m_.k ? 1.0 : 0.0;
          }
          count_ += static_cast<double>(b);
        }
        return;
      case Kind::rmse:
      case Kind::mae:
        if constexpr (gaussian || elementwise) {
          for (Eigen::Index j = 0; j < b; ++j)
            for (Eigen::Index r = 0; r < static_cast<Eigen::Index>(TargetRows); ++r) {
              const double e = static_cast<double>(out(r, j)) - static_cast<double>(target(r, j));
              sum_ += m_.kind == Kind::rmse ? e * e : std::abs(e);
            }
          count_ += static_cast<double>(b) * static_cast<double>(TargetRows);
        }
        return;
      case Kind::nll: add_nll(out, target); return;
    }
  }

  /// The metric over everything added since the last reset (NaN when nothing was added).
  double value() const {
    if (count_ == 0) return std::numeric_limits<double>::quiet_NaN();
    const double mean = sum_ / count_;
    switch (m_.kind) {
      case Kind::rmse: return std::sqrt(mean) * m_.scale;
      case Kind::mae: return mean * m_.scale;
      default: return mean;
    }
  }

  static Metric resolve(Metric m) {
    if (m.kind != Kind::automatic) return m;
    if constexpr (gaussian) return rmse(m.scale);
    if constexpr (detail::is_mse_v<Loss> && OutRows == 1) return rmse(m.scale);
    if constexpr (HasAccuracy) return accuracy();
    if constexpr (elementwise) return rmse(m.scale);
    return none();
  }

 private:
  [[noreturn]] static void fail(const std::string& name, const std::string& why) {
    strata::detail::throw_option("metric " + name + " does not apply to loss " + std::string(Loss::name) + " with " +
                                 std::to_string(OutRows) + " outputs and " + std::to_string(TargetRows) +
                                 " target rows per sample: " + why);
  }

  template <class O, class Y>
  void add_nll(const O& out, const Y& target) {
    const Eigen::Index b = out.cols();
    if constexpr (classes) {
      for (Eigen::Index j = 0; j < b; ++j) {
        const std::size_t y = loss::detail::class_index(target(0, j), OutRows, j);
        sum_ += loss::detail::log_sum_exp(out.col(j)) - static_cast<double>(out(static_cast<Eigen::Index>(y), j));
      }
      count_ += static_cast<double>(b);
    } else if constexpr (gaussian) {
      // In log space as the loss computes it: log max(exp(v), eps) = max(v, log eps), finite
      // where exp(v) would overflow.
      const double log_eps = std::log(loss_->eps);
      const double c = 0.5 * std::log(2.0 * std::numbers::pi) + std::log(m_.scale);
      for (Eigen::Index j = 0; j < b; ++j) {
        double s = 0;
        for (Eigen::Index r = 0; r < static_cast<Eigen::Index>(TargetRows); ++r) {
          const double log_var = std::max(static_cast<double>(out(r + static_cast<Eigen::Index>(TargetRows), j)), log_eps);
          const double e = static_cast<double>(target(r, j)) - static_cast<double>(out(r, j));
          s += 0.5 * (log_var + e * e * std::exp(-log_var)) + c;
        }
        sum_ += s;
      }
      count_ += static_cast<double>(b);
    } else if constexpr (elementwise && detail::is_bce_v<Loss>) {
      for (Eigen::Index j = 0; j < b; ++j)
        for (Eigen::Index r = 0; r < static_cast<Eigen::Index>(TargetRows); ++r) {
          const double z = static_cast<double>(out(r, j)), y = static_cast<double>(target(r, j));
          // -[y log s(z) + (1 - y) log(1 - s(z))] = max(z, 0) - z y + log(1 + exp(-|z|))
          sum_ += std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::abs(z)));
        }
      count_ += static_cast<double>(b) * static_cast<double>(TargetRows);
    }
  }

  Metric m_;
  const Loss* loss_;
  double units_ = 1;
  double sum_ = 0, count_ = 0;
};

}  // namespace strata::metric
