#pragma once
// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay,
// with torch.optim.SGD's update:
//   g += wd p;  b = g on the first step, else b = mu b + (1 - dampening) g;
//   g = nesterov ? g + mu b : b;  p -= lr g
#include <cstddef>
#include <string>

#include "../core/tensor.hpp"
#include "detail.hpp"

namespace strata::optim {

struct SGD {
  double lr = 1e-2;
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;

  static constexpr const char* name = "sgd";

  void validate() const {
    detail::require_lr(lr);
    detail::require_nonneg(momentum, "SGD momentum");
    detail::require_nonneg(weight_decay, "SGD weight_decay");
    detail::require(dampening >= 0 && dampening <= 1, "SGD dampening must be in [0, 1]");
    detail::require(!nesterov || (momentum > 0 && dampening == 0),
                    "SGD nesterov needs momentum > 0 and dampening 0 (as in torch.optim.SGD)");
  }
  std::string describe() const {
    return "SGD(lr=" + std::to_string(lr) + ", momentum=" + std::to_string(momentum) +
           ", weight_decay=" + std::to_string(weight_decay) + (nesterov ? ", nesterov" : "") + ")";
  }

  template <class T>
  struct State {
    AlignedVector<T> momentum_buffer;
    std::size_t steps = 0;
    /// Visits every state array as f(name, array) (empty when unused) and every counter as
    /// f(name, std::size_t&): how checkpoints save and restore the state.
    template <class F>
    void for_each_array(F&& f) { f("momentum_buffer", momentum_buffer); }
    template <class F>
    void for_each_array(F&& f) const { f("momentum_buffer", momentum_buffer); }
    template <class F>
    void for_each_counter(F&& f) { f("steps", steps); }
    template <class F>
    void for_each_counter(F&& f) const { f("steps", steps); }
  };
  template <class T>
  void init_state(State<T>& s, std::size_t n) const {
    if (momentum != 0) s.momentum_buffer.assign(n, T(0));
    s.steps = 0;
  }
  template <class T>
  void begin_step(State<T>& s) const {
    ++s.steps;
  }
  /// Updates the n parameters at p (offset `offset` in the flat buffer) from gradients g.
  template <class T>
  void step(State<T>& s, std::size_t offset, T* p, const T* g, std::size_t n, double lr_now, double wd) const {
    auto P = detail::uarr(p, n);
    auto G = detail::carr(g, n);
    const T w = static_cast<T>(wd);
    const T lr_t = static_cast<T>(lr_now);
    if (momentum == 0) {
      if (wd != 0) P -= lr_t * (G + w * P);
      else P -= lr_t * G;
      return;
    }
    auto B = detail::uarr(s.momentum_buffer.data() + offset, n);
    const T mu = static_cast<T>(momentum);
    const T damp = static_cast<T>(1.0 - dampening);
    if (s.steps == 1) B = G + w * P;
    else B = mu * B + damp * (G + w * P);
    if (nesterov) P -= lr_t * ((G + w * P) + mu * B);
    else P -= lr_t * B;
  }
};

}  // namespace strata::optim
