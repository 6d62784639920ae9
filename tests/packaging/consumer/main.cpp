#include <strata/strata.hpp>

#include <iostream>

using Net = strata::Sequential<strata::Input<2>, strata::Dense<4>, strata::ReLU, strata::Dense<1>>;
static_assert(Net::parameter_count == 17);

int main() {
  strata::Model<Net, strata::loss::MSE, strata::optim::SGD> model;
  Eigen::Matrix<float, 2, 3> x;
  x << 1, 2, 3, 4, 5, 6;
  Eigen::Matrix<float, 1, 3> y;
  y << 1, 0, 1;
  const auto r = model.train_step(x, y);
  std::cout << "consumer ok, loss " << r.loss << "\n";
  return r.finite ? 0 : 1;
}
