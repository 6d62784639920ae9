#pragma once
// Linear warm-up in front of any schedule, as PyTorch's
//   SequentialLR([LinearLR(start_factor, 1.0, total_iters=steps), after], milestones=[steps]):
//   t < steps: lr = after.lr(base, 0) * (start_factor + (1 - start_factor) t / steps)
//   t >= steps: lr = after.lr(base, t - steps)
#include <cmath>
#include <cstddef>
#include <string>

#include "../core/error.hpp"
#include "constant.hpp"

namespace strata::schedule {

template <class After = Constant>
struct Warmup {
  std::size_t steps = 5;
  double start_factor = 1.0 / 3.0;
  After after{};

  static constexpr const char* name = "warmup";
  double lr(double base, std::size_t t) const {
    if (t >= steps) return after.lr(base, t - steps);
    const double f = start_factor + (1.0 - start_factor) * static_cast<double>(t) / static_cast<double>(steps);
    return after.lr(base, 0) * f;
  }
  void validate() const {
    if (!(start_factor > 0 && start_factor <= 1))
      throw option_error("strata: schedule::Warmup start_factor must be in (0, 1]");
    after.validate();
  }
  std::string describe() const {
    return "Warmup(steps=" + std::to_string(steps) + ", start_factor=" + std::to_string(start_factor) + ") then " +
           after.describe();
  }
};

}  // namespace strata::schedule
