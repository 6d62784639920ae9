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
static_assert(Sequential<Input<7, 5, 4>, MaxPool<2>>::Layer<0>::scratch_per_sample == 0);  // backward needs only x
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

namespace {
/// Equal, with the same sign for zeros; any NaN equals any NaN.
bool same_value(float a, float b) {
  return std::isnan(a) ? std::isnan(b) : a == b && std::signbit(a) == std::signbit(b);
}

/// PyTorch's CPU max-pool loop, written out: the output and the plane index of the element
/// each window's gradient goes to.
template <std::size_t H, std::size_t W, std::size_t K, std::size_t S>
void reference_max_pool(const float* x, float* y, std::size_t* chosen) {
  constexpr std::size_t oh_n = (H - K) / S + 1, ow_n = (W - K) / S + 1;
  for (std::size_t oh = 0; oh < oh_n; ++oh)
    for (std::size_t ow = 0; ow < ow_n; ++ow) {
      float m = -std::numeric_limits<float>::infinity();
      std::size_t at = oh * S * W + ow * S;
      for (std::size_t kh = 0; kh < K; ++kh)
        for (std::size_t kw = 0; kw < K; ++kw) {
          const std::size_t i = (oh * S + kh) * W + ow * S + kw;
          if (x[i] > m || std::isnan(x[i])) {
            m = x[i];
            at = i;
          }
        }
      y[oh * ow_n + ow] = m;
      chosen[oh * ow_n + ow] = at;
    }
}

/// Random planes drawn from a few values (many ties), with NaN, +-0 and -inf sprinkled in:
/// MaxPool's output and input gradient equal the reference loop's, bit for bit.
template <std::size_t H, std::size_t W, std::size_t K, std::size_t S>
void check_against_reference() {
  using Net = Sequential<Input<3, H, W>, MaxPool<K, S>>;
  constexpr std::size_t in = 3 * H * W, out = Net::output_shape.size, plane_out = out / 3;
  Network<Net, float> net(0);
  Rng rng(H * 100 + W * 10 + K + S);
  const float pool[] = {-1.0f, 0.0f, -0.0f, 2.0f, 2.0f, 3.5f, -std::numeric_limits<float>::infinity(),
                        std::numeric_limits<float>::quiet_NaN()};
  Columns<float, in> x(in, 4);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const auto r = rng.next();
    x.data()[i] = (r % 16 == 0) ? pool[(r >> 8) % 8] : pool[(r >> 8) % 6];  // NaN and -inf are rarer
  }
  const Columns<float, out> y = net.forward(x);
  auto g = net.output_gradient();
  for (Eigen::Index i = 0; i < g.size(); ++i) g.data()[i] = static_cast<float>(i % 97) + 1.0f;
  Columns<float, in> dx(in, 4);
  net.backward(dx.data());
  for (Eigen::Index j = 0; j < 4; ++j)
    for (std::size_t c = 0; c < 3; ++c) {
      float ry[plane_out];
      std::size_t at[plane_out];
      reference_max_pool<H, W, K, S>(x.col(j).data() + c * H * W, ry, at);
      std::vector<float> rdx(H * W, 0.0f);
      for (std::size_t o = 0; o < plane_out; ++o) rdx[at[o]] += g(static_cast<Eigen::Index>(c * plane_out + o), j);
      for (std::size_t o = 0; o < plane_out; ++o) {
        const float got = y(static_cast<Eigen::Index>(c * plane_out + o), j);
        INFO("K " << K << " S " << S << " sample " << j << " channel " << c << " output " << o);
        CHECK(same_value(got, ry[o]));
      }
      for (std::size_t i = 0; i < H * W; ++i) {
        INFO("K " << K << " S " << S << " sample " << j << " channel " << c << " pixel " << i);
        CHECK(dx(static_cast<Eigen::Index>(c * H * W + i), j) == rdx[i]);
      }
    }
}
}  // namespace

TEST_CASE("MaxPool equals PyTorch's loop on ties, signed zeros, -inf and NaN, for tiling, overlapping and gapped windows",
          "[unit][layers][pool]") {
  check_against_reference<8, 8, 2, 2>();    // tiling
  check_against_reference<9, 11, 2, 2>();   // tiling, floor mode leaves a row and a column
  check_against_reference<7, 7, 3, 3>();    // tiling, K = 3
  check_against_reference<7, 9, 3, 2>();    // overlapping
  check_against_reference<6, 6, 2, 1>();    // overlapping, stride 1
  check_against_reference<9, 9, 2, 3>();    // gaps between windows
  check_against_reference<5, 5, 1, 1>();    // identity
}

TEST_CASE("MaxPool sends the gradient of a NaN window to its last NaN, as PyTorch", "[unit][layers][pool]") {
  using Net = Sequential<Input<1, 2, 2>, MaxPool<2>>;
  Network<Net, float> net(0);
  Columns<float, 4> x(4, 1);
  x << std::numeric_limits<float>::quiet_NaN(), 5, std::numeric_limits<float>::quiet_NaN(), 7;
  CHECK(std::isnan(net.forward(x)(0, 0)));
  net.output_gradient() << 3;
  Columns<float, 4> dx(4, 1);
  net.backward(dx.data());
  CHECK(dx(0) == 0);
  CHECK(dx(2) == 3);
  CHECK(dx.sum() == 3);
}
