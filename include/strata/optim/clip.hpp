#pragma once
// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_).
#include <cmath>
#include <span>

namespace strata::optim {

/// Scales `grads` by max_norm / (norm + 1e-6) when that is below 1; returns the norm
/// before clipping (accumulated in double, so the same for every thread count).
template <class T>
double clip_grad_norm(std::span<T> grads, double max_norm) {
  double sq = 0;
  for (T g : grads) sq += static_cast<double>(g) * static_cast<double>(g);
  const double norm = std::sqrt(sq);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    const auto c = static_cast<T>(coef);
    for (T& g : grads) g *= c;
  }
  return norm;
}

}  // namespace strata::optim
