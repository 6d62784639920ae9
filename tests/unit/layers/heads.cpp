#include <catch2/catch.hpp>
#include <strata/strata.hpp>

using namespace strata;

namespace {
using Net = Sequential<Input<6>, Dense<16>, ReLU, Heads<Head<Dense<4>>, Head<Dense<8>, BatchNorm, Tanh, Dense<3>>>>;
using M = Model<Net, loss::PerHead<loss::CrossEntropy, loss::CrossEntropy>, optim::Adam>;
}  // namespace

TEST_CASE("Heads concatenate their outputs and name their tensors per head", "[unit][layers][heads]") {
  STATIC_REQUIRE(Net::OutputShape::size == 7);
  STATIC_REQUIRE(std::is_same_v<M::TargetShape, HeadsShape<Shape<1>, Shape<1>>>);
  STATIC_REQUIRE(Net::parameter_count == 6 * 16 + 16 + (16 * 4 + 4) + (16 * 8 + 8) + 16 + (8 * 3 + 3));
  CHECK(Net::segments[2].name() == "2.head.0.0.weight");
  CHECK(Net::segments[4].name() == "2.head.1.0.weight");
  CHECK(Net::buffer_segments[0].name() == "2.head.1.1.running_mean");
  Network<Net> net(1);
  // Head outputs equal the heads run as separate networks on the trunk output.
  Network<Sequential<Input<6>, Dense<16>, ReLU>> trunk(0);
  Network<Sequential<Input<16>, Dense<4>>> head0(0);
  auto p = net.parameters();
  std::copy_n(p.begin(), trunk.parameters().size(), trunk.parameters().begin());
  std::copy_n(p.begin() + 112, head0.parameters().size(), head0.parameters().begin());
  Columns<float, 6> x = Columns<float, 6>::Random(6, 5);
  const Columns<float, 7> y = net.forward(x);
  const Columns<float, 16> h = trunk.forward(x);
  const Columns<float, 4> y0 = head0.forward(h);
  CHECK((y.topRows(4) - y0).cwiseAbs().maxCoeff() < 1e-6f);
}

TEST_CASE("A two-head model learns both heads: accuracy is their mean", "[unit][layers][heads]") {
  M m({.optimizer = {.lr = 1e-2}, .loss = {.weights = {1.0, 0.5}}});
  Rng r(1);
  Columns<float, 6> x(6, 128);
  Columns<float, 2> y(2, 128);
  for (Eigen::Index j = 0; j < 128; ++j) {
    for (Eigen::Index i = 0; i < 6; ++i) x(i, j) = static_cast<float>(r.normal());
    y(0, j) = static_cast<float>((x(0, j) > 0 ? 2 : 0) + (x(1, j) > 0 ? 1 : 0));
    y(1, j) = static_cast<float>(x(2, j) > 0.5f ? 2 : (x(2, j) > -0.5f ? 1 : 0));
  }
  const auto before = m.evaluate(x, y);
  for (int i = 0; i < 300; ++i) REQUIRE(m.train_step(x, y).finite);
  const auto after = m.evaluate(x, y);
  REQUIRE(after.accuracy.has_value());
  CHECK(M::accuracy_units_per_sample() == 2);
  CHECK(*after.accuracy > 0.95);
  CHECK(after.loss < before.loss);
  CHECK(m.loss().head_losses()[0] >= 0.0);
  CHECK_THROWS_AS((M({.loss = {.weights = {1.0, -1.0}}})), option_error);
}
