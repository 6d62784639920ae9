// Finite-difference checks of every layer's backward pass (parameter and input gradients),
// each on several shapes and batch sizes, with a fixed random linear functional of the
// network output as the objective. See gradcheck.hpp for the method and the metrics.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cfloat>
#include <cstddef>
#include <cstdint>

#include "gradcheck/gradcheck.hpp"

using namespace strata;
using namespace strata::gradcheck;

namespace {

/// Network<Net, double> initialised from `seed`, objective sum(c .* output) with c ~ N(0, 1).
template <class Net>
Result check_linear(const Columns<double, Net::InputShape::size>& x, std::uint64_t seed, const Options& o = {}) {
  Network<Net, double> net(seed);
  const LinearFunctional<Net::OutputShape::size> f(static_cast<std::size_t>(x.cols()), seed * 7919 + 1);
  return check_network(net, x, f, o);
}

template <class Net>
Result check_linear(std::size_t batch, std::uint64_t seed, const Options& o = {}) {
  return check_linear<Net>(normal_batch<Net::InputShape::size>(batch, seed + 1000), seed, o);
}

/// Minimum distance from the kink at 0 of the inputs of a ReLU / LeakyReLU. A central
/// difference is only valid where the function is smooth over [x - h, x + h]. The largest
/// step any check here takes moves a pre-activation by at most
/// h * max(1, |w|) * max|x| ~ 1e-5 * 1 * 5 = 5e-5 (perturbing a first-layer weight or input),
/// so keeping every kinked-activation input at |x| >= 1e-3 keeps all steps on one side.
constexpr double kKinkMargin = 1e-3;

/// Input<In> -> Dense<Hidden> -> Act -> Dense<Out>, where Act may have a kink at 0: input
/// columns whose first-layer pre-activations come within kKinkMargin of 0 are redrawn, so
/// the finite differences never straddle the kink.
template <std::size_t In, std::size_t Hidden, class Act, std::size_t Out>
Result check_dense_act_dense(std::size_t batch, std::uint64_t seed, const Options& o = {}) {
  using Net = Sequential<Input<In>, Dense<Hidden>, Act, Dense<Out>>;
  Network<Net, double> net(seed);
  // The first layer alone, with the same parameters, gives the pre-activations.
  Network<Sequential<Input<In>, Dense<Hidden>>, double> first(0);
  std::copy_n(net.parameters().begin(), first.parameters().size(), first.parameters().begin());
  Columns<double, In> x = normal_batch<In>(batch, seed + 1000);
  Rng redraw(seed + 2000);
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    for (int attempt = 0;; ++attempt) {
      REQUIRE(attempt < 1000);
      const auto z = first.forward(x.col(j).data(), 1);
      if (z.cwiseAbs().minCoeff() >= kKinkMargin) break;
      for (Eigen::Index i = 0; i < x.rows(); ++i) x(i, j) = redraw.normal();
    }
  }
  const LinearFunctional<Out> f(batch, seed * 7919 + 1);
  return check_network(net, x, f, o);
}

/// An activation applied directly to the input (no parameters): input gradient only.
template <class Act, std::size_t... Dims>
Result check_activation_alone(std::size_t batch, std::uint64_t seed, bool kinked, double scale = 1.0) {
  using Net = Sequential<Input<Dims...>, Act>;
  constexpr std::size_t n = Net::InputShape::size;
  Columns<double, n> x = kinked ? normal_batch_away_from_zero<n>(batch, seed + 1000, kKinkMargin)
                                : normal_batch<n>(batch, seed + 1000, scale);
  if (kinked) x *= scale;
  return check_linear<Net>(x, seed);
}

}  // namespace

// ---- Checker self-tests -------------------------------------------------------------------

TEST_CASE("gradcheck: the checker rejects a gradient that is wrong by 1e-4 relative", "[gradcheck][checker]") {
  using Net = Sequential<Input<4>, Dense<3>, Tanh, Dense<2>>;
  Network<Net, double> net(3);
  const auto x = normal_batch<4>(5, 4);
  const LinearFunctional<2> f(5, 5);
  // Correct objective passes.
  REQUIRE(check_network(net, x, f).passed());
  // Every gradient scaled by (1 + 1e-4): norm_rel ~ 1e-4, must fail.
  auto scaled = [&](const auto& out, double* g) {
    const double v = f(out, g);
    if (g != nullptr)
      for (Eigen::Index i = 0; i < out.size(); ++i) g[i] *= 1.0 + 1e-4;
    return v;
  };
  const Result bad = check_network(net, x, scaled);
  CHECK_FALSE(bad.passed());
  CHECK(bad.worst_norm_rel() == Approx(1e-4).epsilon(1e-3));
  // One output-gradient coordinate off by 1e-3 relative: caught element-wise.
  auto one_off = [&](const auto& out, double* g) {
    const double v = f(out, g);
    if (g != nullptr) g[3] *= 1.0 + 1e-3;
    return v;
  };
  CHECK_FALSE(check_network(net, x, one_off).passed());
}

TEST_CASE("gradcheck: checks leave the parameters unchanged and agree for h = 1e-5 and 1e-6",
          "[gradcheck][checker]") {
  using Net = Sequential<Input<6>, Dense<5>, Sigmoid, Dense<4>, Softmax, Dense<3>>;
  Network<Net, double> net(11);
  const std::vector<double> before(net.parameters().begin(), net.parameters().end());
  const auto x = normal_batch<6>(4, 12);
  const LinearFunctional<3> f(4, 13);
  for (const double h : {1e-5, 1e-6}) {
    Options o;
    o.h = h;
    INFO("h = " << h);
    REQUIRE_GRADCHECK("checker (h=1e-5, 1e-6)", check_network(net, x, f, o));
  }
  REQUIRE(std::equal(before.begin(), before.end(), net.parameters().begin()));
}

// ---- Dense ----------------------------------------------------------------------------------

TEST_CASE("gradcheck: Dense weight, bias and input gradients on several shapes and batches",
          "[gradcheck][dense]") {
  for (const std::size_t batch : {1, 3, 8}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("dense", (check_linear<Sequential<Input<1>, Dense<1>>>(batch, 1)));
    REQUIRE_GRADCHECK("dense", (check_linear<Sequential<Input<3>, Dense<7>>>(batch, 2)));
    REQUIRE_GRADCHECK("dense", (check_linear<Sequential<Input<7>, Dense<1>>>(batch, 3)));
    REQUIRE_GRADCHECK("dense", (check_linear<Sequential<Input<13>, Dense<5>>>(batch, 4)));
    REQUIRE_GRADCHECK("dense", (check_linear<Sequential<Input<2>, Dense<3>, Dense<4>>>(batch, 5)));
  }
}

TEST_CASE("gradcheck: Dense on both CPU kernels (large weights, large batches)", "[gradcheck][dense]") {
  // backend/cpu.hpp uses per-column products for small weight matrices and small batches and
  // Eigen's blocked GEMM otherwise (currently Out * In > 512 or batch > 32): cover both sides
  // of both thresholds.
  for (const std::size_t batch : {1, 6, 40, 70}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("dense", (check_linear<Sequential<Input<13>, Dense<40>>>(batch, 21)));
    REQUIRE_GRADCHECK("dense", (check_linear<Sequential<Input<33>, Dense<16>, Dense<3>>>(batch, 22)));
    REQUIRE_GRADCHECK("dense", (check_linear<Sequential<Input<3>, Dense<7>, Dense<2>>>(batch, 23)));
  }
}

TEST_CASE("gradcheck: Dense with inputs and parameters at larger scales", "[gradcheck][dense]") {
  // Relative steps h * max(1, |v|) keep the differences accurate when values are O(10).
  using Net = Sequential<Input<5>, Dense<4>>;
  Network<Net, double> net(31);
  for (auto& p : net.parameters()) p *= 25.0;
  const auto x = normal_batch<5>(3, 32, 10.0);
  const LinearFunctional<4> f(3, 33);
  REQUIRE_GRADCHECK("dense", check_network(net, x, f));
}

// ---- ReLU / LeakyReLU (inputs kept away from the kink, see kKinkMargin) ---------------------

TEST_CASE("gradcheck: ReLU input gradients away from the kink", "[gradcheck][relu]") {
  for (const std::size_t batch : {1, 5}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("relu", (check_activation_alone<ReLU, 1>(batch, 41, true)));
    REQUIRE_GRADCHECK("relu", (check_activation_alone<ReLU, 7>(batch, 42, true)));
    REQUIRE_GRADCHECK("relu", (check_activation_alone<ReLU, 13>(batch, 43, true, 3.0)));
  }
}

TEST_CASE("gradcheck: Dense -> ReLU -> Dense, pre-activations away from the kink", "[gradcheck][relu]") {
  for (const std::size_t batch : {1, 4, 9, 40}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("relu", (check_dense_act_dense<5, 7, ReLU, 3>(batch, 44)));
    REQUIRE_GRADCHECK("relu", (check_dense_act_dense<13, 16, ReLU, 1>(batch, 45)));
  }
}

TEST_CASE("gradcheck: LeakyReLU (default slope 0.01) away from the kink", "[gradcheck][leaky_relu]") {
  for (const std::size_t batch : {1, 6}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("leaky_relu", (check_activation_alone<LeakyReLU, 1>(batch, 51, true)));
    REQUIRE_GRADCHECK("leaky_relu", (check_activation_alone<LeakyReLU, 13>(batch, 52, true)));
    REQUIRE_GRADCHECK("leaky_relu", (check_dense_act_dense<5, 7, LeakyReLU, 3>(batch, 53)));
    REQUIRE_GRADCHECK("leaky_relu", (check_dense_act_dense<3, 12, LeakyReLU, 2>(batch, 54)));
  }
}

TEST_CASE("gradcheck: LeakyReLUWith<0.2> away from the kink", "[gradcheck][leaky_relu]") {
  for (const std::size_t batch : {1, 6}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("leaky_relu", (check_activation_alone<LeakyReLUWith<0.2>, 7>(batch, 61, true)));
    REQUIRE_GRADCHECK("leaky_relu", (check_activation_alone<LeakyReLUWith<0.2>, 13>(batch, 62, true, 2.0)));
    REQUIRE_GRADCHECK("leaky_relu", (check_dense_act_dense<5, 7, LeakyReLUWith<0.2>, 3>(batch, 63)));
    REQUIRE_GRADCHECK("leaky_relu", (check_dense_act_dense<4, 9, LeakyReLUWith<0.2>, 1>(batch, 64)));
  }
}

// ---- Sigmoid / Tanh --------------------------------------------------------------------------

TEST_CASE("gradcheck: Sigmoid input and parameter gradients", "[gradcheck][sigmoid]") {
  for (const std::size_t batch : {1, 5}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("sigmoid", (check_activation_alone<Sigmoid, 1>(batch, 71, false)));
    REQUIRE_GRADCHECK("sigmoid", (check_activation_alone<Sigmoid, 7>(batch, 72, false, 3.0)));
    REQUIRE_GRADCHECK("sigmoid", (check_activation_alone<Sigmoid, 13>(batch, 73, false)));
    REQUIRE_GRADCHECK("sigmoid", (check_linear<Sequential<Input<5>, Dense<7>, Sigmoid, Dense<3>>>(batch, 74)));
    REQUIRE_GRADCHECK("sigmoid", (check_linear<Sequential<Input<13>, Dense<1>, Sigmoid>>(batch, 75)));
  }
}

TEST_CASE("gradcheck: Tanh input and parameter gradients", "[gradcheck][tanh]") {
  for (const std::size_t batch : {1, 5}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("tanh", (check_activation_alone<Tanh, 1>(batch, 81, false)));
    REQUIRE_GRADCHECK("tanh", (check_activation_alone<Tanh, 7>(batch, 82, false, 2.0)));
    REQUIRE_GRADCHECK("tanh", (check_activation_alone<Tanh, 13>(batch, 83, false)));
    REQUIRE_GRADCHECK("tanh", (check_linear<Sequential<Input<5>, Dense<7>, Tanh, Dense<3>>>(batch, 84)));
    REQUIRE_GRADCHECK("tanh", (check_linear<Sequential<Input<2>, Dense<9>, Tanh, Dense<9>, Tanh>>(batch, 85)));
  }
}

// ---- Softmax ---------------------------------------------------------------------------------

TEST_CASE("gradcheck: Softmax input gradients", "[gradcheck][softmax]") {
  for (const std::size_t batch : {1, 5}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("softmax", (check_activation_alone<Softmax, 2>(batch, 91, false)));
    REQUIRE_GRADCHECK("softmax", (check_activation_alone<Softmax, 7>(batch, 92, false)));
    REQUIRE_GRADCHECK("softmax", (check_activation_alone<Softmax, 13>(batch, 93, false, 4.0)));
  }
}

TEST_CASE("gradcheck: Softmax between Dense layers and as the last layer", "[gradcheck][softmax]") {
  for (const std::size_t batch : {1, 6}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("softmax", (check_linear<Sequential<Input<5>, Dense<7>, Softmax, Dense<3>>>(batch, 94)));
    REQUIRE_GRADCHECK("softmax", (check_linear<Sequential<Input<4>, Dense<10>, Softmax>>(batch, 95)));
  }
}

TEST_CASE("gradcheck: Softmax gradients sum to zero over the features of each sample", "[gradcheck][softmax]") {
  // softmax outputs sum to 1, so d f / d x is orthogonal to the all-ones vector per sample.
  using Net = Sequential<Input<9>, Softmax>;
  Network<Net, double> net(0);
  const auto x = normal_batch<9>(6, 96, 3.0);
  const LinearFunctional<9> f(6, 97);
  const auto out = net.forward(x.data(), 6);
  f(out, net.output_gradient().data());
  const Columns<double, 9> y = out;
  const Columns<double, 9> dy = net.output_gradient();
  Columns<double, 9> dx(9, 6);
  net.backward(dx.data());
  // sum_i dx_i = sum_i y_i dy_i - (y . dy) sum_i y_i is zero up to the round-off of the two
  // dot products, bounded by ~ 2 n eps sum_i |y_i dy_i| (n = 9 features).
  for (Eigen::Index j = 0; j < 6; ++j) {
    const double s = dx.col(j).sum();
    const double scale = y.col(j).cwiseAbs().cwiseProduct(dy.col(j).cwiseAbs()).sum();
    record("softmax (row sums)", std::abs(s) / scale);
    CHECK(std::abs(s) <= 2 * 9 * DBL_EPSILON * scale);
  }
}

// ---- Flatten ---------------------------------------------------------------------------------

TEST_CASE("gradcheck: Flatten of image-like inputs before Dense", "[gradcheck][flatten]") {
  for (const std::size_t batch : {1, 4}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("flatten", (check_linear<Sequential<Input<2, 3, 2>, Flatten, Dense<4>>>(batch, 101)));
    REQUIRE_GRADCHECK("flatten", (check_linear<Sequential<Input<3, 1, 5>, Flatten, Dense<1>>>(batch, 102)));
    REQUIRE_GRADCHECK("flatten",
                      (check_linear<Sequential<Input<2, 3, 2>, Tanh, Flatten, Dense<5>, Sigmoid, Flatten, Dense<2>>>(
                          batch, 103)));
  }
}

TEST_CASE("gradcheck: ReLU on a rank-3 input, then Flatten and Dense", "[gradcheck][flatten][relu]") {
  // The inputs feed ReLU directly, so they are drawn with |x| >= kKinkMargin.
  using Net = Sequential<Input<2, 3, 2>, ReLU, Flatten, Dense<3>>;
  for (const std::size_t batch : {1, 5}) {
    INFO("batch " << batch);
    const auto x = normal_batch_away_from_zero<12>(batch, 104, kKinkMargin);
    REQUIRE_GRADCHECK("flatten", check_linear<Net>(x, 105));
  }
}

// ---- A deeper mixed stack ---------------------------------------------------------------------

TEST_CASE("gradcheck: a deeper stack mixing every smooth layer", "[gradcheck][stack]") {
  using Net = Sequential<Input<2, 2, 2>, Flatten, Dense<9>, Tanh, Dense<6>, Sigmoid, Dense<7>, Softmax, Dense<4>, Tanh,
                         Dense<3>>;
  for (const std::size_t batch : {1, 3, 10, 36}) {
    INFO("batch " << batch);
    REQUIRE_GRADCHECK("stack", check_linear<Net>(batch, 111));
  }
}
