#pragma once
// PerHead<LossA, LossB, ...>: one loss per head of a Heads layer, combined as
// sum_k weights[k] * loss_k. Like a layer spec, it is bound to the network's output shape
// (HeadsShape<OutA, OutB, ...>) by Model, which then knows each head's rows: the output and
// the targets (HeadsShape<TargetA, TargetB, ...>) are split row-wise, each head's rows are
// copied into contiguous buffers owned by the bound loss (grown once, then reused), and
// each head's loss sees ordinary one-sample-per-column matrices.
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../layers/heads.hpp"

namespace strata::loss {

namespace detail {
template <class L, std::size_t R, std::size_t TR>
concept CountsCorrect = requires(const L& l, ConstColumnsMap<float, R> o, ConstColumnsMap<float, TR> t) {
  l.count_correct(o, t);
};
template <class L, class Out>
constexpr std::size_t accuracy_units_of() {
  if constexpr (requires { L::template accuracy_units<Out>(); })
    return L::template accuracy_units<Out>();
  else
    return 1;
}
/// Only reached after PerHead::For's static_assert has fired; keeps that the only error.
template <class Settings, class Out>
class PerHeadBound {
 public:
  explicit PerHeadBound(const Settings&) {}
  void validate() const {}
  template <class O, class Y, class T = typename O::Scalar>
  double value_and_gradient(const O&, const Y&, T*) const {
    return 0;
  }
};
}  // namespace detail

template <class... Losses>
struct PerHead {
  static constexpr std::size_t count = sizeof...(Losses);
  /// Weight of each head's loss in the total (default 1 each).
  std::array<double, count> weights = [] {
    std::array<double, count> w{};
    w.fill(1.0);
    return w;
  }();
  /// Each head's loss settings.
  std::tuple<Losses...> losses{};

  static constexpr const char* name = "per_head";

  template <class Out>
  struct For {
    static_assert(sizeof(Out) == 0,
                  "loss::PerHead needs a network that ends in Heads<Head<...>, ...>, with one loss per head");
    using TargetShape = Out;  // keeps the error above the only one
  };
  template <class... Outs>
  struct For<HeadsShape<Outs...>> {
    static_assert(sizeof...(Outs) == count, "loss::PerHead: give exactly one loss per head");
    using TargetShape = HeadsShape<typename Losses::template For<Outs>::TargetShape...>;
  };
  template <class Out>
  using Bound = detail::PerHeadBound<PerHead, Out>;

  void validate() const {
    for (double w : weights)
      if (!(w >= 0 && std::isfinite(w))) throw option_error("strata: PerHead weights must be finite and >= 0");
    std::apply([](const auto&... l) { (l.validate(), ...); }, losses);
  }
  std::string describe() const {
    std::string s = "PerHead(";
    std::size_t k = 0;
    std::apply(
        [&](const auto&... l) {
          ((s += (k ? ", " : "") + std::to_string(weights[k]) + " * " + l.describe(), ++k), ...);
        },
        losses);
    return s + ")";
  }
};

namespace detail {

template <class... Losses, class... Outs>
class PerHeadBound<PerHead<Losses...>, HeadsShape<Outs...>> {
 public:
  using Settings = PerHead<Losses...>;
  using OutShape = HeadsShape<Outs...>;
  using TargetShape = typename Settings::template For<OutShape>::TargetShape;
  static constexpr std::size_t count = sizeof...(Losses);
  static constexpr const char* name = "per_head";

  explicit PerHeadBound(const Settings& s) : settings_(s) {}
  void validate() const { settings_.validate(); }
  std::string describe() const { return settings_.describe(); }

  /// The last value_and_gradient's unweighted loss of each head.
  const std::array<double, count>& head_losses() const { return last_; }

  template <class O, class Y, class T = typename O::Scalar>
  double value_and_gradient(const O& out, const Y& target, T* grad) const {
    double total = 0;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      ((total += head_value<K>(out, target, grad)), ...);
    }(std::make_index_sequence<count>{});
    return total;
  }

  /// Correct decisions summed over the heads, so that accuracy is their mean.
  template <class O, class Y>
    requires(CountsCorrect<Losses, Outs::size, Losses::template For<Outs>::TargetShape::size> && ...)
  std::size_t count_correct(const O& out, const Y& target) const {
    std::size_t total = 0;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      ((total += head_correct<K>(out, target)), ...);
    }(std::make_index_sequence<count>{});
    return total;
  }
  template <class>
  static constexpr std::size_t accuracy_units() {
    return (std::size_t{0} + ... + accuracy_units_of<Losses, Outs>());
  }

  /// Correct decisions of head K alone (for per-head accuracy).
  template <std::size_t K, class O, class Y>
  std::size_t head_correct(const O& out, const Y& target) const {
    using T = typename O::Scalar;
    const auto [o, t] = split<K, T>(out, target);
    return std::get<K>(settings_.losses).count_correct(o, t);
  }

 private:
  template <std::size_t K>
  using Out = std::tuple_element_t<K, std::tuple<Outs...>>;
  template <std::size_t K>
  using Target = std::tuple_element_t<K, std::tuple<typename Losses::template For<Outs>::TargetShape...>>;

  template <class T>
  T* buffer(std::size_t which, std::size_t n) const {
    std::vector<T>& v = [&]() -> std::vector<T>& {
      if constexpr (std::is_same_v<T, float>)
        return f_[which];
      else
        return d_[which];
    }();
    if (v.size() < n) v.resize(n);
    return v.data();
  }

  // Rows [offset, offset + R) of every column of m, copied to dst (R x batch).
  template <std::size_t R, class M, class T>
  static void gather(const M& m, std::size_t offset, T* dst) {
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      for (std::size_t r = 0; r < R; ++r)
        dst[static_cast<std::size_t>(j) * R + r] = m(static_cast<Eigen::Index>(offset + r), j);
  }

  template <std::size_t K, class T, class O, class Y>
  std::pair<ConstColumnsMap<T, Out<K>::size>, ConstColumnsMap<T, Target<K>::size>> split(const O& out,
                                                                                         const Y& target) const {
    constexpr std::size_t R = Out<K>::size, TR = Target<K>::size;
    const auto batch = static_cast<std::size_t>(out.cols());
    T* o = buffer<T>(3 * K, R * batch);
    T* t = buffer<T>(3 * K + 1, TR * batch);
    gather<R>(out, OutShape::offsets[K], o);
    gather<TR>(target, TargetShape::offsets[K], t);
    const auto n = static_cast<Eigen::Index>(batch);
    return {ConstColumnsMap<T, R>(o, R, n), ConstColumnsMap<T, TR>(t, TR, n)};
  }

  template <std::size_t K, class O, class Y, class T>
  double head_value(const O& out, const Y& target, T* grad) const {
    constexpr std::size_t R = Out<K>::size;
    const auto batch = static_cast<std::size_t>(out.cols());
    const auto [o, t] = split<K, T>(out, target);
    T* g = grad != nullptr ? buffer<T>(3 * K + 2, R * batch) : nullptr;
    const double v = std::get<K>(settings_.losses).value_and_gradient(o, t, g);
    last_[K] = v;
    if (grad != nullptr) {
      const auto w = static_cast<T>(settings_.weights[K]);
      for (std::size_t j = 0; j < batch; ++j)
        for (std::size_t r = 0; r < R; ++r) grad[j * OutShape::size + OutShape::offsets[K] + r] = w * g[j * R + r];
    }
    return settings_.weights[K] * v;
  }

  Settings settings_;
  mutable std::array<std::vector<float>, 3 * count> f_;
  mutable std::array<std::vector<double>, 3 * count> d_;
  mutable std::array<double, count> last_{};
};

}  // namespace detail

}  // namespace strata::loss
