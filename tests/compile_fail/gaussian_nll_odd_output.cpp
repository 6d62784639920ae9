// Gaussian NLL needs K means and K log-variances: an odd output cannot fit.
// expect-error: GaussianNLL needs a flat output with an even number of features
#include <strata/strata.hpp>
using namespace strata;
using Net = Sequential<Input<4>, Dense<8>, ReLU, Dense<3>>;
int main() {
  Model<Net, loss::GaussianNLL, optim::Adam> model;
  (void)model;
}
