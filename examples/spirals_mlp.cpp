// Trains an MLP on 2-D spirals and prints its accuracy.
#include <strata/strata.hpp>

#include <iostream>

using namespace strata;

using SpiralNet = Sequential<Input<2>, Dense<32>, Tanh, Dense<32>, Tanh, Dense<2>>;
static_assert(SpiralNet::parameter_count == 2 * 32 + 32 + 32 * 32 + 32 + 32 * 2 + 2);

int main() {
  auto train = data::spirals(500, 2, 0.02, /*seed=*/1);
  Model<SpiralNet, loss::CrossEntropy, optim::Adam> model({.optimizer = {.lr = 1e-2}, .seed = 0});
  std::cout << SpiralNet::summary();
  auto result = fit(model, train, {.epochs = 100, .batch_size = 32, .seed = 0});
  if (result.diverged()) {
    std::cerr << result.message << "\n";
    return 1;
  }
  auto e = evaluate(model, train);
  std::cout << "train loss " << e.loss << ", accuracy " << *e.accuracy * 100 << "%\n";
}
