// Learning-rate schedules, weight decay and mixup on a ResNet-style network: the small
// residual network of lr_batch_kernel (3 x 3 kernels) on a slice of Fashion-MNIST with
// pad-4 random crops and horizontal flips, SGD with momentum 0.9, batch 128, soft-target
// cross-entropy (the loss mixup needs; plain one-hot targets without mixup). Around a base
// setting (lr 0.05, cosine annealing, weight decay 5e-4, no mixup), four tables:
//   lr            0.01, 0.05, 0.5
//   schedule      cosine annealing vs constant, at each of those learning rates
//   weight decay  1e-4 vs 5e-4
//   mixup         alpha 0.2 vs none
// each with its learning curves; the schedule table also plots the learning rate per epoch.
//
//   schedules [--quick] [--train 3000] [--epochs 8] [--workers N] [--out results/schedules] [--data data]
//
// Trials shared between tables run once, and all go to a journal: an interrupted run resumes.
#include <CLI/CLI.hpp>
#include <strata/data/datasets.hpp>
#include <strata/experiment.hpp>

#include <filesystem>
#include <iostream>

#include "report.hpp"
#include "small_resnet.hpp"

using namespace strata;
namespace hana = boost::hana;
namespace ex = strata::experiment;

namespace {

struct Plan {
  ex::Config base;
  std::vector<double> lrs{0.01, 0.05, 0.5};
  std::vector<std::string> schedules{"constant", "cosine"};
  std::vector<double> decays{1e-4, 5e-4};
  std::vector<double> alphas{0.0, 0.2};
};

// The trials of one table (outside templates: GCC 12 fails on designated initializers of
// these aggregates inside function templates).
std::vector<ex::Config> table_configs(const Plan& p, const std::string& factor) {
  std::vector<ex::Config> out;
  if (factor == "lr")
    for (double v : p.lrs) out.push_back(p.base), out.back().lr = v;
  if (factor == "schedule")
    for (const auto& s : p.schedules)
      for (double v : p.lrs) out.push_back(p.base), out.back().schedule = s, out.back().lr = v;
  if (factor == "weight_decay")
    for (double v : p.decays) out.push_back(p.base), out.back().weight_decay = v;
  if (factor == "mixup_alpha")
    for (double v : p.alphas) out.push_back(p.base), out.back().mixup_alpha = v;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  examples::SliceOptions o{.train = 3000, .epochs = 8, .out = "results/schedules"};
  CLI::App app{"strata: lr, cosine vs constant, weight decay and mixup on a small ResNet (Fashion-MNIST)"};
  examples::add_slice_options(app, o, "a tiny slice and two epochs (CI)");
  CLI11_PARSE(app, argc, argv);
  const bool quick = o.quick;
  if (quick) o.train = 200, o.epochs = 2;
  try {
    const auto slice = examples::fashion_slice(o.data, o.train, quick ? 200 : 2000);

    Plan plan;
    plan.base = examples::base_setting(128, o.epochs);
    if (quick) plan.base.batch_size = 50, plan.lrs = {0.05, 0.5};
    ex::SweepOptions so;
    so.journal = o.out / "journal.jsonl";
    so.workers = o.workers;
    so.metric = metric::accuracy();
    so.augment = augment::pad_crop(4) | augment::hflip();
    so.log = &std::cout;
    std::filesystem::create_directories(o.out);

    for (const std::string factor : {"lr", "schedule", "weight_decay", "mixup_alpha"}) {
      const auto trials = ex::run(hana::tuple_t<examples::SmallResNet<3>>, hana::tuple_t<loss::SoftCrossEntropy>,
                                  table_configs(plan, factor), slice.train, slice.val, so, &slice.test);
      std::vector<std::string> columns{"#"};
      if (factor == "schedule") columns.push_back("schedule");
      if (factor == "schedule" || factor == "lr") columns.push_back("lr");
      else columns.push_back(factor);
      for (const char* c : {"train_accuracy", "val_accuracy", "test_accuracy", "val_loss", "status", "s/epoch"})
        columns.push_back(c);
      examples::report(trials, o.out / factor,
                       {.title = "small ResNet on Fashion-MNIST: " + factor,
                        .sort_key = "val_accuracy",
                        .columns = columns,
                        .group_by = factor == "schedule" ? "schedule" : "",
                        .x_param = factor == "schedule" ? "lr" : factor});
      if (factor == "schedule") {
        const auto lr = ex::lr_per_epoch(trials, o.out / factor / "lr_per_epoch.png",
                                         {.title = "learning rate per epoch: cosine annealing vs constant"});
        std::cout << (lr.rendered ? "plot: " : "plot not rendered (" + lr.note + "): ") << lr.png.string() << "\n";
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "schedules: " << e.what() << "\n";
    return 1;
  }
}
