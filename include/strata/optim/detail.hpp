#pragma once
#include <cmath>
#include <string>

#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace strata::optim::detail {

template <class T>
auto arr(T* p, std::size_t n) {
  return Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>, Eigen::Aligned64>(p, static_cast<Eigen::Index>(n));
}
template <class T>
auto carr(const T* p, std::size_t n) {
  return Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(p, static_cast<Eigen::Index>(n));
}
template <class T>
auto uarr(T* p, std::size_t n) {
  return Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(p, static_cast<Eigen::Index>(n));
}

inline void require(bool ok, const std::string& what) {
  if (!ok) throw option_error("strata: " + what);
}
inline void require_lr(double lr) {
  require(std::isfinite(lr) && lr >= 0, "learning rate must be finite and >= 0, got " + std::to_string(lr));
}
inline void require_unit(double v, const char* name) {
  require(v >= 0.0 && v < 1.0, std::string(name) + " must be in [0, 1), got " + std::to_string(v));
}
inline void require_nonneg(double v, const char* name) {
  require(std::isfinite(v) && v >= 0.0, std::string(name) + " must be finite and >= 0, got " + std::to_string(v));
}

}  // namespace strata::optim::detail
