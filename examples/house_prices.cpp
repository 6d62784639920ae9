// House-price regression on the Boston housing set (506 houses, 13 features, median value
// in $1000s): an MLP trained with MSE, and the same MLP with a Gaussian head (mean and
// log-variance) trained with the Gaussian negative log-likelihood, over a small grid of
// learning rates, batch sizes and weight decays, with early stopping on the validation loss.
// Inputs and targets are standardised with training statistics; RMSE and NLL are reported
// in dollars. The best Gaussian model's predicted sigma is plotted against LSTAT (the share
// of lower-status population), next to its absolute errors on the test set.
//
//   house_prices [--quick] [--out results/house_prices] [--data data] [--workers N] [--fresh]
#include <CLI/CLI.hpp>
#include <strata/data/datasets.hpp>
#include <strata/experiment.hpp>

#include <cmath>
#include <filesystem>
#include <iostream>

#include "report.hpp"

using namespace strata;
namespace hana = boost::hana;
namespace ex = strata::experiment;

using MseNet = models::Mlp<13, 2, 64, ReLU, 1>;
using GaussNet = models::Mlp<13, 2, 64, ReLU, 2>;  // mean, log sigma^2
constexpr std::size_t lstat_feature = 12;

int main(int argc, char** argv) {
  bool quick = false, fresh = false;
  std::filesystem::path out = "results/house_prices", dir = data::data_dir();
  std::size_t workers = 0;
  CLI::App app{"strata: house prices with MSE and with a Gaussian NLL head"};
  app.add_flag("--quick", quick, "a small grid (CI)");
  app.add_flag("--fresh", fresh, "ignore earlier results in the journal");
  app.add_option("--out", out, "output folder")->capture_default_str();
  app.add_option("--data", dir, "data folder (scripts/fetch-data.sh)")->capture_default_str();
  app.add_option("--workers", workers, "trials at once (0: one per core)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const auto all = data::boston_housing(dir);
    const auto parts = data::split(all, data::SplitFractions{0.6, 0.2, 0.2}, /*seed=*/0);
    const auto xs = data::fit_inputs(parts.train);
    const auto ys = data::fit_targets(parts.train);
    const auto train = data::transform(parts.train, xs, ys), val = data::transform(parts.val, xs, ys),
               test = data::transform(parts.test, xs, ys);
    const double dollars = ys.stddev()[0] * 1000.0;  // one standard unit of target, in dollars
    std::cout << "Boston housing: train " << train.size() << ", val " << val.size() << ", test " << test.size()
              << "; target mean $" << ys.mean()[0] * 1000 << ", std $" << dollars << "\n";

    const auto configs = quick ? ex::grid({.lr = {1e-3, 1e-2}, .batch_size = {32}, .epochs = {60}})
                               : ex::grid({.lr = {3e-4, 1e-3, 3e-3, 1e-2}, .batch_size = {16, 64}, .epochs = {300},
                                           .weight_decay = {0.0, 1e-3}});
    std::filesystem::create_directories(out);
    if (fresh) std::filesystem::remove(out / "journal.jsonl");
    const ex::SweepOptions so{.journal = out / "journal.jsonl",
                              .workers = workers,
                              .metric = metric::rmse(dollars),
                              .early_stopping = {.patience = quick ? 10u : 30u},
                              .extra_metrics = {metric::nll(dollars)}};
    auto trials = ex::run(hana::tuple_t<MseNet>, hana::tuple_t<loss::MSE>, configs, train, val, so, &test);
    const auto gauss = ex::run(hana::tuple_t<GaussNet>, hana::tuple_t<loss::GaussianNLL>, configs, train, val, so, &test);
    const std::size_t offset = trials.size();  // Gaussian trials are numbered after the MSE ones
    for (auto t : gauss) {
      t.index += offset;
      trials.push_back(t);
    }
    examples::report(trials, out,
                     {.title = "Boston housing: MSE vs Gaussian NLL",
                      .sort_key = "val_rmse",
                      .higher_is_better = false,
                      .columns = {"#", "loss", "lr", "batch_size", "weight_decay", "epochs", "params", "val_rmse",
                                  "test_rmse", "val_nll", "test_nll", "status", "s/epoch"},
                      .group_by = "loss"});

    // The best Gaussian trial, trained again (same seed, same numbers), and its sigma.
    ex::Table g(gauss);
    g.sort_by("val_nll", false);
    const auto& best = g.trial(0);
    auto model = ex::make_model<GaussNet, loss::GaussianNLL>(ex::config_of(best), train.size(), so);
    fit(model, train, val, ex::fit_options(ex::config_of(best), so));
    const auto pred = model.predict(test.x);
    const auto sigma = loss::gaussian_sigma(pred);
    ex::Series s_sigma{.label = "predicted sigma", .x = {}, .y = {}, .style = "points"};
    ex::Series s_err{.label = "|error|", .x = {}, .y = {}, .style = "points"};
    double inside = 0;
    for (Eigen::Index j = 0; j < test.x.cols(); ++j) {
      const double lstat_pct = test.x(lstat_feature, j) * xs.stddev()[lstat_feature] + xs.mean()[lstat_feature];
      const double sd = sigma(0, j) * dollars, err = std::abs(pred(0, j) - test.y(0, j)) * dollars;
      s_sigma.x.push_back(lstat_pct);
      s_sigma.y.push_back(sd);
      s_err.x.push_back(lstat_pct);
      s_err.y.push_back(err);
      inside += err <= 1.96 * sd;
    }
    const auto plot = ex::xy_series({s_err, s_sigma}, out / "sigma_vs_lstat.png",
                                    {.title = "Gaussian head on the test set: predicted sigma and |error| vs LSTAT",
                                     .xlabel = "LSTAT (% lower-status population)",
                                     .ylabel = "dollars"});
    std::cout << "best Gaussian trial #" << best.index + offset << ": test RMSE $" << best.results.value("test_rmse", 0.0)
              << ", test NLL " << best.results.value("test_nll", 0.0) << "; "
              << 100.0 * inside / static_cast<double>(test.size())
              << "% of test prices within 1.96 predicted sigma\n"
              << (plot.rendered ? "plot: " : "plot not rendered (" + plot.note + "): ") << plot.png.string() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "house_prices: " << e.what() << "\n";
    return 1;
  }
}
