#pragma once
// One-hot targets, Gamma and Beta sampling, and mixup (Zhang et al., "mixup: Beyond
// Empirical Risk Minimization", 2018) on a batch stored one sample per column.
//
// Mixup blends each sample with another one of the same batch: with lambda ~ Beta(alpha,
// alpha), drawn once per batch, and a random permutation perm of the batch,
//   x_k <- lambda x_k + (1 - lambda) x_perm(k)
//   t_k  = lambda onehot(y_k) + (1 - lambda) onehot(y_perm(k)),
// as the reference PyTorch code does; cross-entropy against t_k equals its
// lambda * loss(y_k) + (1 - lambda) * loss(y_perm(k)).
//
// **Example**:
// ```cpp
// Rng rng(seed);
// const double lambda = data::mixup(x.data(), 784, y.data(), 10, targets.data(), batch, 0.2, rng, scratch.data());
// ```
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/error.hpp"
#include "../core/rng.hpp"

namespace strata::data {

namespace detail {

/// Checks that labels[0..batch) are integers in [0, classes); throws data_error naming the
/// first column that is not.
template <class T>
void check_labels(const T* labels, std::size_t batch, std::size_t classes, const char* who) {
  for (std::size_t k = 0; k < batch; ++k) {
    const double v = static_cast<double>(labels[k]);
    if (!(v >= 0) || v != std::floor(v) || v >= static_cast<double>(classes))
      throw data_error(std::string("strata: ") + who + ": column " + std::to_string(k) + " has label " +
                       std::to_string(v) + ", expected a class index in [0, " + std::to_string(classes) +
                       ") (targets of Shape<1> holding 0, 1, 2, ...)");
  }
}

/// log of a Gamma(shape >= 1, 1) sample: Marsaglia and Tsang (2000), "A simple method
/// for generating gamma variables". Accepts about 95% of proposals or more.
inline double log_gamma_ge1(double shape, Rng& rng) {
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = rng.normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = rng.uniform();
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return std::log(d * v);
    if (u > 0.0 && std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v))) return std::log(d * v);
  }
}

/// log of a Gamma(shape, 1) sample for any shape > 0. Below 1, Gamma(a) = Gamma(a + 1) *
/// U^(1/a) (the boost of Marsaglia and Tsang), kept in log space so that small shapes,
/// whose samples underflow a double, still give a usable log.
inline double log_gamma_sample(double shape, Rng& rng) {
  if (shape >= 1.0) return log_gamma_ge1(shape, rng);
  const double g = log_gamma_ge1(shape + 1.0, rng);
  double u = rng.uniform();
  while (u <= 0.0) u = rng.uniform();
  return g + std::log(u) / shape;
}

inline void check_shape(double v, const char* who, const char* name) {
  if (!(v > 0.0 && std::isfinite(v)))
    strata::detail::throw_option(std::string(who) + ": " + name + " must be finite and > 0, got " +
                                 std::to_string(v));
}

}  // namespace detail

/// A Gamma(shape, 1) sample (mean shape, variance shape); shape must be finite and > 0.
inline double sample_gamma(double shape, Rng& rng) {
  detail::check_shape(shape, "sample_gamma", "shape");
  return std::exp(detail::log_gamma_sample(shape, rng));
}

/// A Beta(a, b) sample in [0, 1] (mean a/(a+b)), as X / (X + Y) with X ~ Gamma(a), Y ~
/// Gamma(b) drawn in that order; a and b must be finite and > 0.
inline double sample_beta(double a, double b, Rng& rng) {
  detail::check_shape(a, "sample_beta", "a");
  detail::check_shape(b, "sample_beta", "b");
  const double lx = detail::log_gamma_sample(a, rng);
  const double ly = detail::log_gamma_sample(b, rng);
  return 1.0 / (1.0 + std::exp(ly - lx));  // X / (X + Y) without overflow or 0/0
}

/// One-hot encoding: `out` (classes x batch, column-major) gets 1 at row labels[k] of
/// column k and 0 elsewhere. Throws strata::data_error naming the column when a label is
/// not an integer in [0, classes); `out` is untouched then.
template <class T>
void one_hot(const T* labels, std::size_t batch, std::size_t classes, T* out) {
  detail::check_labels(labels, batch, classes, "one_hot");
  std::fill(out, out + batch * classes, T(0));
  for (std::size_t k = 0; k < batch; ++k) out[k * classes + static_cast<std::size_t>(labels[k])] = T(1);
}

/// Mixup on one batch, in place. x is in_rows x batch (one sample per column), labels
/// 1 x batch class indices, soft_targets classes x batch (written), scratch in_rows x
/// batch scalars (contents ignored). Draws lambda ~ Beta(alpha, alpha), then a permutation
/// (Fisher-Yates with rng); returns lambda. alpha == 0 turns mixing off: x is unchanged,
/// the soft targets are the one-hot labels, the result is 1 and nothing is drawn. Throws
/// strata::option_error for alpha < 0 or not finite, strata::data_error (naming the
/// column) for a label outside [0, classes), before anything is written.
/// Cost: three passes over x; allocates nothing.
template <class T>
double mixup(T* x, std::size_t in_rows, const T* labels, std::size_t classes, T* soft_targets, std::size_t batch,
             double alpha, Rng& rng, T* scratch) {
  if (!(alpha >= 0.0 && std::isfinite(alpha)))
    strata::detail::throw_option("mixup: alpha must be finite and >= 0 (0 turns mixup off; 0.1 to 0.4 is usual), got " +
                                 std::to_string(alpha));
  if (classes == 0) strata::detail::throw_option("mixup: classes must be > 0");
  one_hot(labels, batch, classes, soft_targets);  // checks the labels first
  if (alpha == 0.0 || batch == 0) return 1.0;
  const double lambda = sample_beta(alpha, alpha, rng);
  // scratch column k <- x_perm(k), soft column k <- onehot(y_perm(k)): Fisher-Yates moving
  // whole columns of both, the permutation applied as it is drawn.
  std::copy(x, x + in_rows * batch, scratch);
  for (std::size_t i = batch; i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.below(i));
    if (j == i - 1) continue;
    std::swap_ranges(scratch + (i - 1) * in_rows, scratch + i * in_rows, scratch + j * in_rows);
    std::swap_ranges(soft_targets + (i - 1) * classes, soft_targets + i * classes, soft_targets + j * classes);
  }
  const T l = static_cast<T>(lambda), m = static_cast<T>(1.0 - lambda);
  for (std::size_t i = 0; i < in_rows * batch; ++i) x[i] = l * x[i] + m * scratch[i];
  for (std::size_t k = 0; k < batch; ++k) {
    T* t = soft_targets + k * classes;
    for (std::size_t r = 0; r < classes; ++r) t[r] *= m;
    t[static_cast<std::size_t>(labels[k])] += l;
  }
  return lambda;
}

}  // namespace strata::data
