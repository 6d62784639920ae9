#pragma once
#include <cstddef>
#include <string>

namespace strata::schedule {

/// The base learning rate at every step.
struct Constant {
  static constexpr const char* name = "constant";
  double lr(double base, std::size_t) const { return base; }
  void validate() const {}
  std::string describe() const { return "Constant"; }
};

}  // namespace strata::schedule
