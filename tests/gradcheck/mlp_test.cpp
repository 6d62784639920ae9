// Whole-network finite-difference checks of a small MLP trained with a loss, along the
// path Model::train_step takes: network forward, loss value_and_gradient written into
// output_gradient(), backward. The same gradients are then read back from a real Model
// after train_step.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "gradcheck/gradcheck.hpp"

using namespace strata;
using namespace strata::gradcheck;

namespace {

using Mlp = Sequential<Input<5>, Dense<8>, Tanh, Dense<6>, Sigmoid, Dense<4>>;

template <class LossT>
using MlpModel = Model<Mlp, LossT, optim::SGD, schedule::Constant, backend::Cpu, double>;

/// Checks d loss / d (parameters, input) of the MLP by central differences, then runs one
/// Model::train_step on the same parameters and batch and checks that the model computed the
/// same loss and gradients.
template <class LossT, class Y>
void check_mlp(const LossT& loss, const Columns<double, 5>& x, const Y& y, std::uint64_t seed,
               const std::string& group) {
  constexpr auto TargetRows = static_cast<std::size_t>(Y::RowsAtCompileTime);
  static_assert(TargetRows == MlpModel<LossT>::TargetShape::size);
  Network<Mlp, double> net(seed);
  const Result r = check_network(net, x, LossObjective<LossT, TargetRows>(loss, y));
  INFO(r.describe());
  record(group, r);
  REQUIRE(r.passed());

  MlpModel<LossT> model({.optimizer = {.lr = 0.05}, .loss = loss, .seed = seed});
  REQUIRE(std::equal(net.parameters().begin(), net.parameters().end(), model.network().parameters().begin()));
  const StepResult step = model.train_step(x, y);
  REQUIRE(step.finite);
  CHECK(step.loss == r.value);  // same arithmetic, same order
  const auto g = model.network().gradients();
  for (const auto& s : Mlp::segments) {
    double d2 = 0, a2 = 0, n2 = 0;
    for (std::size_t i = s.offset; i < s.offset + s.size; ++i) {
      CHECK(g[i] == r.analytic[i]);
      d2 += (g[i] - r.numeric[i]) * (g[i] - r.numeric[i]);
      a2 += g[i] * g[i];
      n2 += r.numeric[i] * r.numeric[i];
    }
    const double rel = std::sqrt(d2) / std::max({std::sqrt(a2), std::sqrt(n2), 1e-300});
    INFO("Model gradient " << s.name());
    record(group + " (via Model)", rel);
    CHECK(rel <= kTolerance);
  }
}

}  // namespace

TEST_CASE("gradcheck: MLP (Dense, Tanh, Sigmoid) with CrossEntropy, through forward/loss/backward and Model",
          "[gradcheck][mlp][cross_entropy]") {
  for (const double smoothing : {0.0, 0.1}) {
    for (const std::size_t batch : {1, 7, 32, 48}) {
      INFO("label_smoothing " << smoothing << ", batch " << batch);
      const auto x = normal_batch<5>(batch, 100 + batch);
      const auto y = class_targets(4, batch, 200 + batch);
      check_mlp(loss::CrossEntropy{.label_smoothing = smoothing}, x, y, 3, "mlp: CrossEntropy");
    }
  }
}

TEST_CASE("gradcheck: MLP (Dense, Tanh, Sigmoid) with GaussianNLL, through forward/loss/backward and Model",
          "[gradcheck][mlp][gaussian_nll]") {
  // Output: 2 means then 2 log-variances. The initial log-variances are O(1), so exp(.) is far
  // above eps = 1e-6 (the clamp region is tested in losses_test.cpp).
  for (const bool full : {false, true}) {
    for (const std::size_t batch : {1, 7, 32, 48}) {
      INFO("full " << full << ", batch " << batch);
      const auto x = normal_batch<5>(batch, 300 + batch);
      const auto y = normal_batch<2>(batch, 400 + batch);
      check_mlp(loss::GaussianNLL{.eps = 1e-6, .full = full}, x, y, 5, "mlp: GaussianNLL");
    }
  }
}

TEST_CASE("gradcheck: MLP with the other losses (MSE, SoftCrossEntropy, BCEWithLogits)", "[gradcheck][mlp]") {
  const std::size_t batch = 6;
  const auto x = normal_batch<5>(batch, 500);
  check_mlp(loss::MSE{}, x, normal_batch<4>(batch, 501), 7, "mlp: other losses");
  check_mlp(loss::SoftCrossEntropy{.label_smoothing = 0.1}, x, probability_targets<4>(batch, 502), 7,
            "mlp: other losses");
  Columns<double, 4> y01(4, batch);
  Rng rng(503);
  for (Eigen::Index i = 0; i < y01.size(); ++i) y01.data()[i] = static_cast<double>(rng.below(2));
  check_mlp(loss::BCEWithLogits{}, x, y01, 7, "mlp: other losses");
}

TEST_CASE("gradcheck: MLP gradients after training steps (parameters away from initialisation)", "[gradcheck][mlp]") {
  // A few SGD steps move the parameters off PyTorch's initial distribution; the backward
  // pass must stay exact there too.
  const std::size_t batch = 8;
  const auto x = normal_batch<5>(batch, 600);
  const auto y = class_targets(4, batch, 601);
  MlpModel<loss::CrossEntropy> model({.optimizer = {.lr = 0.5, .momentum = 0.9}, .seed = 9});
  for (int i = 0; i < 20; ++i) REQUIRE(model.train_step(x, y).finite);
  Network<Mlp, double> net(0);
  std::copy(model.network().parameters().begin(), model.network().parameters().end(), net.parameters().begin());
  const Result r = check_network(net, x, LossObjective<loss::CrossEntropy, 1>(loss::CrossEntropy{}, y));
  INFO(r.describe());
  record("mlp: CrossEntropy (trained)", r);
  REQUIRE(r.passed());
}
