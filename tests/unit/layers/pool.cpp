// MaxPool, AvgPool, GlobalAvgPool: shapes, values on hand-made inputs, PyTorch's tie rule,
// and gradients of overlapping windows.
#include <catch2/catch.hpp>
#include <strata/strata.hpp>

#include <cmath>
#include <limits>
#include <vector>

using namespace strata;

namespace {
static_assert(Sequential<Input<3, 28, 28>, MaxPool<2>>::output_shape == Shape<3, 14, 14>{});
static_assert(Sequential<Input<3, 13, 13>, MaxPool<2>>::output_shape == Shape<3, 6, 6>{});  // floor mode
static_assert(Sequential<Input<3, 11, 11>, AvgPool<3, 2>>::output_shape == Shape<3, 5, 5>{});
static_assert(Sequential<Input<2, 5, 7>, MaxPool<2, 1>>::output_shape == Shape<2, 4, 6>{});
static_assert(Sequential<Input<2, 4, 4>, MaxPool<4>>::output_shape == Shape<2, 1, 1>{});
static_assert(Sequential<Input<2, 4, 4>, MaxPool<1, 2>>::output_shape == Shape<2, 2, 2>{});
// GlobalAvgPool gives a flat <C>, so Dense can follow without Flatten.
static_assert(Sequential<Input<7, 5, 3>, GlobalAvgPool>::output_shape == Shape<7>{});
static_assert(Sequential<Input<7, 5, 3>, GlobalAvgPool, Dense<2>>::parameter_count == 16);
static_assert(Sequential<Input<7, 5, 6>, MaxPool<2>, AvgPool<2>>::output_shape == Shape<7, 1, 1>{});
static_assert(Sequential<Input<7, 5, 4>, MaxPool<2>>::Layer<0>::scratch_per_sample == 7 * 2 * 2);  // an argmax per output
static_assert(Sequential<Input<7, 5, 4>, AvgPool<2>>::Layer<0>::scratch_per_sample == 0);
}  // namespace

TEST_CASE("MaxPool takes each window's maximum: gradient goes to it", "[unit][layers][pool]") {
  using Net = Sequential<Input<1, 4, 4>, MaxPool<2>>;
  CHECK(Net::Layer<0>::name() == "MaxPool<2>");
  Network<Net, double> net(0);
  // clang-format off
  Columns<double, 16> x(16, 1);
  x << 1, 5, 2, 0,
       3, 4, 8, 7,
      -1, -2, 0, 0,
      -3, -9, 6, 6;
  // clang-format on
  const auto y = net.forward(x);
  CHECK(y(0, 0) == 5);
  CHECK(y(1, 0) == 8);
  CHECK(y(2, 0) == -1);
  CHECK(y(3, 0) == 6);
  net.output_gradient() << 10, 20, 30, 40;
  Columns<double, 16> dx(16, 1);
  net.backward(dx.data());
  Columns<double, 16> expected = Columns<double, 16>::Zero(16, 1);
  expected(1) = 10;   // the 5
  expected(6) = 20;   // the 8
  expected(8) = 30;   // the -1
  expected(14) = 40;  // the first of the tied 6s (row-major), as PyTorch
  CHECK(dx == expected);
}

TEST_CASE("MaxPool ties: the first maximum in row-major order gets the gradient", "[unit][layers][pool]") {
  using Net = Sequential<Input<2, 3, 3>, MaxPool<3>>;
  Network<Net, float> net(0);
  Columns<float, 18> x = Columns<float, 18>::Constant(18, 2, 1.0f);  // all tied
  x(4, 1) = 2;                                                       // sample 1, channel 0: unique max at centre
  x(9 + 5, 1) = 2;
  x(9 + 7, 1) = 2;  // channel 1: tied maxima at (1, 2) and (2, 1)
  net.forward(x);
  net.output_gradient().setOnes();
  Columns<float, 18> dx(18, 2);
  net.backward(dx.data());
  for (Eigen::Index j = 0; j < 2; ++j) CHECK(dx.col(j).sum() == 2.0f);
  CHECK(dx(0, 0) == 1.0f);
  CHECK(dx(9, 0) == 1.0f);
  CHECK(dx(4, 1) == 1.0f);
  CHECK(dx(9 + 5, 1) == 1.0f);
}

TEST_CASE("MaxPool with overlapping windows adds the gradients of every window", "[unit][layers][pool]") {
  using Net = Sequential<Input<1, 3, 3>, MaxPool<2, 1>>;
  CHECK(Net::Layer<0>::name() == "MaxPool<2,1>");
  Network<Net, double> net(0);
  Columns<double, 9> x(9, 1);
  x << 0, 1, 0, 2, 9, 3, 0, 4, 0;  // the 9 is the maximum of all four windows
  const auto y = net.forward(x);
  CHECK((y.array() == 9).all());
  net.output_gradient() << 1, 2, 3, 4;
  Columns<double, 9> dx(9, 1);
  net.backward(dx.data());
  CHECK(dx(4) == 10);
  CHECK(dx.sum() == 10);
}

TEST_CASE("MaxPool propagates NaN as PyTorch does", "[unit][layers][pool]") {
  using Net = Sequential<Input<1, 2, 2>, MaxPool<2>>;
  Network<Net, float> net(0);
  Columns<float, 4> x(4, 1);
  x << 1, std::numeric_limits<float>::quiet_NaN(), 3, 2;
  CHECK(std::isnan(net.forward(x)(0, 0)));
}

TEST_CASE("AvgPool averages each window: gradient spreads evenly", "[unit][layers][pool]") {
  using Net = Sequential<Input<2, 3, 4>, AvgPool<2, 1>>;
  CHECK(Net::Layer<0>::name() == "AvgPool<2,1>");
  static_assert(Net::output_shape == Shape<2, 2, 3>{});
  Network<Net, double> net(0);
  Columns<double, 24> x(24, 1);
  for (int i = 0; i < 24; ++i) x(i) = i;
  const auto y = net.forward(x);
  // Channel 0, window at (0, 0): (0 + 1 + 4 + 5) / 4; channel 1, window at (1, 2): (18 + 19 + 22 + 23) / 4.
  CHECK(y(0, 0) == 2.5);
  CHECK(y(11, 0) == 20.5);
  net.output_gradient().setOnes();
  Columns<double, 24> dx(24, 1);
  net.backward(dx.data());
  // Corners are in one window, edge middles in two, interior pixels in four (width 4: columns 1, 2).
  CHECK(dx(0) == 0.25);
  CHECK(dx(1) == 0.5);
  CHECK(dx(5) == 1.0);
  CHECK(dx.sum() == Approx(12 * 1.0));
}

TEST_CASE("GlobalAvgPool is the mean of each channel", "[unit][layers][pool]") {
  using Net = Sequential<Input<3, 2, 5>, GlobalAvgPool>;
  CHECK(Net::Layer<0>::name() == "GlobalAvgPool");
  Network<Net, double> net(0);
  Columns<double, 30> x(30, 2);
  for (int i = 0; i < 60; ++i) x.data()[i] = i;
  const auto y = net.forward(x);
  CHECK(y(0, 0) == 4.5);
  CHECK(y(2, 1) == 54.5);
  net.output_gradient() << 1, 2, 3, 4, 5, 6;
  Columns<double, 30> dx(30, 2);
  net.backward(dx.data());
  CHECK(dx(0, 0) == 0.1);
  CHECK(dx(29, 1) == Approx(0.6));
}

TEST_CASE("Pooling: a batch gives the outputs of its samples run one at a time", "[unit][layers][pool]") {
  using Net = Sequential<Input<4, 9, 9>, MaxPool<3, 2>, AvgPool<2>, GlobalAvgPool>;
  Network<Net> net(0);
  Columns<float, 324> x = Columns<float, 324>::Random(324, 64);
  const Columns<float, 4> all = net.forward(x);
  for (Eigen::Index j = 0; j < x.cols(); ++j) CHECK(net.forward(x.col(j).data(), 1) == all.col(j));
}
