#pragma once
// Generated data sets for tests and examples.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <string>
#include <utility>

#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "dataset.hpp"

namespace strata::data {

/// Interleaved 2-D spirals: `classes` arms of `per_class` points each, angle growing with
/// the radius, Gaussian noise of standard deviation `noise` on both coordinates.
/// Targets are class indices (Shape<1>); points lie roughly in [-1, 1]^2.
template <class T = float>
Dataset<Shape<2>, Shape<1>, T> spirals(std::size_t per_class, std::size_t classes = 2, double noise = 0.05,
                                       std::uint64_t seed = 0, double turns = 1.5) {
  if (per_class == 0 || classes < 2) throw option_error("strata: spirals needs per_class > 0 and classes >= 2");
  Rng rng(seed);
  const std::size_t n = per_class * classes;
  Eigen::Matrix<T, 2, Eigen::Dynamic> x(2, static_cast<Eigen::Index>(n));
  Eigen::Matrix<T, 1, Eigen::Dynamic> y(1, static_cast<Eigen::Index>(n));
  std::size_t j = 0;
  for (std::size_t i = 0; i < per_class; ++i) {
    const double r = (static_cast<double>(i) + 0.5) / static_cast<double>(per_class);
    for (std::size_t c = 0; c < classes; ++c, ++j) {
      const double angle = 2.0 * std::numbers::pi * (turns * r + static_cast<double>(c) / static_cast<double>(classes));
      const auto col = static_cast<Eigen::Index>(j);
      x(0, col) = static_cast<T>(r * std::cos(angle) + noise * rng.normal());
      x(1, col) = static_cast<T>(r * std::sin(angle) + noise * rng.normal());
      y(0, col) = static_cast<T>(c);
    }
  }
  return {x, y};
}

namespace detail {

/// Shuffles the columns of a generated set in place (sklearn's generators shuffle by default).
template <class T>
void shuffle_columns(Eigen::Matrix<T, 2, Eigen::Dynamic>& x, Eigen::Matrix<T, 1, Eigen::Dynamic>& y, Rng& rng) {
  for (Eigen::Index i = x.cols(); i > 1; --i) {
    const auto j = static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(i)));
    x.col(i - 1).swap(x.col(j));
    std::swap(y(0, i - 1), y(0, j));
  }
}

}  // namespace detail

/// Two concentric circles, as scikit-learn's make_circles: n / 2 points (rounded down)
/// evenly spaced on the unit circle (class 0), the rest on a circle of radius `factor`
/// (class 1), Gaussian noise of standard deviation `noise` on both coordinates, then
/// shuffled. Targets are class indices (Shape<1>).
///
/// **Example**: `auto c = data::circles(200, 0.05, 0.5, 1);  // 100 points of each class`
template <class T = float>
Dataset<Shape<2>, Shape<1>, T> circles(std::size_t n, double noise = 0.0, double factor = 0.8,
                                       std::uint64_t seed = 0) {
  if (n < 2) throw option_error("strata: circles needs n >= 2 (one point per class at least), got " + std::to_string(n));
  if (!(factor >= 0 && factor < 1))
    throw option_error("strata: circles needs 0 <= factor < 1 (the inner circle's radius), got " + std::to_string(factor));
  Rng rng(seed);
  const std::size_t n_out = n / 2, n_in = n - n_out;
  Eigen::Matrix<T, 2, Eigen::Dynamic> x(2, static_cast<Eigen::Index>(n));
  Eigen::Matrix<T, 1, Eigen::Dynamic> y(1, static_cast<Eigen::Index>(n));
  // np.linspace(0, 2 pi, m, endpoint=False)
  for (std::size_t j = 0; j < n; ++j) {
    const bool inner = j >= n_out;
    const std::size_t k = inner ? j - n_out : j, m = inner ? n_in : n_out;
    const double a = 2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(m);
    const double r = inner ? factor : 1.0;
    const auto col = static_cast<Eigen::Index>(j);
    x(0, col) = static_cast<T>(r * std::cos(a));
    x(1, col) = static_cast<T>(r * std::sin(a));
    y(0, col) = static_cast<T>(inner ? 1 : 0);
  }
  detail::shuffle_columns(x, y, rng);
  if (noise > 0)
    for (Eigen::Index j = 0; j < x.cols(); ++j)
      for (Eigen::Index i = 0; i < 2; ++i) x(i, j) = static_cast<T>(static_cast<double>(x(i, j)) + noise * rng.normal());
  return {x, y};
}

/// Two interleaving half circles, as scikit-learn's make_moons: n / 2 points (rounded
/// down) on the upper unit half circle (class 0), the rest on the lower half circle
/// shifted by (1, -0.5) (class 1), Gaussian noise of standard deviation `noise`, then
/// shuffled. Points lie roughly in [-1, 2] x [-0.5, 1]; targets are class indices.
///
/// **Example**: `auto m = data::moons(200, 0.1, 1);`
template <class T = float>
Dataset<Shape<2>, Shape<1>, T> moons(std::size_t n, double noise = 0.0, std::uint64_t seed = 0) {
  if (n < 2) throw option_error("strata: moons needs n >= 2 (one point per class at least), got " + std::to_string(n));
  Rng rng(seed);
  const std::size_t n_out = n / 2, n_in = n - n_out;
  Eigen::Matrix<T, 2, Eigen::Dynamic> x(2, static_cast<Eigen::Index>(n));
  Eigen::Matrix<T, 1, Eigen::Dynamic> y(1, static_cast<Eigen::Index>(n));
  // np.linspace(0, pi, m): both ends included
  auto angle = [](std::size_t k, std::size_t m) {
    return m > 1 ? std::numbers::pi * static_cast<double>(k) / static_cast<double>(m - 1) : 0.0;
  };
  for (std::size_t j = 0; j < n; ++j) {
    const bool inner = j >= n_out;
    const auto col = static_cast<Eigen::Index>(j);
    if (!inner) {
      const double a = angle(j, n_out);
      x(0, col) = static_cast<T>(std::cos(a));
      x(1, col) = static_cast<T>(std::sin(a));
    } else {
      const double a = angle(j - n_out, n_in);
      x(0, col) = static_cast<T>(1.0 - std::cos(a));
      x(1, col) = static_cast<T>(1.0 - std::sin(a) - 0.5);
    }
    y(0, col) = static_cast<T>(inner ? 1 : 0);
  }
  detail::shuffle_columns(x, y, rng);
  if (noise > 0)
    for (Eigen::Index j = 0; j < x.cols(); ++j)
      for (Eigen::Index i = 0; i < 2; ++i) x(i, j) = static_cast<T>(static_cast<double>(x(i, j)) + noise * rng.normal());
  return {x, y};
}

}  // namespace strata::data
