#include <catch2/catch.hpp>
#include <strata/strata.hpp>

#include <cmath>

using namespace strata;

TEST_CASE("GaussianHead with GaussianNLL learns the mean and a noise level that varies with the input",
          "[unit][layers][gaussian]") {
  // y = 2x + sigma(x) * N(0, 1), sigma(x) = 0.05 + 0.2 (x + 1): 0.05 at x = -1, 0.45 at x = 1.
  using Net = Sequential<Input<1>, Dense<32>, Tanh, Dense<32>, Tanh, GaussianHead<1>>;
  STATIC_REQUIRE(Net::OutputShape::size == 2);
  auto sigma_at = [](double x) { return 0.05 + 0.2 * (x + 1); };
  Rng r(7);
  const Eigen::Index n = 2000;
  Columns<float, 1> x(1, n), y(1, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    const double v = r.uniform(-1, 1);
    x(0, j) = static_cast<float>(v);
    y(0, j) = static_cast<float>(2 * v + sigma_at(v) * r.normal());
  }
  const Dataset<Shape<1>, Shape<1>> train(x, y);
  Model<Net, loss::GaussianNLL, optim::Adam> model({.optimizer = {.lr = 5e-3}, .seed = 3});
  const auto result = fit(model, train, {.epochs = 60, .batch_size = 50, .seed = 1});
  REQUIRE_FALSE(result.diverged());

  Columns<float, 1> probe(1, 5);
  probe << -0.8f, -0.4f, 0.0f, 0.4f, 0.8f;
  const auto out = model.predict(probe);
  const auto mean = loss::gaussian_mean(out);
  const auto sigma = loss::gaussian_sigma(out);
  STATIC_REQUIRE(decltype(mean)::RowsAtCompileTime == 1);
  for (Eigen::Index j = 0; j < probe.cols(); ++j) {
    const double v = probe(0, j);
    INFO("x = " << v << ": mean " << mean(0, j) << ", sigma " << sigma(0, j) << " (true " << sigma_at(v) << ")");
    // GaussianNLL scales the mean's gradient by 1 / sigma^2, so the mean converges slowest
    // where the noise is large: it must be within half a noise standard deviation.
    CHECK(std::abs(mean(0, j) - 2 * v) < 0.5 * sigma_at(v));
    CHECK(sigma(0, j) == Approx(sigma_at(v)).epsilon(0.3));
    if (j > 0) CHECK(sigma(0, j) > sigma(0, j - 1));
  }
}

TEST_CASE("gaussian_sigma is sqrt(max(exp(log variance), eps))", "[unit][layers][gaussian]") {
  Columns<double, 4> out(4, 1);
  out << 1.0, 2.0, std::log(0.25), -40.0;
  const auto s = loss::gaussian_sigma(out);
  CHECK(s(0, 0) == Approx(0.5));
  CHECK(s(1, 0) == Approx(std::sqrt(1e-6)));
  CHECK((loss::gaussian_mean(out).col(0) - Eigen::Vector2d(1.0, 2.0)).norm() == 0.0);
}
