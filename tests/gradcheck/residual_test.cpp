// Finite-difference checks of residual blocks: identity shortcut, dense projection and
// (with convolutions) the 1x1-conv + BatchNorm projection of a ResNet basic block.
#include <catch2/catch.hpp>

#include "gradcheck/gradcheck.hpp"

using namespace strata;
using namespace strata::gradcheck;

namespace {

template <class Net>
Result check(std::size_t batch, std::uint64_t seed, Mode mode = Mode::train) {
  Network<Net, double> net(seed);
  Rng r(seed + 3);
  for (double& p : net.parameters()) p += r.uniform(-0.3, 0.3);  // BN affine away from (1, 0)
  const auto x = normal_batch<Net::InputShape::size>(batch, seed + 1000);
  if (mode == Mode::eval) {
    for (int i = 0; i < 2; ++i) net.forward(x.data(), batch);
    net.set_mode(Mode::eval);
  }
  const LinearFunctional<Net::OutputShape::size> f(batch, seed * 31 + 7);
  return check_network(net, x, f);
}

/// In train mode a bias directly followed by BatchNorm has an identically zero gradient
/// (the batch mean removes it); analytic and numeric values are then both round-off and a
/// relative metric cannot judge them. Those tensors must be zero to 1e-9 instead.
bool passed_with_zero_tensors(const Result& r) {
  if (!r.repeatable || r.tensors.empty()) return false;
  for (const auto& t : r.tensors) {
    const bool zero = t.analytic_norm < 1e-9 && t.numeric_norm < 1e-9;
    if (!zero && !(t.norm_rel <= kTolerance && t.elem_rel <= kTolerance)) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("Residual block with an identity shortcut", "[gradcheck][residual]") {
  using Net = Sequential<Input<5>, Residual<Dense<5>, Tanh, Dense<5>>, Sigmoid, Dense<3>>;
  for (std::size_t b : {1, 6, 40}) REQUIRE_GRADCHECK("residual", check<Net>(b, b));
}

TEST_CASE("Residual block with a dense projection and batch norm in the body", "[gradcheck][residual]") {
  using Net = Sequential<Input<6>, Residual<Dense<4>, Tanh, BatchNorm>, Tanh, Dense<2>>;
  REQUIRE_GRADCHECK("residual", check<Net>(7, 1));
  REQUIRE_GRADCHECK("residual", check<Net>(7, 2, Mode::eval));
}

TEST_CASE("Nested residual blocks", "[gradcheck][residual]") {
  using Net = Sequential<Input<4>, Residual<Dense<4>, Tanh, Residual<Dense<4>, Sigmoid, Dense<4>>>, Dense<2>>;
  STATIC_REQUIRE(Net::segments.size() == 8);
  CHECK(Net::segments[4].name() == "0.body.2.body.2.weight");
  REQUIRE_GRADCHECK("residual", check<Net>(5, 3));
}

TEST_CASE("ResNet basic block with a strided 1x1-conv + BatchNorm projection", "[gradcheck][residual]") {
  using Block = Residual<Conv2D<4, 3, 2, 1>, BatchNorm, Tanh, Conv2D<4, 3, 1, 1>, BatchNorm>;
  using Net = Sequential<Input<2, 5, 5>, Block, Tanh, Flatten, Dense<3>>;
  STATIC_REQUIRE(std::is_same_v<Net::Layer<0>::OutputShape, Shape<4, 3, 3>>);
  const Result train = check<Net>(3, 4);
  INFO(train.describe());
  REQUIRE(passed_with_zero_tensors(train));
  REQUIRE_GRADCHECK("residual", check<Net>(3, 5, Mode::eval));
  using Same = Sequential<Input<3, 4, 4>, Residual<Conv2D<3, 3, 1, same_padding>, Tanh, Conv2D<3, 3, 1, 1>>, Flatten,
                          Dense<2>>;
  REQUIRE_GRADCHECK("residual", check<Same>(2, 6));
}
