#pragma once
// Standardisation (zero mean, unit variance) fitted on training data only.
//
// Statistics come from the training set alone and are then applied unchanged to the
// validation and test sets: fitting them on all the data would leak the held-out sets'
// means and spreads into training. For flat shapes (Shape<F>, Shape<H,W>) each feature gets
// its own mean and standard deviation; for images Shape<C,H,W> each channel gets one, shared
// by all its pixels (so an always-black border pixel does not get blown up).
//
// The standard deviation is the population one (divide by n, as scikit-learn's
// StandardScaler). A group with (near) zero variance, such as a constant feature, gets
// std 1 instead: it is only centred, and never divided by zero into NaN or inf.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "dataset.hpp"

namespace strata::data {

/// Per-feature (flat shapes) or per-channel (Shape<C,H,W>) standardisation.
///
/// **Example**:
/// ```cpp
/// auto sx = data::fit_inputs(parts.train);      // statistics of the training inputs only
/// auto sy = data::fit_targets(parts.train);     // regression targets, too
/// auto train = data::transform(parts.train, sx, sy);
/// auto test = data::transform(parts.test, sx, sy);
/// // ... an RMSE of 0.4 on standardised targets is sy.to_original_units(0.4) in MEDV units
/// ```
template <class S, class T = float>
class Standardizer {
 public:
  /// Rows per group: every row for a flat shape, H*W rows per channel for <C,H,W>.
  static constexpr std::size_t groups = S::rank == 3 ? S::dims[0] : S::size;
  static constexpr std::size_t per_group = S::size / groups;

  Standardizer() = default;

  /// Fits means and standard deviations on `x` (S::size x N, one sample per column).
  /// Throws data_error for an empty set or a non-finite value.
  static Standardizer fit(const Columns<T, S::size>& x) {
    if (x.cols() == 0) throw data_error("strata: Standardizer::fit: the training set is empty, expected at least one sample");
    Standardizer s;
    s.mean_.assign(groups, 0.0);
    s.std_.assign(groups, 1.0);
    const double count = static_cast<double>(per_group) * static_cast<double>(x.cols());
    for (std::size_t g = 0; g < groups; ++g) {
      double sum = 0;
      for (std::size_t r = g * per_group; r < (g + 1) * per_group; ++r)
        for (Eigen::Index j = 0; j < x.cols(); ++j) {
          const double v = static_cast<double>(x(static_cast<Eigen::Index>(r), j));
          if (!std::isfinite(v))
            throw data_error("strata: Standardizer::fit: row " + std::to_string(r) + " of sample " + std::to_string(j) +
                             " is " + std::to_string(v) + ", expected finite values (clean or impute the data first)");
          sum += v;
        }
      const double mean = sum / count;
      double sq = 0;  // two passes: no cancellation for large means
      for (std::size_t r = g * per_group; r < (g + 1) * per_group; ++r)
        for (Eigen::Index j = 0; j < x.cols(); ++j) {
          const double d = static_cast<double>(x(static_cast<Eigen::Index>(r), j)) - mean;
          sq += d * d;
        }
      const double sd = std::sqrt(sq / count);
      s.mean_[g] = mean;
      // Zero variance (up to rounding of the mean): std 1, so the group is only centred.
      s.std_[g] = sd > 1e-12 * std::max(1.0, std::abs(mean)) ? sd : 1.0;
    }
    return s;
  }

  bool fitted() const { return !mean_.empty(); }
  /// Per group (feature or channel).
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& stddev() const { return std_; }

  /// (x - mean) / std, group by group.
  Columns<T, S::size> transform(const Columns<T, S::size>& x) const {
    require_fitted("transform");
    Columns<T, S::size> out(x.rows(), x.cols());
    for (std::size_t r = 0; r < S::size; ++r) {
      const std::size_t g = r / per_group;
      const auto ri = static_cast<Eigen::Index>(r);
      for (Eigen::Index j = 0; j < x.cols(); ++j)
        out(ri, j) = static_cast<T>((static_cast<double>(x(ri, j)) - mean_[g]) / std_[g]);
    }
    return out;
  }

  /// x * std + mean: standardised values (e.g. predicted targets) back in original units.
  Columns<T, S::size> inverse(const Columns<T, S::size>& z) const {
    require_fitted("inverse");
    Columns<T, S::size> out(z.rows(), z.cols());
    for (std::size_t r = 0; r < S::size; ++r) {
      const std::size_t g = r / per_group;
      const auto ri = static_cast<Eigen::Index>(r);
      for (Eigen::Index j = 0; j < z.cols(); ++j)
        out(ri, j) = static_cast<T>(static_cast<double>(z(ri, j)) * std_[g] + mean_[g]);
    }
    return out;
  }

  /// An error measured on standardised values (RMSE, MAE) in original units: error * std
  /// of `feature` (the only one for Shape<1> regression targets). Means shift, scales
  /// multiply, so differences only see the std.
  double to_original_units(double error, std::size_t feature = 0) const {
    require_fitted("to_original_units");
    if (feature >= S::size)
      strata::detail::throw_option("Standardizer::to_original_units: feature " + std::to_string(feature) +
                           " is out of range for shape " + S::to_string());
    return error * std_[feature / per_group];
  }

  /// "Standardizer<13>: per feature, mean [3.61, 11.4, ...], std [8.6, 23.3, ...]".
  std::string summary() const {
    std::ostringstream s;
    s << "Standardizer<" << S::to_string() << ">: per " << (S::rank == 3 ? "channel" : "feature");
    if (!fitted()) return s.str() + ", not fitted";
    auto list = [&](const std::vector<double>& v) {
      s << "[";
      for (std::size_t i = 0; i < v.size() && i < 4; ++i) s << (i ? ", " : "") << v[i];
      s << (v.size() > 4 ? ", ...]" : "]");
    };
    s << ", mean ";
    list(mean_);
    s << ", std ";
    list(std_);
    return s.str();
  }

 private:
  void require_fitted(const char* what) const {
    if (!fitted())
      strata::detail::throw_option(std::string("Standardizer::") + what +
                           ": not fitted; create it with Standardizer::fit(train.x) or data::fit_inputs(train)");
  }
  std::vector<double> mean_, std_;
};

/// A Standardizer for the inputs of a training set.
template <class In, class Tg, class T>
Standardizer<In, T> fit_inputs(const Dataset<In, Tg, T>& train) {
  return Standardizer<In, T>::fit(train.x);
}

/// A Standardizer for the targets of a training set (regression).
template <class In, class Tg, class T>
Standardizer<Tg, T> fit_targets(const Dataset<In, Tg, T>& train) {
  return Standardizer<Tg, T>::fit(train.y);
}

/// `d` with standardised inputs; targets unchanged.
template <class In, class Tg, class T>
Dataset<In, Tg, T> transform(const Dataset<In, Tg, T>& d, const Standardizer<In, T>& inputs) {
  Dataset<In, Tg, T> out;
  out.x = inputs.transform(d.x);
  out.y = d.y;
  return out;
}

/// `d` with standardised inputs and targets.
template <class In, class Tg, class T>
Dataset<In, Tg, T> transform(const Dataset<In, Tg, T>& d, const Standardizer<In, T>& inputs,
                             const Standardizer<Tg, T>& targets) {
  Dataset<In, Tg, T> out;
  out.x = inputs.transform(d.x);
  out.y = targets.transform(d.y);
  return out;
}

}  // namespace strata::data
