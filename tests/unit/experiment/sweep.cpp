#include <catch2/catch.hpp>
#include <strata/experiment.hpp>

#include <filesystem>
#include <set>
#include <sstream>

using namespace strata;
namespace hana = boost::hana;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const auto d = fs::temp_directory_path() / ("strata_sweep_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

using Small = models::Mlp<2, 1, 8, ReLU, 1>;
using Deep = models::Mlp<2, 2, 8, Tanh, 1>;

struct Binary {
  Dataset<Shape<2>, Shape<1>> train, val;
};
Binary binary_spirals() {
  const auto s = data::spirals(60, 2, 0.05, 1);
  const auto parts = data::split(s, data::SplitCounts{90, 30, 0}, 0, true);
  return {parts.train, parts.val};
}

}  // namespace

TEST_CASE("grid enumerates the cartesian product exactly, first field slowest", "[unit][experiment][search]") {
  const auto g = experiment::grid({.optimizer = {"sgd", "adam"}, .lr = {1e-3, 1e-2, 1e-1}, .batch_size = {10, 128}});
  REQUIRE(g.size() == 12);
  std::set<std::tuple<std::string, double, std::size_t>> seen;
  for (const auto& c : g) {
    seen.insert({c.optimizer, c.lr, c.batch_size});
    CHECK(c.epochs == 10);
  }
  CHECK(seen.size() == 12);
  CHECK(g[0].optimizer == "sgd");
  CHECK(g[0].lr == 1e-3);
  CHECK(g[0].batch_size == 10);
  CHECK(g[1].batch_size == 128);
  CHECK(g[2].lr == 1e-2);
  CHECK(g[6].optimizer == "adam");
  CHECK(experiment::grid({}).size() == 1);
  CHECK_THROWS_WITH(experiment::grid({.lr = {}}), Catch::Contains("'lr' has no values"));
}

TEST_CASE("random search is reproducible for a seed, prefix-stable, and respects its bounds", "[unit][experiment][search]") {
  const experiment::Space space{.optimizer = {"sgd", "adam", "rmsprop"},
                                .lr = experiment::log_uniform(1e-4, 1e-1),
                                .batch_size = {16, 32, 64},
                                .momentum = experiment::uniform(0.5, 0.99),
                                .dropout = experiment::uniform(0.0, 0.5)};
  const auto a = experiment::random(space, 200, 7);
  const auto b = experiment::random(space, 200, 7);
  const auto c = experiment::random(space, 20, 7);
  const auto d = experiment::random(space, 200, 8);
  REQUIRE(a.size() == 200);
  CHECK(a == b);
  CHECK(std::equal(c.begin(), c.end(), a.begin()));
  CHECK(a != d);
  std::set<std::string> opts;
  std::size_t below_1e3 = 0;
  for (const auto& x : a) {
    CHECK(x.lr >= 1e-4);
    CHECK(x.lr <= 1e-1);
    CHECK(x.momentum >= 0.5);
    CHECK(x.momentum <= 0.99);
    CHECK((x.batch_size == 16 || x.batch_size == 32 || x.batch_size == 64));
    opts.insert(x.optimizer);
    below_1e3 += x.lr < 1e-3;
  }
  CHECK(opts.size() == 3);
  // Log-uniform: a third of the draws fall in each decade.
  CHECK(below_1e3 > 40);
  CHECK(below_1e3 < 95);
  CHECK_THROWS_WITH(experiment::random({.lr = experiment::log_uniform(0.0, 1.0)}, 3, 0), Catch::Contains("lo > 0"));
}

TEST_CASE("An architecture x loss sweep instantiates one Model per (network, loss), whatever the runtime grid",
          "[unit][experiment][sweep]") {
  constexpr auto types = experiment::model_types(hana::tuple_t<Small, Deep>, hana::tuple_t<loss::MSE, loss::BCEWithLogits>);
  static_assert(hana::length(types) == hana::size_c<4>);
  static_assert(types[hana::size_c<0>] ==
                hana::type_c<Model<Small, loss::MSE, optim::Any, schedule::Any, backend::Cpu, float>>);
  // Four optimizers and two schedules run through those same types.
  const auto data = binary_spirals();
  const auto trials = experiment::run(
      hana::tuple_t<Small, Deep>, hana::tuple_t<loss::MSE, loss::BCEWithLogits>,
      experiment::grid({.optimizer = {"sgd", "adam", "adamw", "rmsprop"}, .lr = {1e-2}, .epochs = {3},
                        .schedule = {"constant", "cosine"}}),
      data.train, data.val, {.workers = 2, .metric = metric::accuracy()});
  REQUIRE(trials.size() == 2 * 2 * 4 * 2);
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const auto& t = trials[i];
    CHECK(t.index == i);
    CHECK(t.status == experiment::TrialStatus::completed);
    CHECK(t.history.size() == 3);
    CHECK(t.results.contains("val_accuracy"));
    CHECK(t.params.contains("hidden_layers"));
    CHECK(t.params.contains("loss"));
    CHECK(t.params.contains("schedule"));
    CHECK(!t.params.contains("momentum"));  // not varied
  }
  CHECK(trials[0].params["hidden_layers"] == 1);
  CHECK(trials[0].parameter_count == Small::parameter_count);
  CHECK(trials.back().params["hidden_layers"] == 2);
  CHECK(trials.back().params["activation"] == "tanh");
  CHECK(trials.back().params["loss"] == "bce_with_logits");
}

TEST_CASE("Architecture columns are read from the network type", "[unit][experiment][sweep]") {
  const auto mlp = experiment::describe_architecture<Sequential<Input<4>, Dense<32>, ReLU, Dense<16>, ReLU, Dense<3>>>();
  CHECK(mlp.dump() == R"({"hidden_layers":2,"neurons":"32/16","activation":"relu"})");
  CHECK(experiment::layer_list<Sequential<Input<4>, Dense<8>, Tanh, Dense<1>>>() == "Dense<8> Tanh Dense<1>");

  using Cnn = Sequential<Input<1, 8, 8>, Conv2D<4, 3, 1, same_padding>, LeakyReLU, MaxPool<2>, Conv2D<8, 3, 1, same_padding>,
                         LeakyReLU, Flatten, Dense<10>>;
  CHECK(experiment::describe_architecture<Cnn>().dump() ==
        R"({"conv_layers":2,"channels":"4/8","kernel":3,"hidden_layers":0,"neurons":0,"activation":"leakyrelu"})");

  // Convolutions inside residual bodies count; the 1x1 projection does not.
  using Res = Sequential<Input<1, 8, 8>, Conv2D<4, 3, 1, 1, no_bias>, BatchNorm, ReLU,
                         Residual<Conv2D<8, 5, 2, 2, no_bias>, BatchNorm, ReLU, Conv2D<8, 5, 1, 2, no_bias>, BatchNorm>,
                         ReLU, GlobalAvgPool, Dense<10>>;
  CHECK(experiment::describe_architecture<Res>().dump() ==
        R"({"conv_layers":3,"residual_blocks":1,"channels":"4/8/8","kernel":"3/5/5","hidden_layers":0,"neurons":0,"activation":"relu"})");
}

TEST_CASE("Runtime optimizer and schedule give the numbers of the static ones", "[unit][experiment][sweep]") {
  const auto data = binary_spirals();
  Model<Small, loss::BCEWithLogits, optim::Adam, schedule::CosineAnnealing> fixed(
      {.optimizer = {.lr = 1e-2, .weight_decay = 1e-3}, .schedule = {.t_max = 4}, .seed = 3});
  Model<Small, loss::BCEWithLogits, optim::Any, schedule::Any> any(
      {.optimizer = optim::make("adam", 1e-2, 0.0, 1e-3), .schedule = schedule::CosineAnnealing{.t_max = 4}, .seed = 3});
  const FitOptions o{.epochs = 4, .batch_size = 16, .seed = 3};
  fit(fixed, data.train, o);
  fit(any, data.train, o);
  const auto a = fixed.network().parameters(), b = any.network().parameters();
  CHECK(std::equal(a.begin(), a.end(), b.begin()));
  CHECK(any.optimizer().kind() == "adam");
  CHECK_THROWS_WITH(optim::make("lbfgs", 0.1), Catch::Contains("unknown optimizer 'lbfgs'"));
}

TEST_CASE("A diverging trial is recorded with its step and the sweep goes on", "[unit][experiment][sweep]") {
  const auto data = binary_spirals();
  // Targets far from the outputs make SGD at lr 10 blow up within a few steps under MSE.
  auto train = data.train;
  train.y *= 1e3f;
  std::ostringstream log;
  const auto trials = experiment::run(hana::tuple_t<Small>, hana::tuple_t<loss::MSE>,
                                      experiment::grid({.optimizer = {"sgd"}, .lr = {10.0, 1e-3}, .epochs = {30}}),
                                      train, data.val, {.workers = 1, .log = &log});
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].status == experiment::TrialStatus::diverged);
  CHECK(trials[0].diverged_step >= 1);
  CHECK(trials[0].message.find("diverged") != std::string::npos);
  CHECK(trials[1].status == experiment::TrialStatus::completed);
  CHECK(log.str().find("diverged at step") != std::string::npos);
  const auto table = experiment::Table(trials).to_markdown();
  CHECK(table.find("diverged") != std::string::npos);
}

TEST_CASE("A sweep with a journal skips finished trials when run again", "[unit][experiment][sweep][journal]") {
  const auto dir = fresh_dir("journal");
  const auto data = binary_spirals();
  const auto configs = experiment::grid({.optimizer = {"sgd", "adam"}, .lr = {1e-2, 1e-1}, .epochs = {3}});
  const experiment::SweepOptions o{.journal = dir / "sweep.jsonl", .workers = 2};
  const auto first = experiment::run(hana::tuple_t<Small>, hana::tuple_t<loss::BCEWithLogits>, configs, data.train,
                                     data.val, o);
  std::ostringstream log;
  auto o2 = o;
  o2.log = &log;
  const auto again = experiment::run(hana::tuple_t<Small>, hana::tuple_t<loss::BCEWithLogits>, configs, data.train,
                                     data.val, o2);
  CHECK(log.str().find("4 of 4 trials already done") != std::string::npos);
  REQUIRE(again.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(again[i].key == first[i].key);
    CHECK(again[i].results == first[i].results);
    CHECK(again[i].started_at == first[i].started_at);  // taken from the journal, not rerun
  }
  experiment::Journal j(dir / "sweep.jsonl");
  CHECK(j.load().size() == 4);
  // A bigger grid runs only the new trials.
  const auto more = experiment::grid({.optimizer = {"sgd", "adam"}, .lr = {1e-2, 1e-1, 1.0}, .epochs = {3}});
  const auto third = experiment::run(hana::tuple_t<Small>, hana::tuple_t<loss::BCEWithLogits>, more, data.train,
                                     data.val, o);
  CHECK(third.size() == 6);
  CHECK(experiment::Journal(dir / "sweep.jsonl").load().size() == 6);
  // A sweep that varies another field shows it for the trials it takes from the journal too.
  auto decays = experiment::grid({.optimizer = {"sgd"}, .lr = {1e-2}, .epochs = {3}, .weight_decay = {0.0, 1e-3}});
  const auto fourth = experiment::run(hana::tuple_t<Small>, hana::tuple_t<loss::BCEWithLogits>, decays, data.train,
                                      data.val, o);
  REQUIRE(fourth.size() == 2);
  CHECK(fourth[0].started_at == third[0].started_at);  // the sgd, lr 1e-2 trial, from the journal
  CHECK(fourth[0].params.contains("weight_decay"));
  CHECK(fourth[1].params["weight_decay"] == 1e-3);
  fs::remove_all(dir);
}
