#include <catch2/catch.hpp>
#include <strata/strata.hpp>

#include <limits>
#include <sstream>

using namespace strata;

using SpiralNet = Sequential<Input<2>, Dense<32>, Tanh, Dense<32>, Tanh, Dense<2>>;

TEST_CASE("An MLP reaches 99% training accuracy on 2-D spirals with Adam", "[unit][train][convergence]") {
  const auto train = data::spirals(500, 2, 0.02, 1);
  Model<SpiralNet, loss::CrossEntropy, optim::Adam> model({.optimizer = {.lr = 1e-2}, .seed = 0});
  const auto result = fit(model, train, {.epochs = 100, .batch_size = 32, .seed = 0});
  REQUIRE(!result.diverged());
  REQUIRE(result.history.size() == 100);
  CHECK(result.history.back().train_loss < result.history.front().train_loss);
  const auto e = evaluate(model, train);
  INFO("train accuracy " << *e.accuracy);
  CHECK(*e.accuracy >= 0.99);
}

TEST_CASE("Same seed and thread count give bit-identical parameters after training", "[unit][train][determinism]") {
  const auto train = data::spirals(200, 2, 0.05, 2);
  auto run = [&] {
    Model<SpiralNet, loss::CrossEntropy, optim::Adam> model({.optimizer = {.lr = 1e-2}, .seed = 11});
    fit(model, train, {.epochs = 5, .batch_size = 16, .seed = 5});
    const auto p = model.network().parameters();
    return std::vector<float>(p.begin(), p.end());
  };
  const auto a = run();
  const auto b = run();
  REQUIRE(a.size() == b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

TEST_CASE("A NaN loss stops fit with a diverged status naming the step", "[unit][train][divergence]") {
  using Net = Sequential<Input<2>, Dense<16>, ReLU, Dense<1>>;
  auto train = data::spirals(50, 2, 0.05, 3);
  Dataset<Shape<2>, Shape<1>> reg(train.x, train.y);
  reg.y(0, 7) = std::numeric_limits<float>::quiet_NaN();  // a poisoned target
  Model<Net, loss::MSE, optim::SGD> model({.optimizer = {.lr = 0.01}});
  std::ostringstream log;
  const auto r = fit(model, reg, {.epochs = 3, .batch_size = 10, .shuffle = false, .log = &log});
  CHECK(r.diverged());
  CHECK(r.diverged_epoch == 1);
  CHECK(r.diverged_step == 1);  // sample 7 is in the first batch of 10
  CHECK(r.message.find("diverged") != std::string::npos);
  CHECK(r.message.find("step 1") != std::string::npos);
  CHECK(log.str().find("diverged") != std::string::npos);
  for (float p : model.network().parameters()) CHECK(std::isfinite(p));
}

TEST_CASE("A huge learning rate diverges to a reported step without a crash", "[unit][train][divergence]") {
  using Net = Sequential<Input<2>, Dense<16>, ReLU, Dense<1>>;
  const auto s = data::spirals(100, 2, 0.05, 3);
  Dataset<Shape<2>, Shape<1>> reg(s.x, (s.y.array() * 1e3f).matrix());
  Model<Net, loss::MSE, optim::SGD> model({.optimizer = {.lr = 10.0}});
  const auto r = fit(model, reg, {.epochs = 50, .batch_size = 10});
  CHECK(r.diverged());
  CHECK(r.diverged_step >= 1);
  CHECK(r.history.size() == r.diverged_epoch - 1);
}

TEST_CASE("Bad runtime input gets a clear strata::error", "[unit][train][errors]") {
  const auto train = data::spirals(20, 2, 0.05, 1);
  Model<SpiralNet, loss::CrossEntropy, optim::Adam> model;
  CHECK_THROWS_WITH(fit(model, train, {.batch_size = 0}), Catch::Contains("batch_size must be > 0"));
  Eigen::MatrixXf x3 = Eigen::MatrixXf::Zero(3, 4);
  Eigen::MatrixXf y1 = Eigen::MatrixXf::Zero(1, 4);
  CHECK_THROWS_AS(model.train_step(x3, y1), shape_error);
  Eigen::MatrixXf x2 = Eigen::MatrixXf::Zero(2, 4);
  Eigen::MatrixXf y2 = Eigen::MatrixXf::Zero(2, 4);
  CHECK_THROWS_WITH(model.train_step(x2, y2), Catch::Contains("needs 1"));
  Eigen::MatrixXf y_bad = Eigen::MatrixXf::Constant(1, 4, 5.0f);
  CHECK_THROWS_WITH(model.train_step(x2, y_bad), Catch::Contains("not a class index in [0, 2)"));
  Eigen::MatrixXf empty(2, 0);
  Eigen::MatrixXf empty_y(1, 0);
  CHECK_THROWS_AS(model.train_step(empty, empty_y), option_error);
  Eigen::MatrixXf wide = Eigen::MatrixXf::Zero(4, 4);
  CHECK_THROWS_WITH(model.train_step(wide.topRows(2), y1), Catch::Contains("contiguous"));
}

TEST_CASE("Schedules step per batch when asked", "[unit][train]") {
  using Net = Sequential<Input<2>, Dense<2>>;
  const auto train = data::spirals(10, 2, 0.05, 1);  // 20 samples
  Model<Net, loss::CrossEntropy, optim::SGD, schedule::Exponential> m(
      {.optimizer = {.lr = 1.0}, .schedule = {.gamma = 0.5}});
  const auto r = fit(m, train, {.epochs = 2, .batch_size = 5, .schedule_step = ScheduleStep::per_batch});
  REQUIRE(r.history.size() == 2);
  CHECK(r.history[1].lr == Approx(std::pow(0.5, 4)));
  CHECK(m.schedule_steps() == 8);
}

TEST_CASE("predict and evaluate agree and run in eval mode", "[unit][train]") {
  const auto train = data::spirals(30, 2, 0.05, 1);
  Model<SpiralNet, loss::CrossEntropy, optim::Adam> model;
  const auto out = model.predict(train.x, 7);
  REQUIRE(out.cols() == 60);
  std::size_t correct = 0;
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    Eigen::Index k;
    out.col(j).maxCoeff(&k);
    correct += (k == static_cast<Eigen::Index>(train.y(0, j)));
  }
  const auto e = model.evaluate(train.x, train.y, 9);
  CHECK(*e.accuracy == Approx(double(correct) / 60));
  CHECK(model.network().mode() == Mode::train);
}
