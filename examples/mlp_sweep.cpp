// The binary-classification sweep of the course reports: optimizer x lr x batch size x
// epochs x hidden layers x neurons x activation x loss (MSE vs BCE), with parameter counts,
// on 2-D spirals and on the Wisconsin breast-cancer set. Every trial trains on a seeded,
// stratified 60/20/20 split; inputs are standardised with training statistics only. The
// table is sorted by validation accuracy; the best row also shows its test accuracy.
//
//   mlp_sweep [--quick] [--out results/mlp_sweep] [--data data] [--workers N] [--fresh]
//
// Trials go to a journal (<out>/<set>/journal.jsonl): run the same command again after an
// interruption and only the missing trials run.
#include <CLI/CLI.hpp>
#include <strata/data/datasets.hpp>
#include <strata/experiment.hpp>

#include <filesystem>
#include <iostream>

#include "report.hpp"

using namespace strata;
namespace hana = boost::hana;
namespace ex = strata::experiment;

template <std::size_t In>
auto nets() {
  return hana::tuple_t<models::Mlp<In, 1, 16, ReLU, 1>, models::Mlp<In, 2, 16, ReLU, 1>,
                       models::Mlp<In, 2, 16, Tanh, 1>, models::Mlp<In, 3, 32, ReLU, 1>>;
}
inline auto losses() { return hana::tuple_t<loss::MSE, loss::BCEWithLogits>; }

struct Options {
  bool quick = false, fresh = false;
  std::filesystem::path out = "results/mlp_sweep", data = data::data_dir();
  std::size_t workers = 0;
  std::vector<std::string> sets{"spirals", "breast_cancer"};
};

// The runtime grid (outside the templates below: GCC 12 fails on designated initializers
// of this aggregate inside a function template).
std::vector<ex::Config> grid(bool quick) {
  if (quick) return ex::grid({.optimizer = {"sgd", "adam"}, .lr = {1e-2, 1e-1}, .batch_size = {32}, .epochs = {30}});
  return ex::grid({.optimizer = {"sgd", "adam"}, .lr = {1e-3, 1e-2, 1e-1}, .batch_size = {16, 64}, .epochs = {50, 150}});
}

template <std::size_t In>
void sweep(const std::string& name, const Dataset<Shape<In>, Shape<1>>& all, const Options& o) {
  const auto parts = data::split(all, data::SplitFractions{0.6, 0.2, 0.2}, /*seed=*/0, /*stratify=*/true);
  const auto scaler = data::fit_inputs(parts.train);
  const auto train = data::transform(parts.train, scaler), val = data::transform(parts.val, scaler),
             test = data::transform(parts.test, scaler);
  std::cout << name << ": train " << data::class_report(parts.train, 2) << "; val " << data::class_report(parts.val, 2)
            << "; test " << data::class_report(parts.test, 2) << "\n";

  const auto configs = grid(o.quick);
  const auto dir = o.out / name;
  std::filesystem::create_directories(dir);
  if (o.fresh) std::filesystem::remove(dir / "journal.jsonl");
  const auto trials = ex::run(nets<In>(), losses(), configs, train, val,
                              {.journal = dir / "journal.jsonl", .workers = o.workers, .metric = metric::accuracy()},
                              &test);
  const auto best = examples::report(
      trials, dir,
      {.title = "MLP sweep on " + name,
       .sort_key = "val_accuracy",
       .columns = {"#", "hidden_layers", "neurons", "activation", "loss", "optimizer", "lr", "batch_size", "epochs",
                   "params", "train_accuracy", "val_accuracy", "test_accuracy", "status", "s/epoch"}});
  std::cout << "best on " << name << ": " << best.params.dump() << " -> val accuracy "
            << best.results.value("val_accuracy", 0.0) << ", test accuracy " << best.results.value("test_accuracy", 0.0)
            << "\n";
}

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"strata: MLP hyperparameter sweep (spirals, breast cancer)"};
  app.add_flag("--quick", o.quick, "a small grid (CI)");
  app.add_flag("--fresh", o.fresh, "ignore earlier results in the journals");
  app.add_option("--out", o.out, "output folder")->capture_default_str();
  app.add_option("--data", o.data, "data folder (scripts/fetch-data.sh)")->capture_default_str();
  app.add_option("--workers", o.workers, "trials at once (0: one per core)")->capture_default_str();
  app.add_option("--sets", o.sets, "data sets: spirals, breast_cancer")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    for (const auto& s : o.sets) {
      if (s == "spirals") sweep<2>("spirals", data::spirals(o.quick ? 150 : 300, 2, 0.05, /*seed=*/1), o);
      else if (s == "breast_cancer") sweep<30>("breast_cancer", data::breast_cancer(o.data), o);
      else throw option_error("unknown data set '" + s + "' (spirals, breast_cancer)");
    }
  } catch (const std::exception& e) {
    std::cerr << "mlp_sweep: " << e.what() << "\n";
    return 1;
  }
}
