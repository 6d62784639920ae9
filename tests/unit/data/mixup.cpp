// One-hot targets, Gamma and Beta sampling, and mixup's blend of inputs and targets.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <vector>

#include <strata/data/mixup.hpp>

using namespace strata;

TEST_CASE("mixup: one_hot columns, and labels outside the classes are named", "[unit][data][mixup]") {
  const std::vector<float> labels{2, 0, 1, 2};
  std::vector<float> out(12, -1.0f);
  data::one_hot(labels.data(), 4, 3, out.data());
  CHECK(out == std::vector<float>{0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1});
  const std::vector<double> bad{0, 1, 3, 0}, fractional{0, 1.5}, negative{-1};
  std::vector<double> o(12, 7.0);
  CHECK_THROWS_AS(data::one_hot(bad.data(), 4, 3, o.data()), data_error);
  CHECK_THROWS_WITH(data::one_hot(bad.data(), 4, 3, o.data()), Catch::Contains("column 2"));
  CHECK(o == std::vector<double>(12, 7.0));  // untouched on error
  CHECK_THROWS_WITH(data::one_hot(fractional.data(), 2, 3, o.data()), Catch::Contains("column 1"));
  CHECK_THROWS_AS(data::one_hot(negative.data(), 1, 3, o.data()), data_error);
}

TEST_CASE("mixup: Gamma and Beta samples have the right mean and variance", "[unit][data][mixup]") {
  constexpr int n = 20000;
  auto moments = [&](auto draw) {
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      const double v = draw();
      REQUIRE(std::isfinite(v));
      s += v;
      s2 += v * v;
    }
    const double mean = s / n;
    return std::pair<double, double>{mean, s2 / n - mean * mean};
  };
  for (const double alpha : {0.2, 1.0, 2.0}) {
    INFO("alpha " << alpha);
    Rng rng(static_cast<std::uint64_t>(alpha * 10));
    double lo = 1, hi = 0;
    const auto [mean, var] = moments([&] {
      const double v = data::sample_beta(alpha, alpha, rng);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      return v;
    });
    // Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)); the standard error of the mean is
    // at most 0.003 here, so 0.012 is four of them.
    CHECK(mean == Approx(0.5).margin(0.012));
    CHECK(var == Approx(1.0 / (4.0 * (2.0 * alpha + 1.0))).margin(0.006));
    CHECK(lo >= 0.0);
    CHECK(hi <= 1.0);
  }
  {
    Rng rng(3);
    const auto [mean, var] = moments([&] { return data::sample_beta(2.0, 5.0, rng); });
    CHECK(mean == Approx(2.0 / 7.0).margin(0.005));
    CHECK(var == Approx(10.0 / (49.0 * 8.0)).margin(0.002));
  }
  for (const double shape : {0.3, 1.0, 4.5}) {
    INFO("shape " << shape);
    Rng rng(4);
    const auto [mean, var] = moments([&] { return data::sample_gamma(shape, rng); });
    CHECK(mean == Approx(shape).margin(4 * std::sqrt(shape / n) + 1e-3));
    CHECK(var == Approx(shape).epsilon(0.08));
  }
  Rng rng(1);
  CHECK_THROWS_AS(data::sample_beta(0.0, 1.0, rng), option_error);
  CHECK_THROWS_AS(data::sample_gamma(-1.0, rng), option_error);
  // Tiny alpha: samples pile up at 0 and 1 but stay finite.
  for (int i = 0; i < 100; ++i) {
    const double v = data::sample_beta(0.01, 0.01, rng);
    REQUIRE(v >= 0.0);
    REQUIRE(v <= 1.0);
  }
}

TEST_CASE("mixup: inputs and soft targets are blended with the returned lambda", "[unit][data][mixup]") {
  // Eight samples with distinct labels, so a target column says which sample was mixed in.
  constexpr std::size_t rows = 5, batch = 8, classes = 10;
  std::vector<double> labels(batch);
  for (std::size_t k = 0; k < batch; ++k) labels[k] = static_cast<double>((3 * k + 1) % classes);
  std::vector<double> x0(rows * batch);
  Rng fill(9);
  for (auto& v : x0) v = fill.uniform(-1, 1);
  int non_identity = 0;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    INFO("seed " << seed);
    auto x = x0;
    std::vector<double> t(classes * batch), scratch(rows * batch);
    Rng rng(seed);
    const double lambda = data::mixup(x.data(), rows, labels.data(), classes, t.data(), batch, 0.4, rng, scratch.data());
    REQUIRE(lambda >= 0.0);
    REQUIRE(lambda <= 1.0);
    std::vector<int> partner_used(batch, 0);
    for (std::size_t k = 0; k < batch; ++k) {
      const double* tk = t.data() + k * classes;
      double sum = 0;
      for (std::size_t r = 0; r < classes; ++r) sum += tk[r];
      CHECK(sum == Approx(1.0).margin(1e-12));
      const auto own = static_cast<std::size_t>(labels[k]);
      // The partner: the sample whose label carries the (1 - lambda) mass; k itself when the
      // whole column sits on k's label.
      std::size_t partner = k;
      for (std::size_t j = 0; j < batch; ++j) {
        const auto lj = static_cast<std::size_t>(labels[j]);
        if (j != k && tk[lj] != 0.0) partner = j;
      }
      if (partner == k) {
        CHECK(tk[own] == Approx(1.0));
      } else {
        ++non_identity;
        CHECK(tk[own] == Approx(lambda).margin(1e-12));
        CHECK(tk[static_cast<std::size_t>(labels[partner])] == Approx(1.0 - lambda).margin(1e-12));
      }
      ++partner_used[partner];
      for (std::size_t i = 0; i < rows; ++i)
        CHECK(x[k * rows + i] ==
              Approx(lambda * x0[k * rows + i] + (1.0 - lambda) * x0[partner * rows + i]).margin(1e-12));
    }
    // The partners form a permutation of the batch.
    CHECK(std::all_of(partner_used.begin(), partner_used.end(), [](int c) { return c == 1; }));
  }
  CHECK(non_identity > 40);  // most samples get a partner other than themselves

  // Same seed, same result; float works alike.
  std::vector<float> xf(x0.begin(), x0.end()), xg = xf, lf(labels.begin(), labels.end());
  std::vector<float> tf(classes * batch), tg(classes * batch), sf(rows * batch);
  Rng r1(5), r2(5);
  const double l1 = data::mixup(xf.data(), rows, lf.data(), classes, tf.data(), batch, 1.0, r1, sf.data());
  const double l2 = data::mixup(xg.data(), rows, lf.data(), classes, tg.data(), batch, 1.0, r2, sf.data());
  CHECK(l1 == l2);
  CHECK(xf == xg);
  CHECK(tf == tg);
  for (std::size_t k = 0; k < batch; ++k) {
    float s = 0;
    for (std::size_t r = 0; r < classes; ++r) s += tf[k * classes + r];
    CHECK(s == Approx(1.0f).margin(1e-6));
  }
}

TEST_CASE("mixup: alpha 0 is the identity and draws nothing, bad alpha and labels throw", "[unit][data][mixup]") {
  const std::vector<float> labels{1, 0, 2};
  const std::vector<float> x0{1, 2, 3, 4, 5, 6};
  auto x = x0;
  std::vector<float> t(9, -1.0f), scratch(6);
  Rng rng(3), untouched(3);
  CHECK(data::mixup(x.data(), 2, labels.data(), 3, t.data(), 3, 0.0, rng, scratch.data()) == 1.0);
  CHECK(x == x0);
  CHECK(t == std::vector<float>{0, 1, 0, 1, 0, 0, 0, 0, 1});
  CHECK(rng.next() == untouched.next());

  CHECK_THROWS_AS(data::mixup(x.data(), 2, labels.data(), 3, t.data(), 3, -0.1, rng, scratch.data()), option_error);
  CHECK_THROWS_AS(data::mixup(x.data(), 2, labels.data(), 3, t.data(), 3, NAN, rng, scratch.data()), option_error);
  CHECK_THROWS_AS(data::mixup(x.data(), 2, labels.data(), 3, t.data(), 3, INFINITY, rng, scratch.data()),
                  option_error);
  const std::vector<float> bad{1, 5, 0};
  CHECK_THROWS_WITH(data::mixup(x.data(), 2, bad.data(), 3, t.data(), 3, 0.2, rng, scratch.data()),
                    Catch::Contains("column 1"));
  CHECK(x == x0);  // nothing written before the check
}
