// Finite-difference checks of MaxPool, AvgPool and GlobalAvgPool, alone (input gradients)
// and after convolutions (parameter gradients through the pooling).
//
// Max pooling is only differentiable where each window has a unique maximum, and a central
// difference is only valid if no step changes which element that is. Inputs of MaxPool are
// therefore built with every window's largest value at least kGapMargin above the second:
// directly (shuffled, evenly spaced values) when the pool sees the network input, and by
// redrawing samples whose convolution outputs come too close when a convolution feeds it.
// A step moves a convolution output by at most h * max(1, |v|) times the factor v multiplies:
// about 1e-5 * 4 * 1 (inputs below 4 in magnitude, weights below 1), far below kGapMargin / 2.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "gradcheck/gradcheck.hpp"

using namespace strata;
using namespace strata::gradcheck;

namespace {

constexpr double kGapMargin = 1e-3;

template <class Net>
Result check_linear(const Columns<double, Net::InputShape::size>& x, std::uint64_t seed) {
  Network<Net, double> net(seed);
  const LinearFunctional<Net::OutputShape::size> f(static_cast<std::size_t>(x.cols()), seed * 7919 + 1);
  return check_network(net, x, f);
}

/// Each sample a random permutation of evenly spaced values (spacing 0.05, centred): no two
/// inputs closer than 0.05, so no window has a near tie.
template <std::size_t N>
Columns<double, N> spaced_batch(std::size_t batch, std::uint64_t seed) {
  Columns<double, N> x(N, static_cast<Eigen::Index>(batch));
  Rng rng(seed);
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    std::vector<double> v(N);
    for (std::size_t i = 0; i < N; ++i) v[i] = 0.05 * (static_cast<double>(i) - 0.5 * static_cast<double>(N));
    for (std::size_t i = N - 1; i > 0; --i) std::swap(v[i], v[rng.below(i + 1)]);  // Fisher-Yates
    for (std::size_t i = 0; i < N; ++i) x(static_cast<Eigen::Index>(i), j) = v[i];
  }
  return x;
}

/// The smallest gap between the largest and second-largest value of any K x K window
/// (stride S) of a <C, H, W> sample.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t K, std::size_t S>
double min_window_gap(const double* sample) {
  double gap = INFINITY;
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t oh = 0; oh + K <= H; oh += S)
      for (std::size_t ow = 0; ow + K <= W; ow += S) {
        double first = -INFINITY, second = -INFINITY;
        for (std::size_t kh = 0; kh < K; ++kh)
          for (std::size_t kw = 0; kw < K; ++kw) {
            const double v = sample[(c * H + oh + kh) * W + ow + kw];
            if (v > first) {
              second = first;
              first = v;
            } else if (v > second) {
              second = v;
            }
          }
        gap = std::min(gap, first - second);
      }
  return gap;
}

/// Net = Sequential<Input<In...>, First, MaxPool<K, S>, Rest...> where `First` is a
/// convolution: input columns are redrawn until every pooling window of First's output has
/// a gap of at least kGapMargin, then the whole network is checked.
template <class Net, class First, std::size_t K, std::size_t S>
Result check_conv_then_max_pool(std::size_t batch, std::uint64_t seed) {
  using In = typename Net::InputShape;
  using Pre = Sequential<Input<In::dims[0], In::dims[1], In::dims[2]>, First>;
  using Mid = typename Pre::OutputShape;
  static_assert(std::is_same_v<typename Net::template Layer<0>::OutputShape, Mid>);
  Network<Net, double> net(seed);
  Network<Pre, double> pre(0);
  std::copy_n(net.parameters().begin(), pre.parameters().size(), pre.parameters().begin());
  Columns<double, In::size> x = normal_batch<In::size>(batch, seed + 1000);
  Rng redraw(seed + 2000);
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    for (int attempt = 0;; ++attempt) {
      REQUIRE(attempt < 1000);
      const auto z = pre.forward(x.col(j).data(), 1);
      if (min_window_gap<Mid::dims[0], Mid::dims[1], Mid::dims[2], K, S>(z.data()) >= kGapMargin) break;
      for (Eigen::Index i = 0; i < x.rows(); ++i) x(i, j) = redraw.normal();
    }
  }
  const LinearFunctional<Net::OutputShape::size> f(batch, seed * 7919 + 1);
  return check_network(net, x, f);
}

}  // namespace

TEST_CASE("gradcheck: MaxPool input gradients, windows without ties", "[gradcheck][pool][max_pool]") {
  using Pool2 = Sequential<Input<3, 6, 6>, MaxPool<2>>;
  using Pool3s2 = Sequential<Input<2, 7, 7>, MaxPool<3, 2>>;  // overlapping windows
  using Pool2s1 = Sequential<Input<2, 5, 4>, MaxPool<2, 1>>;  // overlapping windows
  using Pool2Odd = Sequential<Input<1, 5, 7>, MaxPool<2>>;    // floor mode drops the last row and column
  for (const std::size_t batch : {1, 4}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("max_pool", check_linear<Pool2>(spaced_batch<108>(batch, 1), 2));
    REQUIRE_GRADCHECK("max_pool", check_linear<Pool3s2>(spaced_batch<98>(batch, 3), 4));
    REQUIRE_GRADCHECK("max_pool", check_linear<Pool2s1>(spaced_batch<40>(batch, 5), 6));
    REQUIRE_GRADCHECK("max_pool", check_linear<Pool2Odd>(spaced_batch<35>(batch, 7), 8));
  }
}

TEST_CASE("gradcheck: Conv2D -> MaxPool -> Dense, parameter gradients through the pooling",
          "[gradcheck][pool][max_pool]") {
  using A = Sequential<Input<2, 6, 6>, Conv2D<3, 3>, MaxPool<2>, Flatten, Dense<3>>;
  using B = Sequential<Input<1, 7, 7>, Conv2D<2, 3, 1, 1>, MaxPool<3, 2>, Flatten, Dense<2>>;
  for (const std::size_t batch : {1, 3}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("max_pool (after conv)", (check_conv_then_max_pool<A, Conv2D<3, 3>, 2, 2>(batch, 11)));
    REQUIRE_GRADCHECK("max_pool (after conv)", (check_conv_then_max_pool<B, Conv2D<2, 3, 1, 1>, 3, 2>(batch, 12)));
  }
}

TEST_CASE("gradcheck: AvgPool input gradients", "[gradcheck][pool][avg_pool]") {
  for (const std::size_t batch : {1, 4}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("avg_pool", (check_linear<Sequential<Input<3, 6, 6>, AvgPool<2>>>(normal_batch<108>(batch, 21), 22)));
    REQUIRE_GRADCHECK("avg_pool",
                      (check_linear<Sequential<Input<2, 7, 7>, AvgPool<3, 2>>>(normal_batch<98>(batch, 23), 24)));
    REQUIRE_GRADCHECK("avg_pool",
                      (check_linear<Sequential<Input<2, 5, 4>, AvgPool<2, 1>>>(normal_batch<40>(batch, 25), 26)));
    REQUIRE_GRADCHECK("avg_pool",
                      (check_linear<Sequential<Input<1, 5, 7>, AvgPool<2>>>(normal_batch<35>(batch, 27), 28)));
  }
}

TEST_CASE("gradcheck: GlobalAvgPool input gradients, then Dense", "[gradcheck][pool][global_avg_pool]") {
  for (const std::size_t batch : {1, 4}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("global_avg_pool",
                      (check_linear<Sequential<Input<4, 3, 5>, GlobalAvgPool>>(normal_batch<60>(batch, 31), 32)));
    REQUIRE_GRADCHECK("global_avg_pool", (check_linear<Sequential<Input<3, 4, 4>, GlobalAvgPool, Dense<2>>>(
                                             normal_batch<48>(batch, 33), 34)));
  }
}

TEST_CASE("gradcheck: a smooth conv net with both average pools", "[gradcheck][pool][stack]") {
  using Net = Sequential<Input<2, 9, 9>, Conv2D<4, 3>, Tanh, AvgPool<2, 1>, Conv2D<3, 3, 1, same_padding>, Sigmoid,
                         GlobalAvgPool, Dense<2>>;
  for (const std::size_t batch : {1, 3}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("pool (stack)", check_linear<Net>(normal_batch<162>(batch, 41), 42));
  }
}
