#include <catch2/catch.hpp>
#include <strata/strata.hpp>

using namespace strata;

TEST_CASE("Dropout keeps 1 - p of the elements, scaled by 1 / (1 - p)", "[unit][layers][dropout]") {
  using Net = Sequential<Input<1000>, Dropout>;
  Network<Net, double> net(1);
  for (double p : {0.1, 0.5, 0.8}) {
    net.set_dropout_rate(p);
    Columns<double, 1000> x = Columns<double, 1000>::Constant(1000, 50, 2.0);
    const auto y = net.forward(x);
    const auto kept = (y.array() != 0.0).count();
    const double n = 1000.0 * 50;
    // Binomial: standard deviation sqrt(n p (1 - p)) <= 112; allow 5 sigma.
    CHECK(std::abs(double(kept) - n * (1 - p)) < 5 * std::sqrt(n * p * (1 - p)));
    for (Eigen::Index i = 0; i < y.size(); ++i)
      if (y.data()[i] != 0.0) REQUIRE(y.data()[i] == Approx(2.0 / (1 - p)));
    CHECK(y.mean() == Approx(2.0).epsilon(0.03));  // expectation preserved
    // Backward multiplies by the same mask.
    net.output_gradient().setOnes();
    Columns<double, 1000> dx(1000, 50);
    net.backward(dx.data());
    CHECK(((dx.array() != 0.0) == (y.array() != 0.0)).all());
  }
}

TEST_CASE("Dropout is the identity in eval mode and at rate 0", "[unit][layers][dropout]") {
  using Net = Sequential<Input<20>, DropoutWith<0.5>>;
  Network<Net> net(1);
  Columns<float, 20> x = Columns<float, 20>::Random(20, 8);
  net.set_mode(Mode::eval);
  CHECK(net.forward(x) == x);
  using Runtime = Sequential<Input<20>, Dropout>;
  Network<Runtime> r(1);
  CHECK(r.forward(x) == x);  // default runtime rate 0
  CHECK_THROWS_AS(r.set_dropout_rate(1.0), option_error);
}

TEST_CASE("Dropout masks are reproducible for a seed", "[unit][layers][dropout]") {
  using Net = Sequential<Input<64>, DropoutWith<0.3>>;
  Network<Net> a(7), b(7), c(8);
  Columns<float, 64> x = Columns<float, 64>::Ones(64, 4);
  const Columns<float, 64> ya = a.forward(x);
  CHECK(ya == b.forward(x));
  CHECK(ya != c.forward(x));
  CHECK(ya != a.forward(x));  // a new mask each step
}

TEST_CASE("Model config sets the runtime dropout rate", "[unit][layers][dropout]") {
  using Net = Sequential<Input<4>, Dense<8>, Dropout, Dense<2>>;
  Model<Net, loss::CrossEntropy, optim::SGD> m({.dropout = 0.25});
  CHECK(m.network().dropout_rate() == 0.25);
  CHECK_THROWS_AS((Model<Net, loss::CrossEntropy, optim::SGD>({.dropout = -0.1})), option_error);
}
