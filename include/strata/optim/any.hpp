#pragma once
// An optimizer chosen at run time (SGD, Adam, AdamW or RMSprop): one Model type serves
// every optimizer of a sweep instead of one instantiation each. The update is the chosen
// optimizer's own; `lr` and `weight_decay` live here (the Model reads and sets them) and
// are handed to the chosen optimizer at every step.
#include <cstddef>
#include <string>
#include <type_traits>
#include <variant>

#include "../core/error.hpp"
#include "adam.hpp"
#include "rmsprop.hpp"
#include "sgd.hpp"

namespace strata::optim {

struct Any {
  using Variant = std::variant<SGD, Adam, AdamW, RMSprop>;
  Variant chosen = Adam{};
  double lr = 1e-3;
  double weight_decay = 0.0;

  Any() = default;
  /// Takes lr and weight_decay from the optimizer given.
  template <class O>
    requires std::is_constructible_v<Variant, O>
  Any(O o) : chosen(o), lr(o.lr), weight_decay(o.weight_decay) {}  // NOLINT: implicit, `.optimizer = optim::SGD{...}`

  static constexpr const char* name = "any";

  /// "sgd", "adam", "adamw" or "rmsprop".
  std::string kind() const {
    return std::visit([](const auto& o) { return std::string(std::decay_t<decltype(o)>::name); }, chosen);
  }
  void validate() const {
    std::visit([&](auto o) {
      o.lr = lr;
      o.weight_decay = weight_decay;
      o.validate();
    }, chosen);
  }
  std::string describe() const {
    return std::visit([&](auto o) {
      o.lr = lr;
      o.weight_decay = weight_decay;
      return o.describe();
    }, chosen);
  }

  template <class T>
  struct State {
    std::variant<SGD::State<T>, Adam::State<T>, AdamW::State<T>, RMSprop::State<T>> s;

    template <class F>
    void for_each_array(F&& f) {
      std::visit([&](auto& x) { x.for_each_array(f); }, s);
    }
    template <class F>
    void for_each_array(F&& f) const {
      std::visit([&](const auto& x) { x.for_each_array(f); }, s);
    }
    template <class F>
    void for_each_counter(F&& f) {
      std::visit([&](auto& x) { x.for_each_counter(f); }, s);
    }
    template <class F>
    void for_each_counter(F&& f) const {
      std::visit([&](const auto& x) { x.for_each_counter(f); }, s);
    }
  };

  template <class T>
  void init_state(State<T>& st, std::size_t n) const {
    std::visit([&](const auto& o) {
      using O = std::decay_t<decltype(o)>;
      o.init_state(st.s.template emplace<typename O::template State<T>>(), n);
    }, chosen);
  }
  template <class T>
  void begin_step(State<T>& st) const {
    std::visit([&](const auto& o) {
      using O = std::decay_t<decltype(o)>;
      o.begin_step(std::get<typename O::template State<T>>(st.s));
    }, chosen);
  }
  template <class T>
  void step(State<T>& st, std::size_t offset, T* p, const T* g, std::size_t n, double lr_now, double wd) const {
    std::visit([&](const auto& o) {
      using O = std::decay_t<decltype(o)>;
      o.step(std::get<typename O::template State<T>>(st.s), offset, p, g, n, lr_now, wd);
    }, chosen);
  }
};

/// The optimizer named `kind` with these settings (momentum applies to SGD and RMSprop).
inline Any make(const std::string& kind, double lr, double momentum = 0.0, double weight_decay = 0.0) {
  if (kind == "sgd") return SGD{.lr = lr, .momentum = momentum, .weight_decay = weight_decay};
  if (kind == "adam") return Adam{.lr = lr, .weight_decay = weight_decay};
  if (kind == "adamw") return AdamW{.lr = lr, .weight_decay = weight_decay};
  if (kind == "rmsprop") return RMSprop{.lr = lr, .weight_decay = weight_decay, .momentum = momentum};
  throw option_error("strata: unknown optimizer '" + kind + "' (sgd, adam, adamw, rmsprop)");
}

}  // namespace strata::optim
