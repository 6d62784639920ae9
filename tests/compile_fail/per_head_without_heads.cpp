// loss::PerHead on a network without a Heads layer.
// expect-error: loss::PerHead needs a network that ends in Heads
#include <strata/strata.hpp>
using namespace strata;
using Net = Sequential<Input<4>, Dense<3>>;
int main() {
  Model<Net, loss::PerHead<loss::CrossEntropy, loss::MSE>, optim::SGD> model;
  (void)model;
}
