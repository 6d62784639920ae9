// Finite-difference checks of BatchNorm over features and over channels, in train mode
// (batch statistics depend on the input) and in eval mode (running statistics are constants).
#include <catch2/catch.hpp>

#include "gradcheck/gradcheck.hpp"

using namespace strata;
using namespace strata::gradcheck;

namespace {

template <class Net>
Result check_mode(std::size_t batch, std::uint64_t seed, Mode mode) {
  Network<Net, double> net(seed);
  // Non-trivial affine parameters and running statistics.
  Rng r(seed + 17);
  for (double& p : net.parameters()) p = r.uniform(-1.5, 1.5);
  const auto x = normal_batch<Net::InputShape::size>(batch, seed + 1000, 2.0);
  for (int i = 0; i < 3; ++i) net.forward(x.data(), batch);
  net.set_mode(mode);
  const LinearFunctional<Net::OutputShape::size> f(batch, seed * 7919 + 1);
  return check_network(net, x, f);
}

}  // namespace

TEST_CASE("BatchNorm over features: gradients in train and eval mode", "[gradcheck][batch_norm]") {
  // A Tanh between Dense and BatchNorm: directly before it, a dense bias would have an
  // identically zero gradient in train mode (the batch mean removes it), which a relative
  // finite-difference metric cannot judge.
  using Net = Sequential<Input<5>, Dense<7>, Tanh, BatchNorm, Sigmoid, Dense<3>>;
  for (std::size_t batch : {2, 9, 40}) {
    REQUIRE_GRADCHECK("batch_norm", check_mode<Net>(batch, batch, Mode::train));
    REQUIRE_GRADCHECK("batch_norm", check_mode<Net>(batch, batch + 1, Mode::eval));
  }
}

TEST_CASE("BatchNorm over channels: gradients in train and eval mode", "[gradcheck][batch_norm]") {
  using Net = Sequential<Input<3, 4, 5>, BatchNorm, Flatten, Dense<4>>;
  using Wide = Sequential<Input<2, 1, 3>, BatchNormWith<0.3, 1e-3>, Flatten, Sigmoid, Dense<2>>;
  for (std::size_t batch : {1, 3, 8}) {
    REQUIRE_GRADCHECK("batch_norm", check_mode<Net>(batch, 10 + batch, Mode::train));
    REQUIRE_GRADCHECK("batch_norm", check_mode<Net>(batch, 20 + batch, Mode::eval));
  }
  REQUIRE_GRADCHECK("batch_norm", check_mode<Wide>(4, 5, Mode::train));
}

TEST_CASE("Dropout is the identity in eval mode, gradients included", "[gradcheck][dropout]") {
  using Net = Sequential<Input<6>, Dense<5>, Dropout, Tanh, Dense<2>>;
  Network<Net, double> net(3);
  net.set_dropout_rate(0.5);
  net.set_mode(Mode::eval);
  const auto x = normal_batch<6>(7, 4);
  const LinearFunctional<2> f(7, 5);
  REQUIRE_GRADCHECK("dropout", check_network(net, x, f));
}
