// A program the process tests run (and kill) as a child:
//   child train <checkpoint> <epochs> <params-out>   fit with checkpoints (resuming when the
//                                                    file exists), then write the raw parameters
//   child sweep <journal> <trials-out> [workers]     a 12-trial sweep with a journal, one worker
//                                                    (or `workers`), then the trials as JSON
#include <strata/experiment.hpp>
#include <strata/train/checkpoint.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

using namespace strata;
namespace hana = boost::hana;

namespace {

using Net = Sequential<Input<2>, Dense<32>, ReLU, Dropout, Dense<32>, Tanh, Dense<3>>;

int train(const std::string& ckpt, std::size_t epochs, const std::string& out) {
  const auto d = data::spirals(100, 3, 0.05, 1);
  const auto parts = data::split(d, data::SplitCounts{240, 60, 0}, 0, true);
  Model<Net, loss::CrossEntropy, optim::Adam, schedule::CosineAnnealing> model(
      {.optimizer = {.lr = 1e-2, .weight_decay = 1e-4}, .schedule = {.t_max = 4}, .seed = 5, .dropout = 0.1});
  const auto r = fit(model, parts.train, parts.val,
                     {.epochs = epochs,
                      .batch_size = 16,
                      .seed = 2,
                      .log = &std::cout,
                      .early_stopping = {.patience = 10},
                      .checkpoint = checkpoints(model, ckpt)});
  std::cout << "resumed_after " << r.resumed_after << " epochs " << r.history.size() << "\n";
  std::ofstream f(out, std::ios::binary);
  const auto p = model.network().parameters();
  f.write(reinterpret_cast<const char*>(p.data()), static_cast<std::streamsize>(p.size() * sizeof(float)));
  return f ? 0 : 1;
}

int sweep(const std::string& journal, const std::string& out, std::size_t workers) {
  const auto d = data::spirals(200, 2, 0.05, 1);
  const auto parts = data::split(d, data::SplitCounts{300, 100, 0}, 0, true);
  using A = models::Mlp<2, 2, 32, ReLU, 1>;
  const auto trials = experiment::run(
      hana::tuple_t<A>, hana::tuple_t<loss::BCEWithLogits>,
      experiment::grid({.optimizer = {"sgd", "adam"}, .lr = {1e-3, 1e-2, 1e-1}, .batch_size = {8, 16}, .epochs = {150}}),
      parts.train, parts.val, {.journal = journal, .workers = workers, .log = &std::cout});
  nlohmann::json j = trials;
  std::ofstream f(out);
  f << j.dump() << "\n";
  return f ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "train" && argc == 5) return train(argv[2], std::stoul(argv[3]), argv[4]);
    if (mode == "sweep" && (argc == 4 || argc == 5)) return sweep(argv[2], argv[3], argc == 5 ? std::stoul(argv[4]) : 1);
    std::cerr << "usage: child train <checkpoint> <epochs> <params-out> | child sweep <journal> <trials-out> "
                 "[workers]\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
