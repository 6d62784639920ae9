// Cross-entropy over a single logit is meaningless: BCEWithLogits is the loss for that.
// expect-error: cross-entropy needs at least 2 classes
#include <strata/strata.hpp>
using namespace strata;
using Net = Sequential<Input<4>, Dense<1>>;
int main() {
  Model<Net, loss::CrossEntropy, optim::SGD> model;
  (void)model;
}
