// Numeric invariances of the forward (and backward) pass:
//   - in eval mode a batch of N gives the same outputs as N batches of 1 (double and float);
//   - float and double networks initialised from the same seed agree to float precision;
//   - the same seed gives bit-identical parameters and outputs;
//   - the parameter gradient of a batch is the sum of the per-sample gradients.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "gradcheck/gradcheck.hpp"

using namespace strata;
using namespace strata::gradcheck;

namespace {

// The CPU backend (backend/cpu.hpp) picks a per-column product kernel or Eigen's blocked GEMM
// from the weight size and the batch size, so a batch of N and a batch of 1 may go through
// different kernels with different summation orders.
// Small weight matrices (per-column kernel for small batches, GEMM for large ones).
using SmallNet = Sequential<Input<5>, Dense<8>, Tanh, Dense<6>, Sigmoid, Dense<4>>;
// Large weight matrices (Out * In > 512 for every Dense): GEMM for a batch, GEMV for one sample.
using GemmNet = Sequential<Input<13>, Dense<40>, ReLU, Dense<48>, Tanh, Dense<16>, Softmax>;
using ImageNet = Sequential<Input<2, 3, 4>, Flatten, Dense<50>, LeakyReLUWith<0.2>, Dense<3>>;

/// Largest fan-in in a net, for the float error bounds below.
template <class Net>
constexpr std::size_t max_fan_in() {
  std::size_t m = 0;
  for (const auto& s : Net::segments) m = std::max(m, s.fan_in);
  return m;
}

/// Eval-mode outputs of a batch of N, of N batches of 1, and of an uneven split, compared
/// element-wise: |a - b| <= tol * max(1, |a|). Returns the largest |a - b| / max(1, |a|).
template <class Net, class T>
double batch_vs_single(std::uint64_t seed, std::size_t n, double tol) {
  Network<Net, T> net(seed);
  net.set_mode(Mode::eval);
  const Columns<T, Net::InputShape::size> x = normal_batch<Net::InputShape::size>(n, seed + 1).template cast<T>();
  const Columns<T, Net::OutputShape::size> whole = net.forward(x.data(), n);
  double worst = 0;
  auto compare = [&](const auto& part, std::size_t first) {
    for (Eigen::Index j = 0; j < part.cols(); ++j)
      for (Eigen::Index i = 0; i < part.rows(); ++i) {
        const double a = whole(i, static_cast<Eigen::Index>(first) + j), b = part(i, j);
        const double d = std::abs(a - b) / std::max(1.0, std::abs(a));
        worst = std::max(worst, d);
        if (!(d <= tol)) {
          INFO("sample " << first + static_cast<std::size_t>(j) << ", output " << i << ": batch " << a << " vs "
                         << b);
          CHECK(d <= tol);
        }
      }
  };
  for (std::size_t j = 0; j < n; ++j) {
    const Columns<T, Net::OutputShape::size> one = net.forward(x.col(static_cast<Eigen::Index>(j)).data(), 1);
    compare(one, j);
  }
  const std::size_t split = std::max<std::size_t>(1, n / 3);  // n >= 2
  const Columns<T, Net::OutputShape::size> head = net.forward(x.data(), split);
  compare(head, 0);
  const Columns<T, Net::OutputShape::size> tail = net.forward(x.data() + split * Net::InputShape::size, n - split);
  compare(tail, split);
  return worst;
}

}  // namespace

TEST_CASE("invariance: in eval mode a batch of N equals N batches of 1 (double, 1e-12)", "[gradcheck][invariance]") {
  constexpr double tol = 1e-12;
  for (const std::size_t n : {2, 17, 64, 100}) {
    INFO("N = " << n);
    record("invariance: batch vs single (double)", batch_vs_single<SmallNet, double>(1, n, tol));
    record("invariance: batch vs single (double)", batch_vs_single<GemmNet, double>(2, n, tol));
    record("invariance: batch vs single (double)", batch_vs_single<ImageNet, double>(3, n, tol));
  }
}

TEST_CASE("invariance: in eval mode a batch of N equals N batches of 1 (float)", "[gradcheck][invariance]") {
  // The kernels compute each output column independently of the others; only the order of
  // the additions inside a dot product may change with the batch size (blocked GEMM for a
  // batch, GEMV or per-column products for one sample). Re-ordering a float dot product of
  // length n changes it by at most ~ 2 (n - 1) u sum_i |w_i x_i| (u = 2^-24, Higham 3.1);
  // with |w| <= 1 / sqrt(n) (PyTorch's init) and O(1) activations sum |w x| is O(sqrt n), and
  // the activations here are 1-Lipschitz. A per-layer allowance of n u for fan-in n summed
  // over the Dense layers gives the tolerance below (relative to max(1, |y|)): ~ 1e-5 for
  // GemmNet, while any real batch dependence (a wrong column, a stale buffer) gives O(1).
  // Observed: at most 2 ulp (2.4e-7 relative to max(1, |y|)).
  constexpr double u = FLT_EPSILON / 2;
  for (const std::size_t n : {2, 17, 64, 100}) {
    INFO("N = " << n);
    record("invariance: batch vs single (float)",
           batch_vs_single<SmallNet, float>(1, n, 3 * max_fan_in<SmallNet>() * u));
    record("invariance: batch vs single (float)", batch_vs_single<GemmNet, float>(2, n, 3 * max_fan_in<GemmNet>() * u));
    record("invariance: batch vs single (float)",
           batch_vs_single<ImageNet, float>(3, n, 2 * max_fan_in<ImageNet>() * u));
  }
}

namespace {
/// float and double networks from the same seed: the float parameters are the double ones
/// rounded (both are drawn in double, then cast), and the outputs agree to float precision.
template <class Net>
double float_vs_double(std::uint64_t seed, std::size_t n) {
  Network<Net, double> nd(seed);
  Network<Net, float> nf(seed);
  const auto pd = nd.parameters();
  const auto pf = nf.parameters();
  REQUIRE(pd.size() == pf.size());
  for (std::size_t i = 0; i < pd.size(); ++i) REQUIRE(pf[i] == static_cast<float>(pd[i]));

  const auto xd = normal_batch<Net::InputShape::size>(n, seed + 1);
  const Columns<float, Net::InputShape::size> xf = xd.template cast<float>();
  const Columns<double, Net::OutputShape::size> yd = nd.forward(xd.data(), n);
  const Columns<float, Net::OutputShape::size> yf = nf.forward(xf.data(), n);
  // Error of a float forward pass relative to double: rounding of the inputs and parameters
  // (u each) plus accumulation in dot products of fan-in n (<= n u sum|w x|, Higham 3.1),
  // through 1-Lipschitz activations; ~ (n + 2) u per Dense layer, summed over the layers.
  constexpr double u = FLT_EPSILON / 2;
  const double tol = 3 * (static_cast<double>(max_fan_in<Net>()) + 2) * u;
  double worst = 0;
  for (Eigen::Index i = 0; i < yd.size(); ++i) {
    const double d = std::abs(yd.data()[i] - static_cast<double>(yf.data()[i])) / std::max(1.0, std::abs(yd.data()[i]));
    worst = std::max(worst, d);
  }
  INFO("tolerance " << tol);
  CHECK(worst <= tol);
  return worst;
}
}  // namespace

TEST_CASE("invariance: float and double networks from the same seed agree to float precision",
          "[gradcheck][invariance]") {
  record("invariance: float vs double", float_vs_double<SmallNet>(21, 16));
  record("invariance: float vs double", float_vs_double<GemmNet>(22, 16));
  record("invariance: float vs double", float_vs_double<ImageNet>(23, 16));
}

namespace {
template <class Net, class T>
void same_seed_bit_identical(std::uint64_t seed) {
  Network<Net, T> a(seed), b(seed);
  REQUIRE(std::memcmp(a.parameters().data(), b.parameters().data(), a.parameters().size_bytes()) == 0);
  // Re-initialising to another seed and back reproduces the same bits.
  Network<Net, T> c(seed + 1);
  CHECK(std::memcmp(a.parameters().data(), c.parameters().data(), a.parameters().size_bytes()) != 0);
  c.initialize(seed);
  CHECK(std::memcmp(a.parameters().data(), c.parameters().data(), a.parameters().size_bytes()) == 0);

  const Columns<T, Net::InputShape::size> x = normal_batch<Net::InputShape::size>(10, seed + 2).template cast<T>();
  const Columns<T, Net::OutputShape::size> ya = a.forward(x.data(), 10);
  const Columns<T, Net::OutputShape::size> yb = b.forward(x.data(), 10);
  const Columns<T, Net::OutputShape::size> yc = c.forward(x.data(), 10);
  CHECK(std::memcmp(ya.data(), yb.data(), sizeof(T) * static_cast<std::size_t>(ya.size())) == 0);
  CHECK(std::memcmp(ya.data(), yc.data(), sizeof(T) * static_cast<std::size_t>(ya.size())) == 0);

  // Gradients too: a backward pass is a deterministic function of the same bits.
  const Columns<T, Net::OutputShape::size> c0 = normal_batch<Net::OutputShape::size>(10, seed + 3).template cast<T>();
  for (auto* net : {&a, &b}) {
    net->forward(x.data(), 10);
    net->output_gradient() = c0;
    net->backward();
  }
  CHECK(std::memcmp(a.gradients().data(), b.gradients().data(), a.gradients().size_bytes()) == 0);
}
}  // namespace

TEST_CASE("invariance: the same seed gives bit-identical parameters, outputs and gradients",
          "[gradcheck][invariance]") {
  same_seed_bit_identical<SmallNet, double>(31);
  same_seed_bit_identical<GemmNet, double>(32);
  same_seed_bit_identical<ImageNet, double>(33);
  same_seed_bit_identical<SmallNet, float>(31);
  same_seed_bit_identical<GemmNet, float>(32);
  same_seed_bit_identical<ImageNet, float>(33);
}

TEST_CASE("invariance: outputs do not depend on the mode for mode-free layers", "[gradcheck][invariance]") {
  Network<GemmNet, double> net(41);
  const auto x = normal_batch<13>(7, 42);
  net.set_mode(Mode::train);
  const Columns<double, 16> yt = net.forward(x.data(), 7);
  net.set_mode(Mode::eval);
  const Columns<double, 16> ye = net.forward(x.data(), 7);
  CHECK(std::memcmp(yt.data(), ye.data(), sizeof(double) * static_cast<std::size_t>(yt.size())) == 0);
}

TEST_CASE("invariance: the gradient of a batch is the sum of the per-sample gradients (double)",
          "[gradcheck][invariance]") {
  // With objective f = sum_j c_j . y_j (no mean), d f / d theta over the batch equals the sum
  // over samples of the single-sample gradients, and each input gradient column equals the
  // single-sample input gradient.
  auto run = [](auto tag, std::uint64_t seed, std::size_t n) {
    using Net = typename decltype(tag)::type;
    constexpr std::size_t in = Net::InputShape::size, out = Net::OutputShape::size;
    Network<Net, double> net(seed);
    const auto x = normal_batch<in>(n, seed + 1);
    const auto c = normal_batch<out>(n, seed + 2);
    net.forward(x.data(), n);
    net.output_gradient() = c;
    Columns<double, in> dx(in, static_cast<Eigen::Index>(n));
    net.backward(dx.data());
    const std::vector<double> g_batch(net.gradients().begin(), net.gradients().end());
    std::vector<double> g_sum(g_batch.size(), 0.0);
    double dx_err = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const auto jj = static_cast<Eigen::Index>(j);
      net.forward(x.col(jj).data(), 1);
      net.output_gradient() = c.col(jj);
      Columns<double, in> dx1(in, 1);
      net.backward(dx1.data());
      for (std::size_t i = 0; i < g_sum.size(); ++i) g_sum[i] += net.gradients()[i];
      dx_err = std::max(dx_err, (dx1 - dx.col(jj)).norm() / std::max(dx.col(jj).norm(), 1e-300));
    }
    double d2 = 0, s2 = 0;
    for (std::size_t i = 0; i < g_sum.size(); ++i) {
      d2 += (g_batch[i] - g_sum[i]) * (g_batch[i] - g_sum[i]);
      s2 += g_sum[i] * g_sum[i];
    }
    const double rel = std::sqrt(d2 / s2);
    record("invariance: batch grad = sum of per-sample", std::max(rel, dx_err));
    CHECK(rel <= 1e-12);
    CHECK(dx_err <= 1e-12);
  };
  run(std::type_identity<SmallNet>{}, 51, 13);
  run(std::type_identity<GemmNet>{}, 52, 13);
  run(std::type_identity<ImageNet>{}, 53, 13);
}
