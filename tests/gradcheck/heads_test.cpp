// Finite-difference checks of a two-head network: a shared trunk, a digit-like head and a
// colour-like head, trained with loss::PerHead (weighted sum of per-head losses).
#include <catch2/catch.hpp>

#include "gradcheck/gradcheck.hpp"

using namespace strata;
using namespace strata::gradcheck;

namespace {
using Net = Sequential<Input<5>, Dense<8>, Tanh, Heads<Head<Dense<4>>, Head<Dense<6>, Sigmoid, Dense<3>>>>;
using HeadLoss = loss::PerHead<loss::CrossEntropy, loss::MSE>;
using Bound = HeadLoss::Bound<Net::OutputShape>;
}  // namespace

TEST_CASE("Two-head network: gradients of a weighted per-head loss", "[gradcheck][heads]") {
  STATIC_REQUIRE(Net::output_shape == HeadsShape<Shape<4>, Shape<3>>{});
  for (std::size_t batch : {1, 5, 33}) {
    Network<Net, double> net(batch);
    const auto x = normal_batch<5>(batch, batch + 100);
    // Targets: a class index in [0, 4) for head 0, three regression values for head 1.
    Columns<double, 4> y(4, static_cast<Eigen::Index>(batch));
    const auto classes = class_targets(4, batch, batch + 7);
    y.row(0) = classes.row(0);
    y.bottomRows(3) = normal_batch<3>(batch, batch + 9);
    HeadLoss settings;
    settings.weights = {0.7, 1.9};
    const LossObjective<Bound, 4> f(Bound(settings), y);
    const Result r = check_network(net, x, f);
    INFO(r.describe());
    record("heads", r);
    REQUIRE(r.passed());
  }
}

TEST_CASE("PerHead's value is the weighted sum of the heads' losses", "[gradcheck][heads]") {
  Columns<double, 7> out = normal_batch<7>(6, 1);
  Columns<double, 4> y(4, 6);
  y.row(0) = class_targets(4, 6, 2).row(0);
  y.bottomRows(3) = normal_batch<3>(6, 3);
  HeadLoss settings;
  settings.weights = {0.25, 2.0};
  const Bound bound(settings);
  const ConstColumnsMap<double, 7> o(out.data(), 7, 6);
  const ConstColumnsMap<double, 4> t(y.data(), 4, 6);
  const double total = bound.value_and_gradient(o, t, static_cast<double*>(nullptr));
  const Columns<double, 4> o0 = out.topRows(4);
  const Columns<double, 3> o1 = out.bottomRows(3);
  const Columns<double, 1> t0 = y.topRows(1);
  const Columns<double, 3> t1 = y.bottomRows(3);
  const double ce = loss::CrossEntropy{}.value_and_gradient(o0, t0, static_cast<double*>(nullptr));
  const double mse = loss::MSE{}.value_and_gradient(o1, t1, static_cast<double*>(nullptr));
  CHECK(total == Approx(0.25 * ce + 2.0 * mse).epsilon(1e-14));
  CHECK(bound.head_losses()[0] == Approx(ce).epsilon(1e-14));
  CHECK(bound.head_losses()[1] == Approx(mse).epsilon(1e-14));
}
