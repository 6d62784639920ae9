#pragma once
// RMSprop with torch.optim.RMSprop's update:
//   g += wd p;  sq = alpha sq + (1 - alpha) g^2
//   centered: ga = lerp(ga, g, 1 - alpha); avg = sqrt(sq - ga^2) + eps, else avg = sqrt(sq) + eps
//   momentum: b = mu b + g / avg; p -= lr b,  else p -= lr g / avg
#include <cmath>
#include <cstddef>
#include <string>

#include "../core/tensor.hpp"
#include "detail.hpp"

namespace strata::optim {

struct RMSprop {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;

  static constexpr const char* name = "rmsprop";

  void validate() const {
    detail::require_lr(lr);
    detail::require(alpha >= 0 && alpha <= 1, "RMSprop alpha must be in [0, 1]");
    detail::require(eps > 0 && std::isfinite(eps), "RMSprop eps must be finite and > 0");
    detail::require_nonneg(weight_decay, "RMSprop weight_decay");
    detail::require_nonneg(momentum, "RMSprop momentum");
  }
  std::string describe() const {
    return "RMSprop(lr=" + std::to_string(lr) + ", alpha=" + std::to_string(alpha) +
           ", momentum=" + std::to_string(momentum) + ", weight_decay=" + std::to_string(weight_decay) +
           (centered ? ", centered" : "") + ")";
  }

  template <class T>
  struct State {
    AlignedVector<T> square_avg, grad_avg, momentum_buffer;
    std::size_t steps = 0;
    /// Visits every state array as f(name, array) (empty when unused) and every counter as
    /// f(name, std::size_t&): how checkpoints save and restore the state.
    template <class F>
    void for_each_array(F&& f) {
      f("square_avg", square_avg);
      f("grad_avg", grad_avg);
      f("momentum_buffer", momentum_buffer);
    }
    template <class F>
    void for_each_array(F&& f) const {
      f("square_avg", square_avg);
      f("grad_avg", grad_avg);
      f("momentum_buffer", momentum_buffer);
    }
    template <class F>
    void for_each_counter(F&& f) { f("steps", steps); }
    template <class F>
    void for_each_counter(F&& f) const { f("steps", steps); }
  };
  template <class T>
  void init_state(State<T>& s, std::size_t n) const {
    s.square_avg.assign(n, T(0));
    if (centered) s.grad_avg.assign(n, T(0));
    if (momentum > 0) s.momentum_buffer.assign(n, T(0));
    s.steps = 0;
  }
  template <class T>
  void begin_step(State<T>& s) const {
    ++s.steps;
  }
  template <class T>
  void step(State<T>& s, std::size_t offset, T* p, const T* g, std::size_t n, double lr_now, double wd) const {
    auto P = detail::uarr(p, n);
    auto G0 = detail::carr(g, n);
    const T w = static_cast<T>(wd);
    const auto G = G0 + w * P;  // lazily evaluated; P is only written at the end
    auto Sq = detail::uarr(s.square_avg.data() + offset, n);
    const T a = static_cast<T>(alpha);
    const T c = static_cast<T>(1.0 - alpha);  // rounded once, as torch does (not 1 - float(alpha))
    const T e = static_cast<T>(eps);
    const T lr_t = static_cast<T>(lr_now);
    Sq = a * Sq + c * G.square();
    if (centered) {
      auto Ga = detail::uarr(s.grad_avg.data() + offset, n);
      Ga += c * (G - Ga);
      if (momentum > 0) {
        auto B = detail::uarr(s.momentum_buffer.data() + offset, n);
        B = static_cast<T>(momentum) * B + G / ((Sq - Ga.square()).sqrt() + e);
        P -= lr_t * B;
      } else {
        P -= lr_t * G / ((Sq - Ga.square()).sqrt() + e);
      }
    } else if (momentum > 0) {
      auto B = detail::uarr(s.momentum_buffer.data() + offset, n);
      B = static_cast<T>(momentum) * B + G / (Sq.sqrt() + e);
      P -= lr_t * B;
    } else {
      P -= lr_t * G / (Sq.sqrt() + e);
    }
  }
};

}  // namespace strata::optim
