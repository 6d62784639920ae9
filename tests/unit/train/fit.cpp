#include <catch2/catch.hpp>
#include <strata/strata.hpp>

#include <cmath>
#include <cstring>
#include <sstream>
#include <vector>

using namespace strata;

namespace {

using SpiralNet = Sequential<Input<2>, Dense<16>, Tanh, Dense<2>>;
using SpiralModel = Model<SpiralNet, loss::CrossEntropy, optim::Adam>;

std::vector<float> params_of(const auto& model) {
  const auto p = model.network().parameters();
  return {p.begin(), p.end()};
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Validation labels that are unrelated to the inputs: the better the model fits the
// training set, the worse its validation loss gets.
Dataset<Shape<2>, Shape<1>> shuffled_labels(const Dataset<Shape<2>, Shape<1>>& d) {
  Dataset<Shape<2>, Shape<1>> out = d;
  for (Eigen::Index j = 0; j < out.y.cols(); ++j) out.y(0, j) = static_cast<float>((j * 7 / 3) % 2);
  return out;
}

}  // namespace

TEST_CASE("fit with a validation set records val loss and metric every epoch", "[unit][train][fit]") {
  const auto train = data::spirals(100, 2, 0.05, 1);
  const auto val = data::spirals(50, 2, 0.05, 2);
  SpiralModel model({.optimizer = {.lr = 1e-2}});
  const auto r = fit(model, train, val, {.epochs = 4, .batch_size = 20});
  REQUIRE(r.history.size() == 4);
  CHECK(r.metric_name == "accuracy");
  for (std::size_t e = 0; e < 4; ++e) {
    const auto& h = r.history[e];
    CHECK(h.epoch == e + 1);
    REQUIRE(h.val_loss);
    REQUIRE(h.val_metric);
    REQUIRE(h.train_metric);
    CHECK(*h.train_metric >= 0.0);
    CHECK(*h.train_metric <= 1.0);
    CHECK(h.seconds >= h.train_seconds);
  }
  // The last val figures are those of the final model.
  const auto e = evaluate(model, val);
  CHECK(*r.history.back().val_loss == Approx(e.loss).epsilon(1e-6));
  CHECK(*r.history.back().val_metric == Approx(*e.accuracy));
}

TEST_CASE("Early stopping stops after `patience` epochs without improvement and restores the best epoch",
          "[unit][train][fit][early-stopping]") {
  const auto train = data::spirals(100, 2, 0.05, 1);
  const auto val = shuffled_labels(data::spirals(100, 2, 0.05, 2));
  SpiralModel model({.optimizer = {.lr = 3e-2}});
  const auto r = fit(model, train, val, {.epochs = 200, .batch_size = 10, .early_stopping = {.patience = 3}});
  REQUIRE(r.stopped_early());
  INFO(r.message);
  CHECK(r.message.find("early stopping") != std::string::npos);
  REQUIRE(r.best_epoch >= 1);
  CHECK(r.history.size() == r.best_epoch + 3);
  for (std::size_t e = r.best_epoch; e < r.history.size(); ++e)
    CHECK(*r.history[e].val_loss >= *r.history[r.best_epoch - 1].val_loss);
  // The model holds the best epoch's parameters: its val loss is that epoch's.
  CHECK(evaluate(model, val).loss == Approx(*r.history[r.best_epoch - 1].val_loss).epsilon(1e-6));
}

TEST_CASE("Early stopping: min_delta, no restore, train-loss monitor and bad settings", "[unit][train][fit][early-stopping]") {
  const auto train = data::spirals(60, 2, 0.05, 1);
  const auto val = data::spirals(30, 2, 0.05, 2);
  SECTION("an improvement smaller than min_delta does not count") {
    SpiralModel model({.optimizer = {.lr = 1e-2}});
    const auto r = fit(model, train, val,
                       {.epochs = 50, .batch_size = 20, .early_stopping = {.patience = 2, .min_delta = 1e9}});
    CHECK(r.stopped_early());
    CHECK(r.history.size() == 3);
    CHECK(r.best_epoch == 1);
  }
  SECTION("restore_best = false keeps the last parameters") {
    SpiralModel model({.optimizer = {.lr = 1e-2}});
    const auto r = fit(model, train, val,
                       {.epochs = 50,
                        .batch_size = 20,
                        .early_stopping = {.patience = 2, .min_delta = 1e9, .restore_best = false}});
    CHECK(evaluate(model, val).loss == Approx(*r.history.back().val_loss).epsilon(1e-6));
  }
  SECTION("monitoring the train loss needs no validation set") {
    SpiralModel model({.optimizer = {.lr = 1e-2}});
    const auto r = fit(model, train,
                       {.epochs = 5, .batch_size = 20,
                        .early_stopping = {.patience = 2, .monitor = Monitor::train_loss}});
    CHECK(r.history.size() == 5);
    CHECK(r.best_epoch == 5);
  }
  SECTION("monitoring validation without a validation set is refused") {
    SpiralModel model;
    CHECK_THROWS_WITH(fit(model, train, {.epochs = 5, .early_stopping = {.patience = 2}}),
                      Catch::Contains("needs a validation set"));
  }
  SECTION("val_metric monitor for accuracy improves upwards") {
    SpiralModel model({.optimizer = {.lr = 3e-2}});
    const auto r = fit(model, train, val,
                       {.epochs = 30, .batch_size = 10,
                        .early_stopping = {.patience = 30, .monitor = Monitor::val_metric}});
    REQUIRE(r.best_epoch >= 1);
    double best = 0;
    for (const auto& h : r.history) best = std::max(best, *h.val_metric);
    CHECK(*r.history[r.best_epoch - 1].val_metric == best);
  }
}

TEST_CASE("A callback can stop fit and sees every epoch's record", "[unit][train][fit]") {
  const auto train = data::spirals(50, 2, 0.05, 1);
  SpiralModel model;
  std::vector<std::size_t> seen;
  const auto r = fit(model, train,
                     {.epochs = 10,
                      .batch_size = 25,
                      .callbacks = {[&](const EpochRecord& rec, FitControl& c) {
                        seen.push_back(rec.epoch);
                        if (rec.epoch == 3) c.stop = true, c.reason = "enough";
                      }}});
  CHECK(r.status == FitStatus::stopped_by_callback);
  CHECK(r.history.size() == 3);
  CHECK(seen == std::vector<std::size_t>{1, 2, 3});
  CHECK(r.message.find("enough") != std::string::npos);
}

TEST_CASE("Progress: lines off a terminal, a bar when asked, nothing when off", "[unit][train][fit][progress]") {
  const auto train = data::spirals(50, 2, 0.05, 1);
  auto run = [&](Progress p) {
    SpiralModel model;
    std::ostringstream log;
    fit(model, train, {.epochs = 3, .batch_size = 10, .log = &log, .progress = p});
    return log.str();
  };
  const auto lines = run(Progress::automatic);
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 3);
  CHECK(lines.find('\r') == std::string::npos);
  CHECK(lines.find("epoch 3/3") != std::string::npos);
  CHECK(lines.find("accuracy") != std::string::npos);
  const auto bar = run(Progress::bar);
  CHECK(bar.find('\r') != std::string::npos);
  CHECK(bar.find("ETA") != std::string::npos);
  CHECK(bar.find("samples/s") != std::string::npos);
  CHECK(run(Progress::none).empty());
  CHECK(detail::format_duration(3725) == "1:02:05");
  CHECK(detail::format_duration(65) == "1:05");
}

TEST_CASE("Metrics: top-k, NLL, RMSE and MAE in original units", "[unit][train][metrics]") {
  const auto train = data::spirals(60, 3, 0.05, 1);
  using Net3 = Sequential<Input<2>, Dense<16>, Tanh, Dense<3>>;
  Model<Net3, loss::CrossEntropy, optim::Adam> model({.optimizer = {.lr = 1e-2}});
  fit(model, train, {.epochs = 3, .batch_size = 20});
  const auto acc = evaluate(model, train, metric::accuracy());
  const auto top1 = evaluate(model, train, metric::top_k(1));
  const auto top3 = evaluate(model, train, metric::top_k(3));
  const auto nll = evaluate(model, train, metric::nll());
  CHECK(top1.metric_name == "top1");
  CHECK(*top1.metric == *acc.metric);
  CHECK(*top3.metric == 1.0);
  CHECK(*nll.metric == Approx(nll.loss).epsilon(1e-6));  // cross-entropy without smoothing is the NLL
  CHECK_THROWS_WITH(evaluate(model, train, metric::top_k(4)), Catch::Contains("larger than the 3 classes"));
  CHECK_THROWS_WITH(evaluate(model, train, metric::rmse()), Catch::Contains("needs a regression output"));

  // Regression: RMSE and MAE against hand-computed values, scaled to original units.
  using Reg = Sequential<Input<2>, Dense<1>>;
  Model<Reg, loss::MSE, optim::SGD> reg;
  Eigen::Matrix<float, 2, 4> x;
  x << 1, 0, 2, -1, 0, 1, 1, 3;
  Eigen::Matrix<float, 1, 4> y;
  y << 0.5f, -1.f, 2.f, 0.f;
  const Dataset<Shape<2>, Shape<1>> d(x, y);
  const auto pred = reg.predict(d.x);
  double sse = 0, sae = 0;
  for (int j = 0; j < 4; ++j) {
    const double e = pred(0, j) - y(0, j);
    sse += e * e;
    sae += std::abs(e);
  }
  const auto rmse = evaluate(reg, d, metric::rmse(1000.0));
  CHECK(rmse.metric_name == "rmse");
  CHECK(*rmse.metric == Approx(1000.0 * std::sqrt(sse / 4)).epsilon(1e-6));
  CHECK(*evaluate(reg, d, metric::mae(2.0)).metric == Approx(2.0 * sae / 4).epsilon(1e-6));
  CHECK(evaluate(reg, d, metric::automatic()).metric_name == "rmse");
  CHECK(*rmse.metric == Approx(1000.0 * std::sqrt(rmse.loss)).epsilon(1e-6));  // MSE loss is the squared RMSE
}

TEST_CASE("Gaussian NLL metric: the full likelihood, in original units", "[unit][train][metrics]") {
  using Net = Sequential<Input<2>, Dense<2>>;  // mean, log-variance
  Model<Net, loss::GaussianNLL, optim::Adam> model;
  Eigen::Matrix<float, 2, 3> x;
  x << 1, 0, 2, 0, 1, 1;
  Eigen::Matrix<float, 1, 3> y;
  y << 0.5f, -1.f, 2.f;
  const Dataset<Shape<2>, Shape<1>> d(x, y);
  const auto out = model.predict(d.x);
  const double s = 10.0;
  double expect = 0;
  for (int j = 0; j < 3; ++j) {
    const double var = std::max(std::exp(double(out(1, j))), 1e-6);
    const double e = y(0, j) - out(0, j);
    expect += 0.5 * (std::log(var) + e * e / var + std::log(2 * M_PI)) + std::log(s);
  }
  CHECK(*evaluate(model, d, metric::nll(s)).metric == Approx(expect / 3).epsilon(1e-6));
  CHECK(evaluate(model, d, metric::automatic()).metric_name == "rmse");
  // The loss (full = false) drops the constant: NLL(scale 1) - loss = 0.5 log(2 pi).
  const auto r = evaluate(model, d, metric::nll());
  CHECK(*r.metric - r.loss == Approx(0.5 * std::log(2 * M_PI)).epsilon(1e-6));
}

TEST_CASE("Soft targets: class-index data through SoftCrossEntropy, with and without mixup", "[unit][train][fit][mixup]") {
  const auto train = data::spirals(60, 2, 0.05, 1);
  const auto val = data::spirals(20, 2, 0.05, 2);
  auto run_ce = [&] {
    SpiralModel m({.optimizer = {.lr = 1e-2}, .seed = 3});
    return fit(m, train, val, {.epochs = 3, .batch_size = 12});
  };
  Model<SpiralNet, loss::SoftCrossEntropy, optim::Adam> soft({.optimizer = {.lr = 1e-2}, .seed = 3});
  const auto a = run_ce();
  const auto b = fit(soft, train, val, {.epochs = 3, .batch_size = 12});
  REQUIRE(b.history.size() == 3);
  for (std::size_t e = 0; e < 3; ++e) {
    CHECK(b.history[e].train_loss == Approx(a.history[e].train_loss).epsilon(1e-5));
    CHECK(*b.history[e].val_loss == Approx(*a.history[e].val_loss).epsilon(1e-5));
    CHECK(*b.history[e].val_metric == *a.history[e].val_metric);
  }
  Model<SpiralNet, loss::SoftCrossEntropy, optim::Adam> mixed({.optimizer = {.lr = 1e-2}, .seed = 3});
  const auto c = fit(mixed, train, val, {.epochs = 3, .batch_size = 12, .mixup_alpha = 0.4});
  CHECK(c.history[0].train_loss != a.history[0].train_loss);  // mixed batches differ
  CHECK(std::isfinite(c.history.back().train_loss));
  SpiralModel hard;
  CHECK_THROWS_WITH(fit(hard, train, {.epochs = 1, .mixup_alpha = 0.4}), Catch::Contains("mixup needs soft targets"));
  CHECK_THROWS_WITH(fit(mixed, train, {.epochs = 1, .mixup_alpha = -1}), Catch::Contains("mixup_alpha"));
}

TEST_CASE("Augmentation in fit: images only, deterministic per seed", "[unit][train][fit][augment]") {
  using Img = Sequential<Input<1, 6, 6>, Flatten, Dense<2>>;
  Columns<float, 36> x(36, 40);
  Eigen::Matrix<float, 1, Eigen::Dynamic> y(1, 40);
  Rng rng(1);
  for (Eigen::Index j = 0; j < 40; ++j) {
    for (Eigen::Index i = 0; i < 36; ++i) x(i, j) = static_cast<float>(rng.uniform());
    y(0, j) = static_cast<float>(j % 2);
  }
  const Dataset<Shape<1, 6, 6>, Shape<1>> d(x, y);
  auto run = [&](std::uint64_t seed) {
    Model<Img, loss::CrossEntropy, optim::SGD> m({.optimizer = {.lr = 0.1}});
    fit(m, d, {.epochs = 2, .batch_size = 8, .seed = seed, .augment = augment::hflip() | augment::pad_crop(1)});
    return params_of(m);
  };
  CHECK(bit_identical(run(4), run(4)));
  CHECK(!bit_identical(run(4), run(5)));
  SpiralModel flat;
  CHECK_THROWS_WITH(fit(flat, data::spirals(10), {.epochs = 1, .augment = augment::hflip()}),
                    Catch::Contains("needs image inputs"));
}

TEST_CASE("A fit resumed from its state after 2 epochs ends bit-identical to 4 straight epochs",
          "[unit][train][fit][resume]") {
  using Net = Sequential<Input<2>, Dense<16>, ReLU, Dropout, Dense<2>>;
  using M = Model<Net, loss::CrossEntropy, optim::Adam, schedule::CosineAnnealing>;
  const auto train = data::spirals(80, 2, 0.05, 1);
  const auto val = data::spirals(20, 2, 0.05, 2);
  const M::Config config{.optimizer = {.lr = 1e-2}, .schedule = {.t_max = 4}, .seed = 9, .dropout = 0.2};
  const FitOptions base{.epochs = 4, .batch_size = 16, .seed = 3, .early_stopping = {.patience = 10}};

  M straight(config);
  const auto full = fit(straight, train, val, base);

  // Interrupted after 2 epochs: the hook keeps a copy of the model and the trainer state.
  std::optional<M> saved_model;
  FitState saved_state;
  {
    M first(config);
    FitOptions o = base;
    o.epochs = 2;
    o.checkpoint.save = [&](const FitState& s) {
      saved_model.emplace(first);
      saved_state = s;
    };
    fit(first, train, val, o);
  }
  REQUIRE(saved_state.epoch == 2);
  M resumed(config);
  FitOptions o = base;
  o.checkpoint.restore = [&](FitState& s) {
    resumed = *saved_model;
    s = saved_state;
    return true;
  };
  const auto rest = fit(resumed, train, val, o);
  CHECK(rest.resumed_after == 2);
  REQUIRE(rest.history.size() == 4);
  CHECK(bit_identical(params_of(straight), params_of(resumed)));
  for (std::size_t e = 0; e < 4; ++e) CHECK(rest.history[e].train_loss == full.history[e].train_loss);
}

TEST_CASE("History as CSV", "[unit][train][fit]") {
  History h(2);
  h[0] = {.epoch = 1, .train_loss = 0.5, .train_metric = 0.75, .lr = 0.1, .seconds = 1};
  h[1] = {.epoch = 2, .train_loss = 0.25, .val_loss = 0.3, .lr = 0.1, .seconds = 1};
  std::ostringstream o;
  write_csv(o, h, "accuracy");
  CHECK(o.str() ==
        "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,train_seconds\n"
        "1,0.5,0.75,,,0.1,1,0\n"
        "2,0.25,,0.3,,0.1,1,0\n");
}
