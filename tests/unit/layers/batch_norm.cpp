#include <catch2/catch.hpp>
#include <strata/strata.hpp>

#include <cmath>

using namespace strata;

TEST_CASE("BatchNorm normalises each channel over batch and positions", "[unit][layers][batch_norm]") {
  using Net = Sequential<Input<2, 3, 3>, BatchNorm>;
  STATIC_REQUIRE(Net::parameter_count == 4);
  STATIC_REQUIRE(Net::buffer_count == 5);
  Network<Net, double> net(0);
  Columns<double, 18> x = Columns<double, 18>::Random(18, 4) * 3.0;
  x.array() += 5.0;
  const auto y = net.forward(x);
  for (int c = 0; c < 2; ++c) {
    double s = 0, s2 = 0;
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 9; ++k) {
        const double v = y(c * 9 + k, j);
        s += v;
        s2 += v * v;
      }
    CHECK(s / 36 == Approx(0).margin(1e-12));
    CHECK(s2 / 36 == Approx(1).epsilon(1e-4));  // biased variance 1 up to eps
  }
  CHECK(net.buffers("0.num_batches_tracked")[0] == 1.0);
  CHECK(net.buffers("0.running_mean")[0] == Approx(0.1 * x.topRows(9).mean()));
}

TEST_CASE("BatchNorm running statistics follow PyTorch's update and are used in eval mode",
          "[unit][layers][batch_norm]") {
  using Net = Sequential<Input<3>, BatchNorm>;
  Network<Net, double> net(0);
  Columns<double, 3> x(3, 4);
  x << 1, 2, 3, 4,  //
      0, 0, 0, 8,   //
      -1, 1, -1, 1;
  net.forward(x);
  const auto rm = net.buffers("0.running_mean");
  const auto rv = net.buffers("0.running_var");
  CHECK(rm[0] == Approx(0.1 * 2.5));
  CHECK(rv[0] == Approx(0.9 + 0.1 * (5.0 / 3.0)));  // unbiased variance of 1..4 is 5/3
  CHECK(rv[1] == Approx(0.9 + 0.1 * 16.0));          // unbiased variance of 0,0,0,8 is 16
  net.set_mode(Mode::eval);
  const auto y = net.forward(x);
  CHECK(y(0, 0) == Approx((1 - rm[0]) / std::sqrt(rv[0] + 1e-5)));
  // Eval mode leaves the running statistics alone.
  CHECK(net.buffers("0.num_batches_tracked")[0] == 1.0);
}

TEST_CASE("BatchNorm in train mode rejects a single value per channel", "[unit][layers][batch_norm]") {
  using Net = Sequential<Input<3>, BatchNorm>;
  Network<Net> net(0);
  Columns<float, 3> x = Columns<float, 3>::Ones(3, 1);
  CHECK_THROWS_WITH(net.forward(x), Catch::Contains("more than one value per channel"));
  net.set_mode(Mode::eval);
  CHECK_NOTHROW(net.forward(x));
}
