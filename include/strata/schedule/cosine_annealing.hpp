#pragma once
// Cosine annealing (torch.optim.lr_scheduler.CosineAnnealingLR, closed form):
//   eta_min + (base - eta_min) (1 + cos(pi t / t_max)) / 2
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>

#include "../core/error.hpp"

namespace strata::schedule {

struct CosineAnnealing {
  std::size_t t_max = 100;
  double eta_min = 0.0;

  static constexpr const char* name = "cosine";
  double lr(double base, std::size_t t) const {
    return eta_min + (base - eta_min) *
                         (1.0 + std::cos(std::numbers::pi * static_cast<double>(t) / static_cast<double>(t_max))) / 2.0;
  }
  void validate() const {
    if (t_max == 0) throw option_error("strata: schedule::CosineAnnealing t_max must be > 0");
    if (!(eta_min >= 0 && std::isfinite(eta_min)))
      throw option_error("strata: schedule::CosineAnnealing eta_min must be finite and >= 0");
  }
  std::string describe() const {
    return "CosineAnnealing(t_max=" + std::to_string(t_max) + ", eta_min=" + std::to_string(eta_min) + ")";
  }
};

}  // namespace strata::schedule
