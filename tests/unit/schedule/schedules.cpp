#include <catch2/catch.hpp>
#include <strata/strata.hpp>

#include <cmath>
#include <numbers>

using namespace strata;

TEST_CASE("Schedules follow PyTorch's closed forms", "[unit][schedule]") {
  CHECK(schedule::Constant{}.lr(0.1, 1000) == 0.1);
  const schedule::Step step{.step_size = 3, .gamma = 0.5};
  CHECK(step.lr(1.0, 2) == 1.0);
  CHECK(step.lr(1.0, 3) == 0.5);
  CHECK(step.lr(1.0, 7) == 0.25);
  const schedule::MultiStep ms{.milestones = {2, 5}, .gamma = 0.1};
  CHECK(ms.lr(1.0, 1) == 1.0);
  CHECK(ms.lr(1.0, 2) == Approx(0.1));
  CHECK(ms.lr(1.0, 5) == Approx(0.01));
  CHECK(schedule::Exponential{.gamma = 0.9}.lr(2.0, 3) == Approx(2.0 * 0.729));
  const schedule::CosineAnnealing cos{.t_max = 10, .eta_min = 0.01};
  CHECK(cos.lr(0.1, 0) == Approx(0.1));
  CHECK(cos.lr(0.1, 5) == Approx(0.01 + 0.09 * 0.5));
  CHECK(cos.lr(0.1, 10) == Approx(0.01));
  CHECK(cos.lr(0.1, 3) == Approx(0.01 + 0.09 * (1 + std::cos(std::numbers::pi * 0.3)) / 2));
}

TEST_CASE("Warm-up ramps linearly into the wrapped schedule", "[unit][schedule]") {
  const schedule::Warmup<schedule::CosineAnnealing> w{
      .steps = 4, .start_factor = 0.25, .after = {.t_max = 8, .eta_min = 0.0}};
  CHECK(w.lr(1.0, 0) == Approx(0.25));
  CHECK(w.lr(1.0, 2) == Approx(0.625));
  CHECK(w.lr(1.0, 4) == Approx(1.0));
  CHECK(w.lr(1.0, 8) == Approx(0.5));
  CHECK(w.lr(1.0, 12) == Approx(0.0).margin(1e-12));
}

TEST_CASE("Schedules reject settings out of their domain", "[unit][schedule]") {
  CHECK_THROWS_AS((schedule::Step{.step_size = 0}.validate()), option_error);
  CHECK_THROWS_AS((schedule::MultiStep{.milestones = {5, 2}}.validate()), option_error);
  CHECK_THROWS_AS((schedule::Exponential{.gamma = -1}.validate()), option_error);
  CHECK_THROWS_AS((schedule::CosineAnnealing{.t_max = 0}.validate()), option_error);
  CHECK_THROWS_AS((schedule::Warmup<>{.start_factor = 0}.validate()), option_error);
}

TEST_CASE("A model steps its schedule per call of step_schedule", "[unit][schedule]") {
  using Net = Sequential<Input<2>, Dense<1>>;
  Model<Net, loss::MSE, optim::SGD, schedule::Step> m({.optimizer = {.lr = 0.1}, .schedule = {.step_size = 2, .gamma = 0.1}});
  CHECK(m.lr() == Approx(0.1));
  m.step_schedule();
  CHECK(m.lr() == Approx(0.1));
  m.step_schedule();
  CHECK(m.lr() == Approx(0.01));
}
