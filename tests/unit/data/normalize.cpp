// data::Standardizer: statistics from the training set only, finite on constant
// features, exact inverse, per-channel for images.
#include <catch2/catch.hpp>
#include <cmath>

#include <strata/data/normalize.hpp>
#include <strata/core/rng.hpp>

using namespace strata;

namespace {

// n samples: feature 0 ~ N(mean, 2^2), feature 1 constant 5, feature 2 uniform in [0, 10).
Dataset<Shape<3>, Shape<1>> make(std::size_t n, double mean, std::uint64_t seed) {
  Rng rng(seed);
  Eigen::MatrixXf x(3, static_cast<Eigen::Index>(n)), y(1, static_cast<Eigen::Index>(n));
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    x(0, j) = static_cast<float>(mean + 2.0 * rng.normal());
    x(1, j) = 5.0f;
    x(2, j) = static_cast<float>(rng.uniform(0, 10));
    y(0, j) = static_cast<float>(100.0 + 30.0 * rng.normal());
  }
  return {x, y};
}

}  // namespace

TEST_CASE("Standardizer: fitted statistics and standardised training set", "[unit][data][normalize]") {
  const auto train = make(2000, 10.0, 1);
  const auto sx = data::fit_inputs(train);
  REQUIRE(sx.mean().size() == 3);
  CHECK(sx.mean()[0] == Approx(10.0).margin(0.2));
  CHECK(sx.stddev()[0] == Approx(2.0).epsilon(0.05));
  const auto t = data::transform(train, sx);
  for (Eigen::Index r : {0, 2}) {
    const double m = t.x.row(r).cast<double>().mean();
    const double v = (t.x.row(r).cast<double>().array() - m).square().mean();
    CHECK(m == Approx(0.0).margin(1e-5));
    CHECK(v == Approx(1.0).epsilon(1e-4));
  }
  CHECK(t.y == train.y);  // inputs only
  CHECK_THAT(sx.summary(), Catch::StartsWith("Standardizer<3>: per feature, mean ["));
}

TEST_CASE("Standardizer: fitted on train only, val/test cannot leak in", "[unit][data][normalize]") {
  const auto train = make(500, 0.0, 2);
  const auto val = make(500, 1000.0, 3);  // a very different mean
  const auto sx = data::fit_inputs(train);
  const auto sy = data::fit_targets(train);
  const auto before = sx.mean();
  const auto val_t = data::transform(val, sx, sy);
  CHECK(sx.mean() == before);                           // transforming val changes nothing
  CHECK(sx.mean()[0] == Approx(0.0).margin(0.3));       // and 1000 never entered the mean
  CHECK(val_t.x.row(0).mean() == Approx(1000.0 / sx.stddev()[0]).epsilon(0.01));  // far off in train's units
  // A Standardizer fitted on train and val together would differ: that would be the leak.
  Dataset<Shape<3>, Shape<1>> both;
  both.x.resize(3, 1000);
  both.x << train.x, val.x;
  CHECK(data::Standardizer<Shape<3>>::fit(both.x).mean()[0] > 400);
}

TEST_CASE("Standardizer: a zero-variance feature stays finite", "[unit][data][normalize]") {
  const auto train = make(100, 0.0, 4);
  const auto sx = data::fit_inputs(train);
  CHECK(sx.stddev()[1] == 1.0);  // documented: std 1 where the variance is zero
  CHECK(sx.mean()[1] == Approx(5.0));
  const auto t = data::transform(make(50, 0.0, 5), sx);
  CHECK(t.x.allFinite());
  CHECK(t.x.row(1).cwiseAbs().maxCoeff() < 1e-5f);
  Eigen::MatrixXf zeros = Eigen::MatrixXf::Zero(3, 4);
  CHECK(data::Standardizer<Shape<3>>::fit(zeros).transform(zeros).allFinite());
}

TEST_CASE("Standardizer: inverse(transform(y)) == y, errors in original units", "[unit][data][normalize]") {
  const auto train = make(300, 3.0, 6);
  const auto sy = data::fit_targets(train);
  const auto sx = data::fit_inputs(train);
  const auto back = sy.inverse(sy.transform(train.y));
  CHECK((back - train.y).cwiseAbs().maxCoeff() / train.y.cwiseAbs().maxCoeff() < 1e-6f);
  const auto xback = sx.inverse(sx.transform(train.x));
  CHECK(((xback - train.x).cwiseAbs().array() <= 1e-6f * (1.0f + train.x.cwiseAbs().array())).all());
  // RMSE on standardised targets times std is the RMSE in original units.
  Eigen::RowVectorXf pred = train.y.array() + 3.0f;  // off by 3 units everywhere
  const auto zp = sy.transform(pred), zy = sy.transform(train.y);
  const double rmse_z = std::sqrt((zp - zy).cast<double>().array().square().mean());
  CHECK(sy.to_original_units(rmse_z) == Approx(3.0).epsilon(1e-4));
  CHECK(sy.to_original_units(0.5) == Approx(0.5 * sy.stddev()[0]));
}

TEST_CASE("Standardizer: per channel for <C,H,W>", "[unit][data][normalize]") {
  using S = Shape<2, 3, 3>;
  Columns<float, 18> x(18, 40);
  Rng rng(9);
  for (Eigen::Index j = 0; j < 40; ++j)
    for (Eigen::Index r = 0; r < 18; ++r) x(r, j) = static_cast<float>((r < 9 ? 0.0 : 50.0) + rng.normal());
  const auto s = data::Standardizer<S>::fit(x);
  REQUIRE(s.mean().size() == 2);
  CHECK(s.mean()[0] == Approx(0.0).margin(0.3));
  CHECK(s.mean()[1] == Approx(50.0).margin(0.3));
  CHECK_THAT(s.summary(), Catch::Contains("per channel"));
  const auto t = s.transform(x);
  CHECK(t.topRows(9).mean() == Approx(0.0).margin(1e-4));
  CHECK(t.bottomRows(9).mean() == Approx(0.0).margin(1e-4));
  CHECK_THROWS_AS(data::Standardizer<S>().transform(x), option_error);
  CHECK_THROWS_AS(data::Standardizer<S>::fit(Columns<float, 18>(18, 0)), data_error);
}
