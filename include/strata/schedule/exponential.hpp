#pragma once
// Exponential decay (torch.optim.lr_scheduler.ExponentialLR): base * gamma^t.
#include <cmath>
#include <cstddef>
#include <string>

#include "../core/error.hpp"

namespace strata::schedule {

struct Exponential {
  double gamma = 0.95;

  static constexpr const char* name = "exponential";
  double lr(double base, std::size_t t) const { return base * std::pow(gamma, static_cast<double>(t)); }
  void validate() const {
    if (!(gamma > 0 && std::isfinite(gamma)))
      throw option_error("strata: schedule::Exponential gamma must be finite and > 0");
  }
  std::string describe() const { return "Exponential(gamma=" + std::to_string(gamma) + ")"; }
};

}  // namespace strata::schedule
