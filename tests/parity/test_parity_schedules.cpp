// c) Learning-rate schedules against torch.optim.lr_scheduler (reference/schedules.txt;
// see make_reference.py). The reference holds torch's own lr after t = 0..N-1 calls of
// scheduler.step() (its recursive update), and for CosineAnnealingLR also its
// _get_closed_form_lr(), which strata implements; the two differ by a few ulp only.
#include "parity/parity.hpp"

#include <cstddef>
#include <string>
#include <vector>

using namespace strata;

namespace {

constexpr double base_lr = 0.1;
constexpr double schedule_tolerance = 1e-12;

template <class S>
void check_schedule(const std::string& name, const S& s) {
  s.validate();
  const auto& ref = parity::Reference::get("schedules.txt");
  const auto torch_lrs = ref.doubles("sched/" + name + "/torch");
  std::vector<double> ours;
  for (std::size_t t = 0; t < torch_lrs.size(); ++t) ours.push_back(s.lr(base_lr, t));
  PARITY_CHECK_CLOSE("c) schedules vs torch (recursive)", name, ours, torch_lrs, schedule_tolerance);
  if (ref.has("sched/" + name + "/closed_form")) {
    PARITY_CHECK_CLOSE("c) schedules vs torch closed form", name + " (closed form)", ours,
                       ref.doubles("sched/" + name + "/closed_form"), schedule_tolerance);
  }
  // The same sequence through a Model: lr() after t calls of step_schedule().
  Model<Sequential<Input<1>, Dense<1>>, loss::MSE, optim::SGD, S> m({.optimizer = {.lr = base_lr}, .schedule = s});
  std::vector<double> via_model;
  for (std::size_t t = 0; t < torch_lrs.size(); ++t, m.step_schedule()) via_model.push_back(m.lr());
  PARITY_CHECK_CLOSE("c) schedules vs torch (recursive)", name + " via Model::lr()", via_model, torch_lrs,
                     schedule_tolerance);
}

}  // namespace

TEST_CASE("parity schedule: StepLR(step_size=3, gamma=0.5)", "[parity][schedule]") {
  check_schedule("step", schedule::Step{.step_size = 3, .gamma = 0.5});
}

TEST_CASE("parity schedule: MultiStepLR(milestones=[2, 5, 5, 9], gamma=0.3)", "[parity][schedule]") {
  check_schedule("multistep", schedule::MultiStep{.milestones = {2, 5, 5, 9}, .gamma = 0.3});
}

TEST_CASE("parity schedule: ExponentialLR(gamma=0.9)", "[parity][schedule]") {
  check_schedule("exponential", schedule::Exponential{.gamma = 0.9});
}

TEST_CASE("parity schedule: CosineAnnealingLR(T_max=10, eta_min=0.001), past T_max", "[parity][schedule]") {
  check_schedule("cosine", schedule::CosineAnnealing{.t_max = 10, .eta_min = 0.001});
}

TEST_CASE("parity schedule: CosineAnnealingLR(T_max=7), past T_max", "[parity][schedule]") {
  check_schedule("cosine_eta0", schedule::CosineAnnealing{.t_max = 7});
}

TEST_CASE("parity schedule: SequentialLR(LinearLR(0.25, 4), constant) = Warmup<Constant>", "[parity][schedule]") {
  check_schedule("warmup_constant", schedule::Warmup<schedule::Constant>{.steps = 4, .start_factor = 0.25});
}

TEST_CASE("parity schedule: SequentialLR(LinearLR(0.25, 4), StepLR(3, 0.5)) = Warmup<Step>", "[parity][schedule]") {
  check_schedule("warmup_step", schedule::Warmup<schedule::Step>{
                                    .steps = 4, .start_factor = 0.25, .after = {.step_size = 3, .gamma = 0.5}});
}

TEST_CASE("parity schedule: SequentialLR(LinearLR(0.1, 5), MultiStepLR([2, 6], 0.5)) = Warmup<MultiStep>",
          "[parity][schedule]") {
  check_schedule("warmup_multistep", schedule::Warmup<schedule::MultiStep>{
                                         .steps = 5, .start_factor = 0.1, .after = {.milestones = {2, 6}, .gamma = 0.5}});
}

TEST_CASE("parity schedule: SequentialLR(LinearLR(0.5, 3), ExponentialLR(0.9)) = Warmup<Exponential>",
          "[parity][schedule]") {
  check_schedule("warmup_exponential",
                 schedule::Warmup<schedule::Exponential>{.steps = 3, .start_factor = 0.5, .after = {.gamma = 0.9}});
}

TEST_CASE("parity schedule: SequentialLR(LinearLR(0.25, 4), CosineAnnealingLR(10, 0.001)) = Warmup<CosineAnnealing>",
          "[parity][schedule]") {
  check_schedule("warmup_cosine", schedule::Warmup<schedule::CosineAnnealing>{
                                      .steps = 4, .start_factor = 0.25, .after = {.t_max = 10, .eta_min = 0.001}});
}
