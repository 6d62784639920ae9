#pragma once
// Multi-step decay (torch.optim.lr_scheduler.MultiStepLR): base * gamma^(number of
// milestones <= t).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace strata::schedule {

struct MultiStep {
  std::vector<std::size_t> milestones;
  double gamma = 0.1;

  static constexpr const char* name = "multi_step";
  double lr(double base, std::size_t t) const {
    const auto passed = std::count_if(milestones.begin(), milestones.end(), [t](std::size_t m) { return m <= t; });
    return base * std::pow(gamma, static_cast<double>(passed));
  }
  void validate() const {
    if (!std::is_sorted(milestones.begin(), milestones.end()))
      throw option_error("strata: schedule::MultiStep milestones must be increasing");
    if (!(gamma > 0 && std::isfinite(gamma)))
      throw option_error("strata: schedule::MultiStep gamma must be finite and > 0");
  }
  std::string describe() const {
    std::string s = "MultiStep(milestones=[";
    for (std::size_t i = 0; i < milestones.size(); ++i) s += (i ? "," : "") + std::to_string(milestones[i]);
    return s + "], gamma=" + std::to_string(gamma) + ")";
  }
};

}  // namespace strata::schedule
