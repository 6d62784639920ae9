#pragma once
// Generated data sets for tests and examples.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>

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

}  // namespace strata::data
