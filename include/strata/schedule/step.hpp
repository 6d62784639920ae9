#pragma once
// Step decay (torch.optim.lr_scheduler.StepLR): base * gamma^floor(t / step_size).
#include <cmath>
#include <cstddef>
#include <string>

#include "../core/error.hpp"

namespace strata::schedule {

struct Step {
  std::size_t step_size = 30;
  double gamma = 0.1;

  static constexpr const char* name = "step";
  double lr(double base, std::size_t t) const {
    return base * std::pow(gamma, static_cast<double>(t / step_size));
  }
  void validate() const {
    if (step_size == 0) throw option_error("strata: schedule::Step step_size must be > 0");
    if (!(gamma > 0 && std::isfinite(gamma))) throw option_error("strata: schedule::Step gamma must be finite and > 0");
  }
  std::string describe() const {
    return "Step(step_size=" + std::to_string(step_size) + ", gamma=" + std::to_string(gamma) + ")";
  }
};

}  // namespace strata::schedule
