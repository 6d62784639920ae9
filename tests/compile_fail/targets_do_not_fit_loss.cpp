// Cross-entropy takes one class index per sample; a data set with 3-row targets does not fit.
// expect-error: the targets do not fit the loss
#include <strata/strata.hpp>
using namespace strata;
using Net = Sequential<Input<4>, Dense<3>>;
int main() {
  Model<Net, loss::CrossEntropy, optim::SGD> model;
  Dataset<Shape<4>, Shape<3>> data(Eigen::MatrixXf::Zero(4, 8), Eigen::MatrixXf::Zero(3, 8));
  fit(model, data, {.epochs = 1});
}
