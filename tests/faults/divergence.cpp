// Divergence: a NaN or an infinity in the loss, the gradients or the parameters stops the fit
// at the step where it appeared, says which it was (FitResult::diverged_reason), and leaves
// the process running; a sweep marks the trial diverged, with its reason, and goes on.
//
// The faults are injected: a NaN in the data (the loss), a loss whose gradient turns NaN at
// a chosen step while its value stays finite (the gradients), and an update that overflows
// float (the parameters). A sweep trial diverging on its loss is tested in
// tests/unit/experiment/sweep.cpp ("A diverging trial is recorded with its step").
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <strata/experiment.hpp>

#include <cmath>
#include <limits>
#include <sstream>

using namespace strata;
using strata::testing::TempDir;
namespace hana = boost::hana;

namespace {

/// MSE whose gradient gets a NaN at its `at`-th training step (1-based) while the loss stays
/// finite, as a backward pass less stable than its forward pass gives.
struct NanGradientMSE {
  std::size_t at = 5;
  mutable std::size_t calls = 0;

  static constexpr const char* name = "nan_gradient_mse";
  template <class Out>
  struct For {
    using TargetShape = Out;
  };
  void validate() const {}
  std::string describe() const { return "NanGradientMSE(at=" + std::to_string(at) + ")"; }
  template <class O, class Y, class T = typename O::Scalar>
  double value_and_gradient(const O& out, const Y& target, T* grad) const {
    const double v = loss::MSE{}.value_and_gradient(out, target, grad);
    if (grad != nullptr && ++calls == at) grad[0] = std::numeric_limits<T>::quiet_NaN();
    return v;
  }
};

using Net = models::Mlp<2, 1, 8, Tanh, 1>;
using Data = Dataset<Shape<2>, Shape<1>>;

Data data40() { return data::spirals(20, 2, 0.05, 1); }  // 40 samples: 5 steps per epoch at batch 8

template <class M>
bool parameters_finite(const M& m) {
  const auto p = m.network().parameters();
  return std::all_of(p.begin(), p.end(), [](float v) { return std::isfinite(v); });
}
template <class M>
std::vector<float> params_of(const M& m) {
  const auto p = m.network().parameters();
  return {p.begin(), p.end()};
}

const FitOptions quiet{.epochs = 3, .batch_size = 8, .shuffle = false, .progress = Progress::none};

}  // namespace

TEST_CASE("A NaN gradient under a finite loss stops fit at its step, reason \"gradient\"", "[faults][divergence]") {
  using M = Model<Net, NanGradientMSE, optim::SGD>;
  const auto d = data40();
  M model({.optimizer = {.lr = 0.1}, .loss = {.at = 8}, .seed = 2});

  SECTION("without early stopping, the parameters are left non-finite, and the message says so") {
    const auto r = fit(model, d, quiet);
    REQUIRE(r.diverged());
    CHECK(r.diverged_reason == "gradient");
    CHECK(r.diverged_step == 8);
    CHECK(r.diverged_epoch == 2);
    CHECK(r.history.size() == 1);
    CHECK_THAT(r.message, Catch::Contains("the gradients are not finite at step 8 (epoch 2)") &&
                              Catch::Contains("the parameters are not finite"));
    CHECK(!parameters_finite(model));
  }
  SECTION("with early stopping, the best epoch's parameters are put back, even when it is the last epoch done") {
    auto options = quiet;
    options.early_stopping = {.patience = 5, .monitor = Monitor::train_loss};
    const auto r = fit(model, d, options);
    REQUIRE(r.diverged());
    CHECK(r.diverged_reason == "gradient");
    CHECK(r.best_epoch == 1);
    CHECK_THAT(r.message, Catch::Contains("the parameters of the best epoch (1) are restored"));
    M one_epoch({.optimizer = {.lr = 0.1}, .loss = {.at = 8}, .seed = 2});
    auto o1 = quiet;
    o1.epochs = 1;
    REQUIRE(!fit(one_epoch, d, o1).diverged());
    CHECK(params_of(model) == params_of(one_epoch));
  }
}

TEST_CASE("An update that overflows float stops fit at that step, reason \"parameter\"", "[faults][divergence]") {
  auto d = data40();
  d.y *= 1000.0f;  // gradients of about 1e3, times lr 1e38: past float's 3.4e38
  Model<Net, loss::MSE, optim::SGD> model({.optimizer = {.lr = 1e38}, .seed = 2});
  const auto r = fit(model, d, quiet);
  REQUIRE(r.diverged());
  CHECK(r.diverged_reason == "parameter");
  CHECK(r.diverged_step == 1);  // found at the step that overflowed, not at the next loss
  CHECK_THAT(r.message, Catch::Contains("the update at step 1 (epoch 1) made the parameters non-finite") &&
                            Catch::Contains("gradients finite"));
  const auto g = model.network().gradients();
  CHECK(std::all_of(g.begin(), g.end(), [](float v) { return std::isfinite(v); }));
}

TEST_CASE("A NaN in the data stops fit at the step that reads it, reason \"loss\", parameters before it",
          "[faults][divergence]") {
  auto d = data40();
  d.x(0, 13) = std::numeric_limits<float>::quiet_NaN();  // sample 13: the second batch of 8
  Model<Net, loss::MSE, optim::SGD> model({.optimizer = {.lr = 0.1}, .seed = 2});
  const auto r = fit(model, d, quiet);
  REQUIRE(r.diverged());
  CHECK(r.diverged_reason == "loss");
  CHECK(r.diverged_step == 2);
  CHECK(model.steps() == 1);  // the step was not taken
  CHECK(parameters_finite(model));
  CHECK_THAT(r.message, Catch::Contains("nan at step 2") &&
                            Catch::Contains("parameters are those before that step"));
}

TEST_CASE("A validation loss that is not finite stops fit after the epoch, reason \"val_loss\"",
          "[faults][divergence]") {
  const auto d = data40();
  auto val = d;
  val.x(1, 3) = std::numeric_limits<float>::quiet_NaN();
  Model<Net, loss::MSE, optim::SGD> model({.optimizer = {.lr = 0.1}, .seed = 2});
  const auto r = fit(model, d, val, quiet);
  REQUIRE(r.diverged());
  CHECK(r.diverged_reason == "val_loss");
  CHECK(r.diverged_epoch == 1);
  CHECK(r.diverged_step == 5);
  CHECK(r.history.size() == 1);
}

TEST_CASE("A sweep records a trial whose gradients turned NaN as diverged, with its reason, and goes on",
          "[faults][divergence][sweep]") {
  TempDir dir;
  const auto d = data40();
  std::ostringstream log;
  const experiment::SweepOptions o{.journal = dir / "sweep.jsonl", .workers = 1, .log = &log};
  const auto trials = experiment::run(hana::tuple_t<Net>, hana::tuple_t<NanGradientMSE, loss::MSE>,
                                      experiment::grid({.optimizer = {"sgd"}, .lr = {0.05}, .batch_size = {8}, .epochs = {3}}), d, d, o);
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].status == experiment::TrialStatus::diverged);
  CHECK(trials[0].diverged_reason == "gradient");
  CHECK(trials[0].diverged_step == 5);  // NanGradientMSE's default: the fifth step
  CHECK(trials[1].status == experiment::TrialStatus::completed);
  CHECK(trials[1].diverged_reason.empty());
  CHECK_THAT(log.str(), Catch::Contains("diverged at step 5 (gradient not finite)"));
  // The reason survives the journal.
  experiment::Journal j(dir / "sweep.jsonl");
  const auto records = j.load();
  REQUIRE(records.size() == 2);
  for (const auto& r : records) {
    INFO(r.key);
    CHECK(r.diverged_reason == (r.status == experiment::TrialStatus::diverged ? "gradient" : ""));
  }
}
