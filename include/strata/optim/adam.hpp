#pragma once
// Adam (coupled L2 weight decay, optional AMSGrad) and AdamW (decoupled weight decay),
// with torch.optim.Adam / AdamW's update (single-tensor CPU path):
//   [AdamW: p *= 1 - lr wd]   [Adam: g += wd p]
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  [AMSGrad: vmax = max(vmax, v)]
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
#include <cmath>
#include <cstddef>
#include <string>

#include "../core/tensor.hpp"
#include "detail.hpp"

namespace strata::optim {

namespace detail {
template <bool Decoupled>
struct AdamBase {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = Decoupled ? 1e-2 : 0.0;
  bool amsgrad = false;

  static constexpr const char* name = Decoupled ? "adamw" : "adam";

  void validate() const {
    require_lr(lr);
    require_unit(beta1, "Adam beta1");
    require_unit(beta2, "Adam beta2");
    require(eps > 0 && std::isfinite(eps), "Adam eps must be finite and > 0");
    require_nonneg(weight_decay, "Adam weight_decay");
  }
  std::string describe() const {
    return std::string(Decoupled ? "AdamW" : "Adam") + "(lr=" + std::to_string(lr) + ", betas=(" +
           std::to_string(beta1) + ", " + std::to_string(beta2) + "), eps=" + std::to_string(eps) +
           ", weight_decay=" + std::to_string(weight_decay) + (amsgrad ? ", amsgrad" : "") + ")";
  }

  template <class T>
  struct State {
    AlignedVector<T> m, v, v_max;
    std::size_t steps = 0;
    /// Visits every state array as f(name, array) (empty when unused) and every counter as
    /// f(name, std::size_t&): how checkpoints save and restore the state.
    template <class F>
    void for_each_array(F&& f) {
      f("m", m);
      f("v", v);
      f("v_max", v_max);
    }
    template <class F>
    void for_each_array(F&& f) const {
      f("m", m);
      f("v", v);
      f("v_max", v_max);
    }
    template <class F>
    void for_each_counter(F&& f) { f("steps", steps); }
    template <class F>
    void for_each_counter(F&& f) const { f("steps", steps); }
  };
  template <class T>
  void init_state(State<T>& s, std::size_t n) const {
    s.m.assign(n, T(0));
    s.v.assign(n, T(0));
    if (amsgrad) s.v_max.assign(n, T(0));
    s.steps = 0;
  }
  template <class T>
  void begin_step(State<T>& s) const {
    ++s.steps;
  }
  template <class T>
  void step(State<T>& s, std::size_t offset, T* p, const T* g, std::size_t n, double lr_now, double wd) const {
    auto P = uarr(p, n);
    auto G = carr(g, n);
    auto M = uarr(s.m.data() + offset, n);
    auto V = uarr(s.v.data() + offset, n);
    const auto t = static_cast<double>(s.steps);
    const T b2 = static_cast<T>(beta2);
    // 1 - beta computed in double and rounded once, as torch does: 1 - float(beta2) is off
    // by 1.7e-4 relative for beta2 = 0.9999.
    const T c1 = static_cast<T>(1.0 - beta1), c2 = static_cast<T>(1.0 - beta2);
    const T step_size = static_cast<T>(lr_now / (1.0 - std::pow(beta1, t)));
    const T bc2_sqrt = static_cast<T>(std::sqrt(1.0 - std::pow(beta2, t)));
    const T e = static_cast<T>(eps);
    const T w = static_cast<T>(wd);
    if constexpr (Decoupled) {
      if (wd != 0) P *= static_cast<T>(1.0 - lr_now * wd);
      M += c1 * (G - M);  // lerp, as torch does
      V = b2 * V + c2 * G.square();
    } else {
      if (wd != 0) {
        M += c1 * ((G + w * P) - M);
        V = b2 * V + c2 * (G + w * P).square();
      } else {
        M += c1 * (G - M);
        V = b2 * V + c2 * G.square();
      }
    }
    if (amsgrad) {
      auto Vm = uarr(s.v_max.data() + offset, n);
      Vm = Vm.max(V);
      P -= step_size * M / (Vm.sqrt() / bc2_sqrt + e);
    } else {
      P -= step_size * M / (V.sqrt() / bc2_sqrt + e);
    }
  }
};
}  // namespace detail

/// Adam with coupled (L2) weight decay, as torch.optim.Adam.
/// **Example**: `optim::Adam{.lr = 1e-3, .weight_decay = 5e-4}`
using Adam = detail::AdamBase<false>;
/// Adam with decoupled weight decay, as torch.optim.AdamW (default weight_decay 1e-2).
using AdamW = detail::AdamBase<true>;

}  // namespace strata::optim
