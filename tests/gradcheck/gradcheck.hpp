#pragma once
// A small finite-difference gradient checker for strata networks and losses (double only).
//
// What it compares. For a Network<Net, double>, an input batch x and a scalar objective
// f(output) (a fixed random linear functional of the output, or a loss with fixed targets),
// the analytic gradients are those strata computes: the objective writes d f / d output into
// network.output_gradient() and network.backward(dx) fills gradients() and dx. The numeric
// gradients are central differences over EVERY coordinate of every parameter tensor and of
// the input:
//     g_i ~ (f(theta + h_i e_i) - f(theta - h_i e_i)) / ((theta_i + h_i) - (theta_i - h_i)),
//     h_i = h * max(1, |theta_i|)                       (a step relative to the value's scale)
// (the denominator is the step actually taken in floating point, not 2 h_i).
//
// Error metrics, per tensor (each named parameter tensor "0.weight", "0.bias", ..., "input",
// or "output" for a loss):
//   norm_rel = ||a - n||_2 / max(||a||_2, ||n||_2, tiny)
//   elem_rel = max_i |a_i - n_i| / max(|a_i|, |n_i|, noise_i / tol)
// where noise_i = 16 * DBL_EPSILON * max(|f|, 1) / h_i estimates the round-off of the
// central difference itself (f is evaluated to a few ulp; dividing by the step magnifies that).
// elem_rel is therefore the plain element-wise relative error except for components so small
// that the finite difference cannot resolve them to `tol`, which are held to the absolute
// round-off level instead. A check passes when both metrics are <= tol (1e-6) for every tensor
// and a second forward/backward pass gives bit-identical gradients (backward() overwrites
// gradients() and the input gradient; it never accumulates into them).
//
// With h = 1e-5 the truncation error of the central difference is ~ h^2 |f'''| / 6 ~ 2e-11 and
// its round-off ~ 1e-11, so 1e-6 leaves five orders of magnitude of room for correct code while
// any real mistake in a backward formula (a wrong factor, a missing term) shows up as O(1).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <strata/strata.hpp>

namespace strata::gradcheck {

/// The tolerance of every check in this suite.
inline constexpr double kTolerance = 1e-6;

struct Options {
  double h = 1e-5;           ///< base step; the step for coordinate i is h * max(1, |value_i|)
  bool check_input = true;   ///< also check d f / d input
  double tol = kTolerance;   ///< the noise_i / tol floor of elem_rel (pass the same value to Result::passed)
};

/// Comparison of one tensor's analytic and numeric gradients.
struct TensorError {
  std::string name;
  std::size_t size = 0;
  double norm_rel = 0;
  double elem_rel = 0;
  std::size_t worst_index = 0;  ///< coordinate with the largest element-wise error
  double analytic_norm = 0;
  double numeric_norm = 0;
  double worst_analytic = 0, worst_numeric = 0;
};

struct Result {
  double value = 0;  ///< the objective at the unperturbed point
  bool repeatable = true;  ///< a second forward/backward gave bit-identical gradients (no accumulation)
  std::vector<TensorError> tensors;
  std::vector<double> analytic, numeric;  ///< all coordinates, tensors concatenated in order

  [[nodiscard]] double worst_norm_rel() const {
    double w = 0;
    for (const auto& t : tensors) w = std::max(w, t.norm_rel);
    return w;
  }
  [[nodiscard]] double worst_elem_rel() const {
    double w = 0;
    for (const auto& t : tensors) w = std::max(w, t.elem_rel);
    return w;
  }
  [[nodiscard]] double worst() const { return std::max(worst_norm_rel(), worst_elem_rel()); }
  [[nodiscard]] bool passed(double tol = kTolerance) const {
    if (tensors.empty() || !repeatable) return false;
    for (const auto& t : tensors)
      if (!(t.norm_rel <= tol && t.elem_rel <= tol)) return false;
    return true;
  }
  /// One line per tensor, for Catch2's INFO/CAPTURE.
  [[nodiscard]] std::string describe() const {
    std::ostringstream s;
    s.precision(3);
    s << "f = " << value << (repeatable ? "" : "  (a second backward() gave different gradients)") << "\n";
    for (const auto& t : tensors)
      s << "  " << t.name << " [" << t.size << "]: norm_rel " << std::scientific << t.norm_rel << ", elem_rel "
        << t.elem_rel << " at " << t.worst_index << " (analytic " << t.worst_analytic << ", numeric "
        << t.worst_numeric << "), |a| " << t.analytic_norm << ", |n| " << t.numeric_norm << std::defaultfloat
        << "\n";
    return s.str();
  }
};

namespace detail {

inline double step_for(double v, const Options& o) { return o.h * std::max(1.0, std::abs(v)); }

/// Central differences of `eval` over every coordinate of `values` (restored afterwards),
/// compared with `analytic`. `f0` is the objective at the unperturbed point.
template <class Eval>
TensorError compare(std::string name, double* values, const double* analytic, std::size_t n, double f0,
                    const Options& o, Eval&& eval, Result& r) {
  TensorError e;
  e.name = std::move(name);
  e.size = n;
  double diff2 = 0, a2 = 0, n2 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = values[i];
    const double hi = step_for(v, o);
    const double vp = v + hi;
    const double vm = v - hi;
    values[i] = vp;
    const double fp = eval();
    values[i] = vm;
    const double fm = eval();
    values[i] = v;
    const double num = (fp - fm) / (vp - vm);
    const double a = analytic[i];
    const double d = a - num;
    diff2 += d * d;
    a2 += a * a;
    n2 += num * num;
    const double noise = 16.0 * DBL_EPSILON * std::max(std::abs(f0), 1.0) / hi;
    const double er = std::abs(d) / std::max({std::abs(a), std::abs(num), noise / o.tol});
    if (i == 0 || !(er <= e.elem_rel)) {  // a NaN error counts as the worst
      e.elem_rel = std::isnan(er) ? INFINITY : er;
      e.worst_index = i;
      e.worst_analytic = a;
      e.worst_numeric = num;
    }
    r.analytic.push_back(a);
    r.numeric.push_back(num);
  }
  e.analytic_norm = std::sqrt(a2);
  e.numeric_norm = std::sqrt(n2);
  const double denom = std::max({e.analytic_norm, e.numeric_norm, 1e-300});
  e.norm_rel = std::sqrt(diff2) / denom;
  if (std::isnan(e.norm_rel)) e.norm_rel = INFINITY;
  return e;
}

}  // namespace detail

/// An objective f(output) that is a fixed random linear functional: f = sum_ij c_ij out_ij,
/// so d f / d out = c. Coefficients are standard normal, drawn from `seed`.
template <std::size_t Rows>
class LinearFunctional {
 public:
  LinearFunctional(std::size_t batch, std::uint64_t seed) : c_(Rows, static_cast<Eigen::Index>(batch)) {
    Rng rng(seed);
    for (Eigen::Index i = 0; i < c_.size(); ++i) c_.data()[i] = rng.normal();
  }
  template <class O>
  double operator()(const O& out, double* grad) const {
    if (grad != nullptr) std::copy(c_.data(), c_.data() + c_.size(), grad);
    return (out.array() * c_.array()).sum();
  }

 private:
  Columns<double, Rows> c_;
};

/// An objective f(output) = loss(output, targets) with fixed targets (mean reduction).
template <class LossT, std::size_t TargetRows>
class LossObjective {
 public:
  LossObjective(LossT loss, Columns<double, TargetRows> target) : loss_(loss), target_(std::move(target)) {}
  template <class O>
  double operator()(const O& out, double* grad) const {
    const ConstColumnsMap<double, TargetRows> t(target_.data(), TargetRows, target_.cols());
    return loss_.value_and_gradient(out, t, grad);
  }

 private:
  LossT loss_;
  Columns<double, TargetRows> target_;
};

/// Checks every parameter gradient and (unless disabled) the input gradient of `net` on the
/// batch `x` (InputShape::size x batch, one sample per column) for objective `objective`,
/// a callable double(const ConstColumnsMap<double, Out>& out, double* grad_or_null).
/// The network's parameters are restored exactly afterwards.
template <class Net, class Objective>
Result check_network(Network<Net, double>& net, const Columns<double, Net::InputShape::size>& x_in,
                     const Objective& objective, const Options& o = {}) {
  using NetT = Network<Net, double>;
  constexpr std::size_t in_size = Net::InputShape::size;
  const auto batch = static_cast<std::size_t>(x_in.cols());
  Columns<double, in_size> x = x_in;  // perturbed in place for the input check

  Result r;
  // Analytic: the path Model::train_step takes (loss gradient into output_gradient(), backward).
  // Run twice: backward() must overwrite gradients() and the input gradient, not accumulate,
  // so both runs must give the same bits.
  std::vector<double> dx(in_size * batch, 0.0), dx_first;
  std::vector<double> grads, grads_first;
  for (int run = 0; run < 2; ++run) {
    const auto out = net.forward(x.data(), batch);
    r.value = objective(out, net.output_gradient().data());
    net.backward(dx.data());
    const auto g = net.gradients();
    grads.assign(g.begin(), g.end());
    if (run == 0) {
      grads_first = grads;
      dx_first = dx;
    }
  }
  r.repeatable = grads == grads_first && dx == dx_first;

  auto eval = [&] {
    const auto out = net.forward(x.data(), batch);
    return objective(out, static_cast<double*>(nullptr));
  };
  auto params = net.parameters();
  for (const auto& s : Net::segments)
    r.tensors.push_back(
        detail::compare(s.name(), params.data() + s.offset, grads.data() + s.offset, s.size, r.value, o, eval, r));
  if (o.check_input) r.tensors.push_back(detail::compare("input", x.data(), dx.data(), dx.size(), r.value, o, eval, r));
  static_assert(NetT::parameter_count == Net::parameter_count);
  return r;
}

/// Checks value_and_gradient of `loss` with respect to its input `z` (the network output)
/// for fixed targets, over every coordinate of z.
/// `z_in` and `target` are fixed-row double matrices (Columns<double, R>), one sample per column.
template <class LossT, class ZMatrix, class YMatrix>
Result check_loss(const LossT& loss, const ZMatrix& z_in, const YMatrix& target, const Options& o = {}) {
  constexpr auto Rows = static_cast<std::size_t>(ZMatrix::RowsAtCompileTime);
  constexpr auto TargetRows = static_cast<std::size_t>(YMatrix::RowsAtCompileTime);
  static_assert(std::is_same_v<ZMatrix, Columns<double, Rows>> && std::is_same_v<YMatrix, Columns<double, TargetRows>>,
                "check_loss takes Columns<double, R> matrices");
  Columns<double, Rows> z = z_in;
  const ConstColumnsMap<double, TargetRows> t(target.data(), TargetRows, target.cols());
  auto value = [&](double* grad) {
    const ConstColumnsMap<double, Rows> zm(z.data(), Rows, z.cols());
    return loss.value_and_gradient(zm, t, grad);
  };
  Result r;
  // NaN-filled, so that a coordinate the loss does not write, or one it accumulates into,
  // shows up as a failure.
  std::vector<double> g(static_cast<std::size_t>(z.size()), std::numeric_limits<double>::quiet_NaN());
  r.value = value(g.data());
  r.tensors.push_back(detail::compare("output", z.data(), g.data(), g.size(), r.value, o,
                                      [&] { return value(static_cast<double*>(nullptr)); }, r));
  return r;
}

// ---- Worst errors per group -----------------------------------------------------------------

/// Keeps the worst error seen per group (e.g. "dense", "loss:cross_entropy") and, when the
/// environment variable STRATA_GRADCHECK_REPORT is set, prints them when the program exits.
class Recorder {
 public:
  static Recorder& instance() {
    static Recorder r;
    return r;
  }
  void record(const std::string& group, double norm_rel, double elem_rel) {
    for (auto& e : entries_)
      if (e.group == group) {
        e.norm_rel = std::max(e.norm_rel, norm_rel);
        e.elem_rel = std::max(e.elem_rel, elem_rel);
        ++e.checks;
        return;
      }
    entries_.push_back({group, norm_rel, elem_rel, 1});
  }
  void record(const std::string& group, const Result& r) { record(group, r.worst_norm_rel(), r.worst_elem_rel()); }
  ~Recorder() {
    if (std::getenv("STRATA_GRADCHECK_REPORT") == nullptr || entries_.empty()) return;
    std::fprintf(stderr, "%-28s %6s %12s %12s\n", "group", "checks", "norm_rel", "elem_rel");
    for (const auto& e : entries_)
      std::fprintf(stderr, "%-28s %6zu %12.3e %12.3e\n", e.group.c_str(), e.checks, e.norm_rel, e.elem_rel);
  }

 private:
  struct Entry {
    std::string group;
    double norm_rel, elem_rel;
    std::size_t checks;
  };
  std::vector<Entry> entries_;
};

inline void record(const std::string& group, const Result& r) { Recorder::instance().record(group, r); }
inline void record(const std::string& group, double err) { Recorder::instance().record(group, err, err); }

// ---- Data helpers (all seeded, portable through strata::Rng) -------------------------------

/// A Rows x batch matrix of standard normal entries times `scale`.
template <std::size_t Rows>
Columns<double, Rows> normal_batch(std::size_t batch, std::uint64_t seed, double scale = 1.0) {
  Columns<double, Rows> x(Rows, static_cast<Eigen::Index>(batch));
  Rng rng(seed);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = scale * rng.normal();
  return x;
}

/// Standard normal entries redrawn until |x| >= margin: inputs for kinked activations
/// (ReLU, LeakyReLU), so that no central-difference step crosses the kink at 0.
template <std::size_t Rows>
Columns<double, Rows> normal_batch_away_from_zero(std::size_t batch, std::uint64_t seed, double margin) {
  Columns<double, Rows> x(Rows, static_cast<Eigen::Index>(batch));
  Rng rng(seed);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    double v = rng.normal();
    while (std::abs(v) < margin) v = rng.normal();
    x.data()[i] = v;
  }
  return x;
}

/// One class index per sample in [0, classes).
inline Columns<double, 1> class_targets(std::size_t classes, std::size_t batch, std::uint64_t seed) {
  Columns<double, 1> y(1, static_cast<Eigen::Index>(batch));
  Rng rng(seed);
  for (Eigen::Index j = 0; j < y.cols(); ++j) y(0, j) = static_cast<double>(rng.below(classes));
  return y;
}

/// Random probability vectors (each column positive, summing to 1).
template <std::size_t Rows>
Columns<double, Rows> probability_targets(std::size_t batch, std::uint64_t seed) {
  Columns<double, Rows> y(Rows, static_cast<Eigen::Index>(batch));
  Rng rng(seed);
  for (Eigen::Index i = 0; i < y.size(); ++i) y.data()[i] = rng.uniform(0.05, 1.0);
  for (Eigen::Index j = 0; j < y.cols(); ++j) y.col(j) /= y.col(j).sum();
  return y;
}

/// One-hot columns for the given class indices.
template <std::size_t Rows>
Columns<double, Rows> one_hot(const Columns<double, 1>& classes) {
  Columns<double, Rows> y = Columns<double, Rows>::Zero(Rows, classes.cols());
  for (Eigen::Index j = 0; j < classes.cols(); ++j) y(static_cast<Eigen::Index>(classes(0, j)), j) = 1.0;
  return y;
}

}  // namespace strata::gradcheck

/// Runs a gradient check, records its errors under `group` and requires it to pass, with
/// the check's description in the failure message.
#define REQUIRE_GRADCHECK(group, expr)                         \
  do {                                                         \
    const ::strata::gradcheck::Result r_ = (expr);             \
    INFO(r_.describe());                                       \
    ::strata::gradcheck::record(group, r_);                    \
    REQUIRE(r_.passed());                                      \
  } while (0)
