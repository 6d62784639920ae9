#include <catch2/catch.hpp>
#include <strata/strata.hpp>

#include <limits>

using namespace strata;

using Net = Sequential<Input<2>, Dense<4>, ReLU, Dense<1>>;

TEST_CASE("Optimizers reject bad hyperparameters with a clear error", "[unit][optim]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS((Model<Net, loss::MSE, optim::SGD>({.optimizer = {.lr = -0.1}})), option_error);
  CHECK_THROWS_WITH((Model<Net, loss::MSE, optim::SGD>({.optimizer = {.lr = nan}})),
                    Catch::Contains("learning rate must be finite"));
  CHECK_THROWS_AS((Model<Net, loss::MSE, optim::Adam>({.optimizer = {.beta1 = 1.0}})), option_error);
  CHECK_THROWS_AS((Model<Net, loss::MSE, optim::SGD>({.optimizer = {.lr = 0.1, .nesterov = true}})), option_error);
  CHECK_THROWS_AS((Model<Net, loss::MSE, optim::RMSprop>({.optimizer = {.eps = 0}})), option_error);
  using Classifier = Sequential<Input<2>, Dense<3>>;
  CHECK_THROWS_AS((Model<Classifier, loss::CrossEntropy, optim::SGD>({.loss = {.label_smoothing = 2}})), option_error);
  Model<Net, loss::MSE, optim::SGD> m;
  CHECK_THROWS_AS(m.set_lr(nan), option_error);
  CHECK_THROWS_AS(m.set_lr(-1), option_error);
  m.set_lr(0.5);
  CHECK(m.lr() == 0.5);
}

TEST_CASE("SGD and Adam first steps match hand-computed updates", "[unit][optim]") {
  // One parameter vector, gradient g: SGD p - lr g; Adam's first step is p - lr sign(g) (up to eps).
  const optim::SGD sgd{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.5};
  optim::SGD::State<double> s;
  sgd.init_state(s, 2);
  double p[2] = {1.0, -2.0};
  const double g[2] = {0.5, 0.25};
  sgd.begin_step(s);
  sgd.step(s, 0, p, g, 2, 0.1, 0.5);
  CHECK(p[0] == Approx(1.0 - 0.1 * (0.5 + 0.5 * 1.0)));
  CHECK(p[1] == Approx(-2.0 - 0.1 * (0.25 + 0.5 * -2.0)));

  const optim::Adam adam{.lr = 0.01};
  optim::Adam::State<double> a;
  adam.init_state(a, 2);
  double q[2] = {1.0, -2.0};
  adam.begin_step(a);
  adam.step(a, 0, q, g, 2, 0.01, 0.0);
  CHECK(q[0] == Approx(1.0 - 0.01).epsilon(1e-6));
  CHECK(q[1] == Approx(-2.0 - 0.01).epsilon(1e-6));
}

TEST_CASE("Gradient clipping scales to the global norm", "[unit][optim]") {
  std::vector<double> g = {3.0, 4.0};
  const double norm = optim::clip_grad_norm(std::span<double>(g), 1.0);
  CHECK(norm == Approx(5.0));
  CHECK(g[0] == Approx(0.6).epsilon(1e-5));
  CHECK(g[1] == Approx(0.8).epsilon(1e-5));
  std::vector<double> small = {0.1, 0.1};
  optim::clip_grad_norm(std::span<double>(small), 1.0);
  CHECK(small[0] == 0.1);
}

TEST_CASE("decay_biases = false leaves biases out of weight decay", "[unit][optim]") {
  using Lin = Sequential<Input<1>, Dense<1>>;
  // Zero gradients (target = output) isolate the weight-decay part of the update.
  Model<Lin, loss::MSE, optim::SGD> m({.optimizer = {.lr = 0.5, .weight_decay = 0.1}, .decay_biases = false});
  auto p = m.network().parameters();
  p[0] = 2.0f;
  p[1] = 3.0f;
  Eigen::Matrix<float, 1, 1> x, y;
  x << 0.0f;
  y << 3.0f;  // out = 2 * 0 + 3 = 3 -> zero loss gradient
  m.train_step(x, y);
  CHECK(p[0] == Approx(2.0f - 0.5f * 0.1f * 2.0f));
  CHECK(p[1] == 3.0f);
}
