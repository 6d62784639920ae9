// Numerical robustness of the losses and of softmax at the edges of the number range: values
// and gradients stay finite where the mathematics is finite, and are infinite (never NaN)
// where it is infinite, so that fit reports the divergence for what it is.
//
// Extreme logits (+-1e4) for CrossEntropy (with and without label smoothing),
// SoftCrossEntropy, BCEWithLogits, MSE, and GaussianNLL's clamped variance against torch,
// are checked in tests/gradcheck/losses_test.cpp ("losses stay finite at extreme logits",
// "GaussianNLL inside the clamp uses PyTorch's pass-through gradient"); this file adds large
// log-variances, log-sum-exp at the ends of the range and with -inf, and the Softmax layer.
#include <catch2/catch.hpp>
#include <strata/strata.hpp>

#include <cmath>
#include <limits>

using namespace strata;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

template <class L, class Z, class Y>
double value_and_grad(const L& l, const Z& z, const Y& t, Z& g) {
  g.resize(z.rows(), z.cols());
  return l.value_and_gradient(z, t, g.data());
}

/// torch.nn.GaussianNLLLoss(eps)(mu, target, var = exp(s)) for one element, as torch
/// computes it (through exp(s)), in double.
double torch_gaussian_nll(double mu, double s, double target, double eps) {
  const double var = std::max(std::exp(s), eps);
  const double d = mu - target;
  return 0.5 * (std::log(var) + d * d / var);
}

}  // namespace

TEMPLATE_TEST_CASE("GaussianNLL stays finite for log-variances far beyond where exp overflows", "[unit][loss][robustness]",
                   double, float) {
  using T = TestType;
  constexpr double eps = 1e-6;
  const loss::GaussianNLL l{.eps = eps};
  // One mean and one log-variance per column: means 0 and +-1e4, log-variances +1e4 (exp
  // overflows double beyond 709), +800, +80, 0 and -1e4 (clamped to eps).
  const std::vector<std::pair<double, double>> cases{{0.0, 1e4}, {1e4, 1e4}, {-1e4, 800}, {1e4, 80},
                                                     {3.0, 0.0}, {1e4, -1e4}, {-2.0, -1e4}};
  const auto n = static_cast<Eigen::Index>(cases.size());
  Columns<T, 2> z(2, n), g;
  Columns<T, 1> t = Columns<T, 1>::Zero(1, n);
  for (Eigen::Index j = 0; j < n; ++j) z.col(j) << T(cases[j].first), T(cases[j].second);
  const double v = value_and_grad(l, z, t, g);
  REQUIRE(std::isfinite(v));
  REQUIRE(g.array().isFinite().all());

  // Element by element, the value is 0.5 (c + d^2 e^-c) with c = max(s, log eps), and the
  // gradients d e^-c / n and 0.5 (1 - d^2 e^-c) e^(s - c) / n.
  double expected = 0;
  for (Eigen::Index j = 0; j < n; ++j) {
    const double mu = static_cast<double>(z(0, j)), s = static_cast<double>(z(1, j));
    const double c = std::max(s, std::log(eps)), q = mu * mu * std::exp(-c);
    expected += 0.5 * (c + q);
    INFO("mean " << mu << ", log-variance " << s);
    CHECK(static_cast<double>(g(0, j)) == Approx(mu * std::exp(-c) / static_cast<double>(n)).margin(1e-30));
    CHECK(static_cast<double>(g(1, j)) == Approx(0.5 * (1 - q) * std::exp(s - c) / static_cast<double>(n)).margin(1e-30));
    // Where torch's form is finite (exp(s) does not overflow), the two agree.
    if (s < 700) CHECK(0.5 * (c + q) == Approx(torch_gaussian_nll(mu, s, 0.0, eps)).epsilon(1e-12));
  }
  CHECK(v == Approx(expected / static_cast<double>(n)).epsilon(1e-12));
  // A log-variance of 1e4 costs about 1e4 / 2, not infinity.
  Columns<T, 2> one(2, 1);
  one << T(0), T(1e4);
  CHECK(value_and_grad(l, one, Columns<T, 1>(Columns<T, 1>::Zero(1, 1)), g) == Approx(5e3));
}

TEST_CASE("GaussianNLL is infinite, not NaN, for an infinite log-variance, and NaN for a NaN one",
          "[unit][loss][robustness]") {
  const loss::GaussianNLL l{};
  Columns<double, 2> z(2, 1), g;
  const Columns<double, 1> t = Columns<double, 1>::Zero(1, 1);
  z << 1.0, kInf;
  CHECK(value_and_grad(l, z, t, g) == kInf);  // fit reports it as a diverged loss
  z << 1.0, std::numeric_limits<double>::quiet_NaN();
  CHECK(std::isnan(value_and_grad(l, z, t, g)));
}

TEST_CASE("gaussian_sigma does not overflow where exp(log-variance) would", "[unit][loss][robustness]") {
  Columns<double, 2> out(2, 3);
  out << 0.0, 0.0, 0.0, 1000.0, -1e4, 2.0;
  const auto s = loss::gaussian_sigma(out);
  CHECK(s(0, 0) == Approx(std::exp(500.0)));
  CHECK(s(0, 1) == Approx(std::sqrt(1e-6)));
  CHECK(s(0, 2) == Approx(std::exp(1.0)));
}

TEST_CASE("log-sum-exp is exact at the ends of the range and with -inf entries", "[unit][loss][robustness]") {
  using loss::detail::log_sum_exp;
  Eigen::Vector3d a(1e4, -1e4, 0);
  CHECK(log_sum_exp(a) == 1e4);
  Eigen::Vector2d big(1e300, 1e300);
  CHECK(log_sum_exp(big) == Approx(1e300));  // + log 2, lost in rounding; no overflow
  Eigen::Vector2d small(-1e300, -1e300);
  CHECK(log_sum_exp(small) == Approx(-1e300));
  Eigen::Vector2f f(3e38f, 3e38f);  // the float maximum is 3.4e38: summed in double
  CHECK(log_sum_exp(f) == Approx(3e38));
  Eigen::Vector3d masked(-kInf, 0.0, std::log(3.0));  // a class masked out with -inf
  CHECK(log_sum_exp(masked) == Approx(std::log(4.0)));
  Eigen::Vector2d none(-kInf, -kInf);
  CHECK(log_sum_exp(none) == -kInf);
  Eigen::Vector2d inf(kInf, 0.0);
  CHECK(log_sum_exp(inf) == kInf);
  Eigen::Vector2d nan(std::numeric_limits<double>::quiet_NaN(), 0.0);
  CHECK(std::isnan(log_sum_exp(nan)));
}

TEST_CASE("CrossEntropy with a class masked by a -inf logit: finite unless it is the target", "[unit][loss][robustness]") {
  Columns<double, 3> z(3, 2), g;
  z.col(0) << -kInf, 2.0, 1e4;
  z.col(1) << -kInf, 2.0, -1e4;
  Columns<double, 1> t(1, 2);
  t << 2.0, 1.0;
  const double v = value_and_grad(loss::CrossEntropy{}, z, t, g);
  CHECK(v == Approx((0.0 + 0.0) / 2).margin(1e-12));  // both targets take all the probability
  CHECK(g.array().isFinite().all());
  CHECK(g(0, 0) == 0.0);  // the masked class gets no gradient
  t << 0.0, 1.0;  // the masked class as the target: an infinite loss (divergence), not NaN
  CHECK(value_and_grad(loss::CrossEntropy{}, z, t, g) == kInf);
  CHECK(g.array().isFinite().all());
}

TEMPLATE_TEST_CASE("Softmax over logits of +-1e4 is finite, sums to one, and its gradient is finite",
                   "[unit][loss][robustness][softmax]", double, float) {
  using T = TestType;
  Columns<T, 3> x(3, 3), y(3, 3), dy(3, 3), dx(3, 3);
  x.col(0) << T(1e4), T(-1e4), T(0);
  x.col(1) << T(1e4), T(1e4), T(-1e4);  // a tie at the top
  x.col(2) << T(-1e4), T(-1e4), T(-1e4);  // all very negative
  backend::Cpu::softmax_forward<3>(x.data(), y.data(), 3);
  REQUIRE(y.array().isFinite().all());
  for (Eigen::Index j = 0; j < 3; ++j) CHECK(static_cast<double>(y.col(j).sum()) == Approx(1.0));
  CHECK(y(0, 0) == T(1));
  CHECK(y(0, 1) == Approx(0.5));
  CHECK(y(2, 2) == Approx(1.0 / 3));
  dy.setOnes();
  dy(0, 0) = T(2);
  backend::Cpu::softmax_backward<3>(y.data(), dy.data(), dx.data(), 3);
  CHECK(dx.array().isFinite().all());
}

TEST_CASE("The Gaussian NLL metric stays finite where exp(log-variance) overflows", "[unit][loss][robustness]") {
  const loss::GaussianNLL loss;
  metric::Accumulator<loss::GaussianNLL, 2, 1, false> nll(metric::nll(), loss);
  Eigen::Matrix<double, 2, Eigen::Dynamic> out(2, 2);
  out << 0.5, 0.5,  //
      1000.0, 0.0;  // log-variances: exp(1000) is inf in double
  const Eigen::Matrix<double, 1, Eigen::Dynamic> y = Eigen::Matrix<double, 1, Eigen::Dynamic>::Zero(1, 2);
  nll.add(out, y);
  const double c = 0.5 * std::log(2.0 * std::numbers::pi);
  // Per sample 0.5 (v + e^2 exp(-v)) + c: 500 + c for v = 1000, 0.125 + c for v = 0.
  CHECK(nll.value() == Approx(((500.0 + c) + (0.125 + c)) / 2).epsilon(1e-12));
}
