#pragma once
// A schedule chosen at run time: one Model type serves every schedule of a sweep
// (constant, step, multi-step, exponential, cosine annealing, with or without warm-up)
// instead of one instantiation each.
#include <cstddef>
#include <string>
#include <variant>

#include "constant.hpp"
#include "cosine_annealing.hpp"
#include "exponential.hpp"
#include "multi_step.hpp"
#include "step.hpp"
#include "warmup.hpp"

namespace strata::schedule {

struct Any {
  using Variant = std::variant<Constant, Step, MultiStep, Exponential, CosineAnnealing, Warmup<Constant>,
                               Warmup<CosineAnnealing>>;
  Variant s = Constant{};

  Any() = default;
  template <class S>
    requires std::is_constructible_v<Variant, S>
  Any(S schedule) : s(std::move(schedule)) {}  // NOLINT: implicit, `.schedule = schedule::CosineAnnealing{...}`

  static constexpr const char* name = "any";
  double lr(double base, std::size_t t) const {
    return std::visit([&](const auto& x) { return x.lr(base, t); }, s);
  }
  void validate() const {
    std::visit([](const auto& x) { x.validate(); }, s);
  }
  std::string describe() const {
    return std::visit([](const auto& x) { return x.describe(); }, s);
  }
};

}  // namespace strata::schedule
