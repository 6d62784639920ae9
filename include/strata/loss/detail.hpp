#pragma once
// Shared pieces of the losses: stable log-sum-exp and accuracy counting.
#include <cmath>
#include <cstddef>
#include <string>

#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace strata::loss::detail {

/// log(sum(exp(z))) of one column, shifted by its maximum so that it never overflows.
template <class Col>
double log_sum_exp(const Col& z) {
  const double m = static_cast<double>(z.maxCoeff());
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (Eigen::Index k = 0; k < z.size(); ++k) s += std::exp(static_cast<double>(z[k]) - m);
  return m + std::log(s);
}

/// A class index stored in a target matrix, checked against the number of classes.
template <class T>
std::size_t class_index(T v, std::size_t classes, Eigen::Index sample) {
  const auto k = static_cast<long long>(v);
  if (!(v >= T(0)) || static_cast<T>(k) != v || static_cast<std::size_t>(k) >= classes)
    throw data_error("strata: target of sample " + std::to_string(sample) + " is " + std::to_string(v) +
                     ", not a class index in [0, " + std::to_string(classes) + ")");
  return static_cast<std::size_t>(k);
}

template <class O, class Y>
std::size_t count_argmax_match(const O& out, const Y& target) {
  constexpr int TR = Y::RowsAtCompileTime;
  std::size_t c = 0;
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    Eigen::Index a = 0, b = 0;
    out.col(j).maxCoeff(&a);
    if constexpr (TR == 1) {
      b = static_cast<Eigen::Index>(target(0, j));
    } else {
      target.col(j).maxCoeff(&b);
    }
    c += (a == b);
  }
  return c;
}

/// Every element is a binary decision: out > threshold against target > 0.5.
template <class O, class Y, class T>
std::size_t count_binary(const O& out, const Y& target, T threshold) {
  return static_cast<std::size_t>(((out.array() > threshold) == (target.array() > T(0.5))).count());
}

}  // namespace strata::loss::detail
