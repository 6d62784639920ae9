// The ResNet-style sweeps of the reports, one factor at a time around a base setting:
// learning rate, batch size, kernel width and weight decay, each trial's seconds per epoch
// recorded. A small residual network (a stem and three basic blocks with K x K kernels,
// 16/32/64 channels, global average pooling) on a slice of Fashion-MNIST, SGD with momentum
// 0.9 and cosine annealing, pad-2 random crops and horizontal flips.
//
//   lr_batch_kernel [--quick] [--train N] [--epochs E] [--out results/lr_batch_kernel] [--data data]
//
// Kernel widths are network types (3, 5, 7); the other factors are runtime values. Trials
// go to a journal: an interrupted run resumes.
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

template <std::size_t K>
using ResNetK = examples::SmallResNet<K>;

namespace {

// The trials: a base setting and one factor changed at a time (outside templates: GCC 12
// fails on designated initializers of these aggregates inside function templates).
struct Plan {
  ex::Config base;
  std::vector<double> lrs{0.01, 0.05, 0.2};
  std::vector<std::size_t> batches{32, 128};
  std::vector<double> decays{0.0, 5e-4};
};

std::vector<ex::Config> vary(const Plan& p, const std::string& factor) {
  std::vector<ex::Config> out;
  if (factor == "lr")
    for (double v : p.lrs) out.push_back(p.base), out.back().lr = v;
  if (factor == "batch_size")
    for (std::size_t v : p.batches) out.push_back(p.base), out.back().batch_size = v;
  if (factor == "weight_decay")
    for (double v : p.decays) out.push_back(p.base), out.back().weight_decay = v;
  if (factor == "kernel") out.push_back(p.base);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  examples::SliceOptions o{.train = 6000, .epochs = 8, .out = "results/lr_batch_kernel"};
  CLI::App app{"strata: lr, batch size, kernel width and weight decay sweeps of a small ResNet"};
  examples::add_slice_options(app, o, "a tiny slice and one epoch (CI)");
  CLI11_PARSE(app, argc, argv);
  const bool quick = o.quick;
  if (quick) o.train = 300, o.epochs = 1;
  try {
    const auto slice = examples::fashion_slice(o.data, o.train, quick ? 200 : 2000);
    const auto &train = slice.train, &val = slice.val, &test = slice.test;

    Plan plan;
    plan.base = examples::base_setting(64, o.epochs);
    if (quick) plan.lrs = {0.05, 0.2}, plan.batches = {64}, plan.decays = {5e-4};
    ex::SweepOptions so;
    so.journal = o.out / "journal.jsonl";
    so.workers = o.workers;
    so.metric = metric::accuracy();
    so.augment = augment::pad_crop(2) | augment::hflip();
    so.log = &std::cout;
    std::filesystem::create_directories(o.out);

    for (const std::string factor : {"lr", "batch_size", "kernel", "weight_decay"}) {
      const auto configs = vary(plan, factor);
      if (configs.empty()) continue;
      std::vector<ex::TrialRecord> trials;
      if (factor == "kernel")
        trials = quick ? ex::run(hana::tuple_t<ResNetK<3>, ResNetK<5>>, hana::tuple_t<loss::CrossEntropy>, configs,
                                 train, val, so, &test)
                       : ex::run(hana::tuple_t<ResNetK<3>, ResNetK<5>, ResNetK<7>>, hana::tuple_t<loss::CrossEntropy>,
                                 configs, train, val, so, &test);
      else
        trials = ex::run(hana::tuple_t<ResNetK<3>>, hana::tuple_t<loss::CrossEntropy>, configs, train, val, so, &test);
      std::vector<std::string> columns{"#", "kernel"};
      if (factor != "kernel") columns.push_back(factor);
      for (const char* c : {"params", "train_accuracy", "val_accuracy", "test_accuracy", "status", "s/epoch"})
        columns.push_back(c);
      examples::report(trials, o.out / factor,
                       {.title = "small ResNet on Fashion-MNIST: " + factor,
                        .sort_key = "val_accuracy",
                        .columns = columns,
                        .group_by = "",
                        .x_param = factor});
    }
  } catch (const std::exception& e) {
    std::cerr << "lr_batch_kernel: " << e.what() << "\n";
    return 1;
  }
}
