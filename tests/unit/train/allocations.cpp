// Counts heap allocations made during training steps: after the first step of a given
// batch size, a step must allocate nothing.
#include <catch2/catch.hpp>
#include <strata/strata.hpp>

#include "support/counting_new.hpp"

using namespace strata;
using strata::testing::allocations_in_steps;

TEST_CASE("A training step allocates nothing after the first of its batch size", "[unit][train][allocations]") {
  using Small = Sequential<Input<2>, Dense<16>, ReLU, Dense<16>, ReLU, Dense<1>>;
  Model<Small, loss::MSE, optim::Adam> small;
  CHECK(allocations_in_steps(small, 10, 20) == 0);

  using Mnist = Sequential<Input<784>, Dense<100>, ReLU, Dense<50>, ReLU, Dense<10>>;
  Model<Mnist, loss::CrossEntropy, optim::SGD> mnist({.optimizer = {.lr = 0.01, .momentum = 0.9}});
  CHECK(allocations_in_steps(mnist, 50, 5) == 0);
}
