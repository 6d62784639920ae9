// Finite-difference checks of every loss's value_and_gradient with respect to the network
// output, for fixed targets, plus numeric properties (gradient sums, consistency between
// losses, behaviour at extreme logits, GaussianNLL's clamp). See gradcheck.hpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "gradcheck/gradcheck.hpp"

using namespace strata;
using namespace strata::gradcheck;

namespace {

template <std::size_t Rows>
Columns<double, Rows> uniform_batch(std::size_t batch, std::uint64_t seed, double lo, double hi) {
  Columns<double, Rows> x(Rows, static_cast<Eigen::Index>(batch));
  Rng rng(seed);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform(lo, hi);
  return x;
}

/// The analytic gradient of `loss` at z (no finite differences).
template <class LossT, class Z, class Y>
double value_and_grad(const LossT& loss, const Z& z, const Y& y, Z& g) {
  using T = typename Z::Scalar;
  constexpr auto Rows = static_cast<std::size_t>(Z::RowsAtCompileTime);
  constexpr auto TargetRows = static_cast<std::size_t>(Y::RowsAtCompileTime);
  g.setConstant(Rows, z.cols(), std::numeric_limits<T>::quiet_NaN());  // every coordinate must be written
  const ConstColumnsMap<T, Rows> zm(z.data(), Rows, z.cols());
  const ConstColumnsMap<T, TargetRows> ym(y.data(), TargetRows, y.cols());
  return loss.value_and_gradient(zm, ym, g.data());
}

template <class LossT, std::size_t C>
void check_cross_entropy(std::size_t batch, std::uint64_t seed, double smoothing, double scale) {
  const LossT loss{.label_smoothing = smoothing};
  const auto z = normal_batch<C>(batch, seed, scale);
  const auto y = class_targets(C, batch, seed + 1);
  REQUIRE_GRADCHECK("loss: CrossEntropy", check_loss(loss, z, y));
  // (p - t) / B sums to zero over the classes of each sample (p and t both sum to 1), up to
  // the round-off of the C terms, each of size <= (p_k + t_k) / B: |sum| <= ~ 2 (C + 2) eps / B.
  // (Relative to sum |g| this need not be small: with a saturated softmax 1 - p_y is itself
  // only known to ~eps.)
  Columns<double, C> g;
  value_and_grad(loss, z, y, g);
  for (Eigen::Index j = 0; j < g.cols(); ++j)
    CHECK(std::abs(g.col(j).sum()) <= 2.0 * (C + 2) * DBL_EPSILON / static_cast<double>(batch));
}

}  // namespace

// ---- MSE -------------------------------------------------------------------------------------

TEST_CASE("gradcheck: MSE gradient with real-valued targets", "[gradcheck][loss][mse]") {
  for (const std::size_t batch : {1, 4, 9}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("loss: MSE", check_loss(loss::MSE{}, normal_batch<1>(batch, 1), normal_batch<1>(batch, 2)));
    REQUIRE_GRADCHECK("loss: MSE", check_loss(loss::MSE{}, normal_batch<5>(batch, 3), normal_batch<5>(batch, 4)));
    REQUIRE_GRADCHECK("loss: MSE",
                      check_loss(loss::MSE{}, normal_batch<13>(batch, 5, 10.0), normal_batch<13>(batch, 6, 10.0)));
  }
}

TEST_CASE("gradcheck: MSE gradient with one-hot targets", "[gradcheck][loss][mse]") {
  for (const std::size_t batch : {1, 6}) {
    INFO("batch " << batch);
    const auto y4 = one_hot<4>(class_targets(4, batch, 11));
    REQUIRE_GRADCHECK("loss: MSE", check_loss(loss::MSE{}, normal_batch<4>(batch, 12), y4));
    const auto y10 = one_hot<10>(class_targets(10, batch, 13));
    REQUIRE_GRADCHECK("loss: MSE", check_loss(loss::MSE{}, normal_batch<10>(batch, 14), y10));
  }
}

// ---- CrossEntropy (class indices) ---------------------------------------------------------------

TEST_CASE("gradcheck: CrossEntropy gradient, class-index targets, no smoothing", "[gradcheck][loss][cross_entropy]") {
  for (const std::size_t batch : {1, 6}) {
    INFO("batch " << batch);
    check_cross_entropy<loss::CrossEntropy, 2>(batch, 21, 0.0, 2.0);
    check_cross_entropy<loss::CrossEntropy, 5>(batch, 22, 0.0, 2.0);
    check_cross_entropy<loss::CrossEntropy, 10>(batch, 23, 0.0, 1.0);
  }
}

TEST_CASE("gradcheck: CrossEntropy gradient with label_smoothing 0.1", "[gradcheck][loss][cross_entropy]") {
  for (const std::size_t batch : {1, 6}) {
    INFO("batch " << batch);
    check_cross_entropy<loss::CrossEntropy, 2>(batch, 31, 0.1, 2.0);
    check_cross_entropy<loss::CrossEntropy, 5>(batch, 32, 0.1, 2.0);
    check_cross_entropy<loss::CrossEntropy, 10>(batch, 33, 0.1, 1.0);
  }
}

TEST_CASE("gradcheck: CrossEntropy with saturated softmax (logits ~ N(0, 20^2))", "[gradcheck][loss][cross_entropy]") {
  for (const double smoothing : {0.0, 0.1}) {
    INFO("label_smoothing " << smoothing);
    check_cross_entropy<loss::CrossEntropy, 6>(7, 41, smoothing, 20.0);
  }
}

// ---- SoftCrossEntropy (probability targets) ------------------------------------------------------

TEST_CASE("gradcheck: SoftCrossEntropy gradient, random probability targets", "[gradcheck][loss][soft_cross_entropy]") {
  for (const double smoothing : {0.0, 0.1}) {
    for (const std::size_t batch : {1, 5}) {
      INFO("label_smoothing " << smoothing << ", batch " << batch);
      const loss::SoftCrossEntropy l{.label_smoothing = smoothing};
      REQUIRE_GRADCHECK("loss: SoftCrossEntropy",
                        check_loss(l, normal_batch<2>(batch, 51, 2.0), probability_targets<2>(batch, 52)));
      REQUIRE_GRADCHECK("loss: SoftCrossEntropy",
                        check_loss(l, normal_batch<7>(batch, 53, 2.0), probability_targets<7>(batch, 54)));
      REQUIRE_GRADCHECK("loss: SoftCrossEntropy",
                        check_loss(l, normal_batch<10>(batch, 55), probability_targets<10>(batch, 56)));
    }
  }
}

TEST_CASE("gradcheck: SoftCrossEntropy gradient with targets that do not sum to 1",
          "[gradcheck][loss][soft_cross_entropy]") {
  // torch.nn.CrossEntropyLoss does not require probability targets to be normalised; the
  // gradient is then p * sum(t) - t, not p - t.
  for (const double smoothing : {0.0, 0.1}) {
    INFO("label_smoothing " << smoothing);
    const loss::SoftCrossEntropy l{.label_smoothing = smoothing};
    REQUIRE_GRADCHECK("loss: SoftCrossEntropy",
                      check_loss(l, normal_batch<6>(4, 57, 2.0), uniform_batch<6>(4, 58, 0.0, 1.5)));
  }
}

TEST_CASE("gradcheck: SoftCrossEntropy on one-hot targets equals CrossEntropy on class indices",
          "[gradcheck][loss][soft_cross_entropy][cross_entropy]") {
  for (const double smoothing : {0.0, 0.1}) {
    INFO("label_smoothing " << smoothing);
    const auto z = normal_batch<5>(8, 61, 2.0);
    const auto idx = class_targets(5, 8, 62);
    const auto hot = one_hot<5>(idx);
    Columns<double, 5> g_ce, g_soft;
    const double v_ce = value_and_grad(loss::CrossEntropy{.label_smoothing = smoothing}, z, idx, g_ce);
    const double v_soft = value_and_grad(loss::SoftCrossEntropy{.label_smoothing = smoothing}, z, hot, g_soft);
    const double dv = std::abs(v_ce - v_soft) / std::abs(v_ce);
    const double dg = (g_ce - g_soft).norm() / g_ce.norm();
    record("loss: Soft CE == CE (one-hot)", std::max(dv, dg));
    CHECK(dv <= 1e-14);
    CHECK(dg <= 1e-14);
  }
}

// ---- BCEWithLogits -----------------------------------------------------------------------------

TEST_CASE("gradcheck: BCEWithLogits gradient with 0/1 targets", "[gradcheck][loss][bce]") {
  for (const std::size_t batch : {1, 6}) {
    INFO("batch " << batch);
    const Columns<double, 1> y1 = class_targets(2, batch, 71);  // 0 or 1
    REQUIRE_GRADCHECK("loss: BCEWithLogits", check_loss(loss::BCEWithLogits{}, normal_batch<1>(batch, 72, 3.0), y1));
    const Columns<double, 5> y5 =
        uniform_batch<5>(batch, 73, 0.0, 1.0).unaryExpr([](double v) { return v < 0.5 ? 0.0 : 1.0; });
    REQUIRE_GRADCHECK("loss: BCEWithLogits", check_loss(loss::BCEWithLogits{}, normal_batch<5>(batch, 74, 3.0), y5));
  }
}

TEST_CASE("gradcheck: BCEWithLogits gradient with soft targets in [0, 1]", "[gradcheck][loss][bce]") {
  for (const std::size_t batch : {1, 6}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("loss: BCEWithLogits", check_loss(loss::BCEWithLogits{}, normal_batch<3>(batch, 75, 3.0),
                                                        uniform_batch<3>(batch, 76, 0.0, 1.0)));
    REQUIRE_GRADCHECK("loss: BCEWithLogits", check_loss(loss::BCEWithLogits{}, normal_batch<8>(batch, 77, 12.0),
                                                        uniform_batch<8>(batch, 78, 0.0, 1.0)));
  }
}

// ---- GaussianNLL ---------------------------------------------------------------------------------

namespace {
/// K means ~ N(0, 1) over K log-variances ~ U(-2, 2): var in [0.13, 7.4], far above eps = 1e-6.
template <std::size_t K>
Columns<double, 2 * K> gaussian_head(std::size_t batch, std::uint64_t seed) {
  Columns<double, 2 * K> z(2 * K, static_cast<Eigen::Index>(batch));
  z.template topRows<K>() = normal_batch<K>(batch, seed);
  z.template bottomRows<K>() = uniform_batch<K>(batch, seed + 1, -2.0, 2.0);
  return z;
}
}  // namespace

TEST_CASE("gradcheck: GaussianNLL gradient away from the variance clamp", "[gradcheck][loss][gaussian_nll]") {
  for (const bool full : {false, true}) {
    for (const std::size_t batch : {1, 5}) {
      INFO("full " << full << ", batch " << batch);
      const loss::GaussianNLL l{.eps = 1e-6, .full = full};
      REQUIRE_GRADCHECK("loss: GaussianNLL", check_loss(l, gaussian_head<1>(batch, 81), normal_batch<1>(batch, 82)));
      REQUIRE_GRADCHECK("loss: GaussianNLL", check_loss(l, gaussian_head<3>(batch, 83), normal_batch<3>(batch, 84)));
    }
  }
}

TEST_CASE("gradcheck: GaussianNLL inside the clamp uses PyTorch's pass-through gradient, not the finite difference",
          "[gradcheck][loss][gaussian_nll]") {
  // loss/gaussian_nll.hpp: the variance is clamped to eps with no gradient through the clamp
  // (torch clamps in place under no_grad), so for var = exp(s) < eps the loss does not depend
  // on s (finite difference 0) while the gradient is 0.5 (1/eps - d^2/eps^2) exp(s) / n.
  // Reference values from torch 1.13 (float64):
  //   mu = [[0.3, -1.2], [0.7, 0.1]], s = [[log 1e-8, 0.5], [log 2e-7, -0.3]],
  //   t = [[0.31, -1.0], [0.65, 0.4]], GaussianNLLLoss(eps=1e-6)(mu, t, s.exp()).backward()
  constexpr double eps = 1e-6;
  const loss::GaussianNLL l{.eps = eps};
  Columns<double, 4> z(4, 2);
  z.col(0) << 0.3, -1.2, std::log(1e-8), 0.5;
  z.col(1) << 0.7, 0.1, std::log(2e-7), -0.3;
  Columns<double, 2> t(2, 2);
  t.col(0) << 0.31, -1.0;
  t.col(1) << 0.65, 0.4;
  Columns<double, 4> g;
  const double value = value_and_grad(l, z, t, g);

  Columns<double, 4> torch_grad(4, 2);
  torch_grad.col(0) << -2500.0000000000023, -0.030326532985631663, -0.12375000000000001, 0.12196734670143683;
  torch_grad.col(1) << 12499.999999999984, -0.10123941056820025, -62.47499999999981, 0.10981408841476996;
  const double torch_value = 321.5893409253919;
  CHECK(value == Approx(torch_value).epsilon(1e-13));
  const double rel_torch = (g - torch_grad).norm() / torch_grad.norm();
  record("loss: GaussianNLL (clamp vs torch)", rel_torch);
  CHECK(rel_torch <= 1e-13);
  for (Eigen::Index i = 0; i < g.size(); ++i) CHECK(g.data()[i] == Approx(torch_grad.data()[i]).epsilon(1e-12));

  // The documented formula, coordinate by coordinate, for the two clamped log-variances.
  const double n = 4;  // batch * K
  for (const Eigen::Index j : {0, 1}) {
    const double var = std::exp(z(2, j));
    REQUIRE(var < eps);
    const double d = z(0, j) - t(0, j);
    CHECK(g(2, j) == Approx(0.5 * (1.0 / eps - d * d / (eps * eps)) * var / n).epsilon(1e-13));
    CHECK(g(0, j) == Approx(d / eps / n).epsilon(1e-13));  // the mean still sees the clamped variance
  }

  // Finite differences: the clamped log-variances have numeric derivative exactly 0 (the loss
  // is flat there), unlike the analytic pass-through value; every other coordinate matches.
  const Result r = check_loss(l, z, t);
  INFO(r.describe());
  CHECK_FALSE(r.passed());
  for (Eigen::Index i = 0; i < z.size(); ++i) {
    const Eigen::Index row = i % 4, col = i / 4;
    const auto k = static_cast<std::size_t>(i);
    if (row == 2) {
      CHECK(r.numeric[k] == 0.0);
      CHECK(std::abs(r.analytic[k]) > 1e-3);
    } else {
      const double err = std::abs(r.analytic[k] - r.numeric[k]) / std::abs(r.analytic[k]);
      INFO("row " << row << " col " << col);
      record("loss: GaussianNLL (clamp, unclamped coords)", err);
      CHECK(err <= kTolerance);
    }
  }
}

// ---- Extreme logits --------------------------------------------------------------------------------

namespace {
template <class M>
bool all_finite(const M& m) {
  return m.array().isFinite().all();
}
}  // namespace

TEMPLATE_TEST_CASE("gradcheck: losses stay finite at extreme logits (+-1e4)", "[gradcheck][loss][extreme]", double,
                   float) {
  using T = TestType;
  const T big = T(1e4);
  // Three classes, logits (1e4, -1e4, 0) in every column, one column per target class.
  Columns<T, 3> z(3, 3);
  for (Eigen::Index j = 0; j < 3; ++j) z.col(j) << big, -big, T(0);
  Columns<T, 1> idx(1, 3);
  idx << T(0), T(1), T(2);
  Columns<T, 3> hot = Columns<T, 3>::Identity(3, 3);
  Columns<T, 3> g;

  SECTION("CrossEntropy") {
    for (const double s : {0.0, 0.1}) {
      INFO("label_smoothing " << s);
      const double v = value_and_grad(loss::CrossEntropy{.label_smoothing = s}, z, idx, g);
      REQUIRE(std::isfinite(v));
      REQUIRE(all_finite(g));
      // Per sample (1 - s)(lse - z_y) + s/3 (3 lse - sum z) with lse = 1e4: 0, 2e4, 1e4 (+ 1e4 s).
      CHECK(v == Approx((1.0 - s) * (0.0 + 2e4 + 1e4) / 3.0 + s * 1e4));
      // p = (1, 0, 0) exactly; gradient (p - t) / 3.
      for (Eigen::Index j = 0; j < 3; ++j)
        for (Eigen::Index k = 0; k < 3; ++k) {
          const double t = (k == j ? 1.0 - s : 0.0) + s / 3.0;
          CHECK(static_cast<double>(g(k, j)) == Approx(((k == 0 ? 1.0 : 0.0) - t) / 3.0).margin(1e-7));
        }
    }
  }
  SECTION("SoftCrossEntropy") {
    for (const double s : {0.0, 0.1}) {
      INFO("label_smoothing " << s);
      const double v = value_and_grad(loss::SoftCrossEntropy{.label_smoothing = s}, z, hot, g);
      REQUIRE(std::isfinite(v));
      REQUIRE(all_finite(g));
      CHECK(v == Approx((1.0 - s) * (0.0 + 2e4 + 1e4) / 3.0 + s * 1e4));
    }
  }
  SECTION("BCEWithLogits") {
    Columns<T, 3> y(3, 3);
    y << T(0), T(1), T(0.5), T(1), T(0), T(0.5), T(0), T(1), T(0.25);
    const double v = value_and_grad(loss::BCEWithLogits{}, z, y, g);
    REQUIRE(std::isfinite(v));
    REQUIRE(all_finite(g));
    // Element loss max(z, 0) - z y + log1p(exp(-|z|)) = z (1 - y) for z = 1e4, -z y... exactly:
    double expected = 0;
    for (Eigen::Index i = 0; i < 9; ++i) {
      const double zi = static_cast<double>(z.data()[i]), yi = static_cast<double>(y.data()[i]);
      expected += std::max(zi, 0.0) - zi * yi + std::log1p(std::exp(-std::abs(zi)));
      const double sig = zi > 0 ? 1.0 : (zi < 0 ? 0.0 : 0.5);
      CHECK(static_cast<double>(g.data()[i]) == Approx((sig - yi) / 9.0).margin(1e-7));
    }
    CHECK(v == Approx(expected / 9.0));
  }
  SECTION("MSE") {
    Columns<T, 3> y = Columns<T, 3>::Zero(3, 3);
    const double v = value_and_grad(loss::MSE{}, z, y, g);
    REQUIRE(std::isfinite(v));
    REQUIRE(all_finite(g));
    CHECK(v == Approx(2e8 / 3.0));
  }
  SECTION("GaussianNLL: means +-1e4, log-variance -1e4 (clamped) and +30") {
    // A log-variance of +1e4 would overflow exp() to inf, giving an infinite loss and a
    // 0 * inf = NaN gradient, exactly as torch does with exp(log_var); not tested.
    Columns<T, 4> zg(4, 2);
    zg.col(0) << big, -big, -big, T(30);
    zg.col(1) << -big, big, T(30), -big;
    Columns<T, 2> tg = Columns<T, 2>::Zero(2, 2);
    Columns<T, 4> gg;
    const double v = value_and_grad(loss::GaussianNLL{}, zg, tg, gg);
    REQUIRE(std::isfinite(v));
    REQUIRE(all_finite(gg));
  }
}
